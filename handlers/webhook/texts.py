"""The words webhook (SMS/WhatsApp) customers read: short plain text, no Slack, no email terms.

The automatic messages are shorter than the email ones, since "reply to this email" and
subject tags mean nothing in an SMS. Each channel keeps its own wording (no edge imports
another), so a change to the emails never changes what a phone shows.
"""

from __future__ import annotations


def acknowledgement(number: int) -> str:
    return (
        f"Case #{number} opened. Thanks for contacting us: an agent will answer here. "
        "To add details, simply reply to this message."
    )


def resolution(number: int) -> str:
    return (
        f"Case #{number} has been resolved. If something is still not right, "
        "reply to this message and we will pick it up again."
    )


def reminder(number: int) -> str:
    return (
        f"We have not forgotten case #{number}: it is still open and an agent is working "
        "on it. If there is anything to add, simply reply to this message."
    )


def agent_reply(text: str, signature: str) -> str:
    return f"{text.strip()}\n\n{signature}"


def nudge(number: int) -> str:
    return (
        f"About case #{number}: we asked you something and need your answer to go on. "
        "Simply reply to this message."
    )
