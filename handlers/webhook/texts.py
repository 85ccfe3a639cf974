"""The words webhook (SMS/WhatsApp) customers read: short plain text, no Slack, no email terms.

Agent replies reuse the email wording; the automatic messages are shorter versions of the
email templates, since "reply to this email" and subject tags mean nothing in an SMS.
"""

from __future__ import annotations

from handlers.email.templates import agent_reply

__all__ = ["acknowledgement", "agent_reply", "reminder", "resolution"]


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
