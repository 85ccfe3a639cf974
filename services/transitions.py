"""The one table of case state transitions."""

from __future__ import annotations

from enum import StrEnum

from services.errors import InvalidTransition
from storage.models import CaseStatus

OPEN, ASSIGNED, RESOLVED, CLOSED = (
    CaseStatus.OPEN,
    CaseStatus.ASSIGNED,
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
)


class Action(StrEnum):
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_REPLY = "agent_reply"
    NOTE = "note"
    CLAIM = "claim"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    CLOSE = "close"
    RECATEGORISE = "recategorise"  # an agent corrects the request type


A = Action


def next_status(case_id: int, status: CaseStatus, action: Action, *, assigned: bool) -> CaseStatus:
    """The status after `action`, or InvalidTransition. Closed is final."""
    match (status, action):
        case (CaseStatus.OPEN | CaseStatus.ASSIGNED, A.CUSTOMER_MESSAGE | A.AGENT_REPLY | A.NOTE):
            return status
        case (CaseStatus.OPEN | CaseStatus.ASSIGNED, A.ESCALATE):
            return status
        case (CaseStatus.OPEN | CaseStatus.ASSIGNED, A.CLAIM | A.ASSIGN):
            return ASSIGNED
        case (CaseStatus.OPEN | CaseStatus.ASSIGNED, A.RESOLVE):
            return RESOLVED
        case (CaseStatus.RESOLVED, A.CUSTOMER_MESSAGE | A.REOPEN):
            return ASSIGNED if assigned else OPEN
        case (CaseStatus.RESOLVED, A.AGENT_REPLY | A.NOTE):
            return RESOLVED
        case (CaseStatus.OPEN | CaseStatus.ASSIGNED | CaseStatus.RESOLVED, A.CLOSE):
            return CLOSED
        case (CaseStatus.OPEN | CaseStatus.ASSIGNED | CaseStatus.RESOLVED, A.RECATEGORISE):
            return status
        case _:
            raise InvalidTransition(case_id, status.value, action.value)


def allowed(status: CaseStatus, action: Action) -> bool:
    """Whether `action` is possible from `status` (the card shows only these buttons)."""
    try:
        next_status(0, status, action, assigned=False)
    except InvalidTransition:
        return False
    return True
