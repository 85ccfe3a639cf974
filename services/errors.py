"""Domain errors: each carries a sentence fit to show the person who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `str(error)` is safe to show to the user."""


class CaseNotFound(DomainError):
    def __init__(self, case_id: int) -> None:
        super().__init__(f"There is no case #{case_id}.")
        self.case_id = case_id


class InvalidTransition(DomainError):
    def __init__(self, case_id: int, status: str, action: str) -> None:
        super().__init__(f"Case #{case_id} is {status}: it cannot be {_past(action)}.")
        self.case_id = case_id
        self.status = status
        self.action = action


# What a non-agent was refused, as a person would say it (keyed by transitions.Action).
REFUSALS = {
    "agent_reply": "Only support agents can reply to customers.",
    "note": "Only support agents can add notes to a case.",
    "claim": "Only support agents can claim a case.",
    "assign": "Only support agents can assign a case.",
    "resolve": "Only support agents can resolve a case.",
    "reopen": "Only support agents can reopen a case.",
    "escalate": "Only support agents can escalate a case.",
    "close": "Only support agents can close a case.",
    "recategorise": "Only support agents can change a case's request type.",
}


class NotAllowed(DomainError):
    def __init__(self, action: str) -> None:
        super().__init__(REFUSALS.get(action, "Only support agents can do that."))
        self.action = action


def _past(action: str) -> str:
    return {
        "customer_message": "continued by a customer message",
        "agent_reply": "answered",
        "note": "annotated",
        "claim": "claimed",
        "assign": "assigned",
        "resolve": "resolved",
        "reopen": "reopened",
        "escalate": "escalated",
        "close": "closed",
        "recategorise": "recategorised",
    }.get(action, action)
