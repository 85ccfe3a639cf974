"""Block Kit and slash-command identifiers, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CLAIM = "case_claim"
    RESOLVE = "case_resolve"
    ESCALATE = "case_escalate"
    CLOSE = "case_close"
    REOPEN = "case_reopen"
    SET_TYPE = "case_set_type"  # the request-type select: an agent's correction
    UNDO_REPLY = "reply_undo"  # withdraw an agent's reply in its undo window
    MORE = "case_more"  # the card's ⋯ menu: Summarize, History
    SUGGEST = "case_suggest"  # the card's Suggest reply button: a modal with a draft


SUGGEST_VIEW = "suggest_reply"  # the Suggest-reply modal's callback_id


class Command(StrEnum):
    CASE = "/case"
    QUEUE = "/queue"


# Message metadata on every case card: names its case (and the outbox row that posted it),
# so a retry after a crash finds the card it already posted instead of posting another.
CARD_EVENT = "casebot_case_card"
# ... on the copy of a moved card's thread under its new card, so a retried move copies once.
CARD_HISTORY_EVENT = "casebot_card_history"
# ... and on the pointer a moved card leaves behind, so a reply under it is told where to go.
CARD_MOVED_EVENT = "casebot_card_moved"
# ... and on every post to a customer, naming its outbox row, so a redelivery after a crash
# finds what was said already.
CUSTOMER_EVENT = "casebot_customer_post"
# ... and on every alert and log line, for the same reason.
TEAM_EVENT = "casebot_team_post"


def actions_block_id(number: int) -> str:
    """The card's buttons' block: one per case, stable across updates."""
    return f"case_actions_{number}"


def button_value(number: int) -> str:
    return str(number)


def read_button(value: object) -> int | None:
    """A button's case number, or None when the value is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() else None


def type_option(number: int, type_id: str) -> str:
    """The request-type select's option: `<case number>:<request type>`."""
    return f"{number}:{type_id}"


SUMMARIZE, HISTORY = "summarize", "history"  # the card's ⋯ menu


def more_option(number: int, what: str) -> str:
    """An item of the card's ⋯ menu: `<summarize | history>:<case number>`."""
    return f"{what}:{number}"


def read_more(value: object) -> tuple[str, int] | None:
    """(item, case number) of a ⋯ menu choice, or None when the value is not one."""
    what, _, number = str(value or "").partition(":")
    return (what, int(number)) if what in (SUMMARIZE, HISTORY) and number.isdigit() else None


def read_type_option(value: object) -> tuple[int, str] | None:
    """(case number, request type) from an option, or None when it is not one."""
    number, _, type_id = str(value or "").partition(":")
    return (int(number), type_id) if number.isdigit() and type_id else None
