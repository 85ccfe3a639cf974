"""The transition table: every (status, action) pair is either a defined move or an error."""

from __future__ import annotations

import pytest

from services.errors import InvalidTransition
from services.transitions import Action, allowed, next_status
from storage.models import CaseStatus

OP, AS, R, C = CaseStatus.OPEN, CaseStatus.ASSIGNED, CaseStatus.RESOLVED, CaseStatus.CLOSED
A = Action

EXPECTED: dict[tuple[CaseStatus, Action], CaseStatus] = {
    (OP, A.CUSTOMER_MESSAGE): OP, (OP, A.AGENT_REPLY): OP, (OP, A.NOTE): OP, (OP, A.ESCALATE): OP,
    (OP, A.CLAIM): AS, (OP, A.ASSIGN): AS, (OP, A.RESOLVE): R, (OP, A.CLOSE): C,
    (AS, A.CUSTOMER_MESSAGE): AS, (AS, A.AGENT_REPLY): AS, (AS, A.NOTE): AS, (AS, A.ESCALATE): AS,
    (AS, A.CLAIM): AS, (AS, A.ASSIGN): AS, (AS, A.RESOLVE): R, (AS, A.CLOSE): C,
    (R, A.CUSTOMER_MESSAGE): OP, (R, A.REOPEN): OP, (R, A.AGENT_REPLY): R, (R, A.NOTE): R,
    (R, A.CLOSE): C,
    (OP, A.RECATEGORISE): OP, (AS, A.RECATEGORISE): AS, (R, A.RECATEGORISE): R,
}  # fmt: skip


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("action", list(Action))
def test_table(status: CaseStatus, action: Action) -> None:
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(InvalidTransition) as error:
            next_status(7, status, action, assigned=False)
        assert "#7" in str(error.value)
        assert not allowed(status, action)
    else:
        assert next_status(7, status, action, assigned=False) == expected
        assert allowed(status, action)


def test_closed_is_final() -> None:
    assert not any(allowed(C, action) for action in Action)


def test_reopening_an_assigned_case_keeps_it_assigned() -> None:
    assert next_status(1, R, A.REOPEN, assigned=True) == AS
    assert next_status(1, R, A.CUSTOMER_MESSAGE, assigned=True) == AS
