"""The words Slack customers read, in their own thread or DM (mrkdwn).

Each channel keeps its own wording (handlers/email/texts.py, handlers/webhook/texts.py); an
agent's name and words are written literally, so nothing in them pings anyone.
"""

from __future__ import annotations


def acknowledgement(number: int) -> str:
    return (
        f"Thanks for reaching out! We've opened *case #{number}* for you. "
        "An agent will reply here; just write in this thread to add details."
    )


def resolution(number: int) -> str:
    return (
        f"Case #{number} has been resolved. "
        "If something is still wrong, just reply here and we'll pick it up again."
    )


def nudge(number: int) -> str:
    return (
        f"About case #{number}: we asked you something above and are waiting for your "
        "answer to go on. Reply here when you can."
    )


def reminder(number: int) -> str:
    return (
        f"We haven't forgotten you: case #{number} is still open and "
        "an agent is on it. Reply here if there is anything to add."
    )
