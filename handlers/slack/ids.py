"""Block Kit and slash-command identifiers, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CLAIM = "case_claim"
    RESOLVE = "case_resolve"
    ESCALATE = "case_escalate"
    CLOSE = "case_close"
    REOPEN = "case_reopen"


class Command(StrEnum):
    CASE = "/case"
    QUEUE = "/queue"
