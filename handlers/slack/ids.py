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


class Command(StrEnum):
    CASE = "/case"
    QUEUE = "/queue"
