"""Where each case's card is, and the audit records edges write about what they saw."""

from __future__ import annotations

from datetime import datetime

from services.audit import audit
from services.cases.context import CaseContext, load


class CaseCards:
    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx

    async def attempt(self, case_id: int) -> datetime | None:
        """Note that the card is about to be posted; returns when an earlier attempt began.

        Posting and recording the card's ts cannot be one transaction, so a crash between
        them leaves a posted card the database does not know. A retry that finds an earlier
        attempt looks for that card in Slack before posting another.
        """
        async with self._ctx.sessions() as session, session.begin():
            case = await load(session, case_id)
            earlier = case.card_attempted_at
            if earlier is None:
                case.card_attempted_at = self._ctx.clock()
            return earlier

    async def record(
        self,
        case_id: int,
        *,
        channel: str,
        ts: str,
        moved_from: tuple[str, str] | None = None,
    ) -> None:
        """Remember where the case's card was posted (or moved to, from `moved_from`'s
        channel and ts), so later changes update it in place."""
        async with self._ctx.sessions() as session, session.begin():
            case = await load(session, case_id)
            case.card_channel, case.card_ts = channel, ts
            if moved_from is None:
                audit(session, case.number, "card.posted", "casebot", channel=channel, ts=ts)
            else:
                old_channel, old_ts = moved_from
                audit(
                    session,
                    case.number,
                    "card.moved",
                    "casebot",
                    channel=channel,
                    ts=ts,
                    from_channel=old_channel,
                    from_ts=old_ts,
                )
