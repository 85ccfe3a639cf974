"""Audit trail: every state change, refusal and notification, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent


def audit(session: AsyncSession, case_id: int | None, event: str, actor: str, **data: Any) -> None:
    """Record `event` by `actor`; `data` must be JSON-serialisable."""
    session.add(AuditEvent(case_id=case_id, action=event, actor=actor, data=data))
