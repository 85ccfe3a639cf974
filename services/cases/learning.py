"""Keeping the local triage model fitted on what agents taught it, in the background."""

from __future__ import annotations

import asyncio
import logging

from services.cases.context import CaseContext
from services.triage.learning import learnt
from storage.triage_queries import examples_signature

log = logging.getLogger(__name__)


class Learning:
    """One refit at a time; a refit asked for during one runs once more after it."""

    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx
        self._refit: asyncio.Task[None] | None = None
        self._refit_again = False
        self._learnt_signature: tuple[int, int] | None = None  # what the model was fitted on

    def learn(self) -> None:
        """Refit the local model on everything stored, in the background (one at a time)."""
        if self._ctx.triage is None:
            return
        if self._refit is not None and not self._refit.done():
            self._refit_again = True
            return
        self._refit = asyncio.create_task(self._refit_loop(), name="triage-refit")

    async def mark_learnt(self) -> None:
        """Remember what the model was just fitted on (call right after triage starts)."""
        async with self._ctx.sessions() as session:
            self._learnt_signature = await examples_signature(session)

    async def refresh(self) -> int:
        """A sweep: refit when examples were added elsewhere (another process, the CLI).

        Returns 1 when a refit was started, for the scheduler's log.
        """
        triage = self._ctx.triage
        if triage is None or triage.dimension is None:
            return 0
        async with self._ctx.sessions() as session:
            signature = await examples_signature(session)
        if signature == self._learnt_signature:
            return 0
        self.learn()
        return 1

    async def learnt(self) -> None:
        """Wait for the refit in progress, if any (tests and the CLI)."""
        if self._refit is not None:
            await self._refit

    async def stop(self) -> None:
        """Stop a refit in progress (the fit's thread is left to finish): it holds a database
        session, which must be back in the pool before the engine is disposed."""
        if self._refit is not None and not self._refit.done():
            self._refit.cancel()
            await asyncio.gather(self._refit, return_exceptions=True)

    async def _refit_loop(self) -> None:
        triager = self._ctx.triage
        assert triager is not None
        while True:
            self._refit_again = False
            try:
                dimension = triager.dimension
                if dimension:
                    async with self._ctx.sessions() as session:
                        signature = await examples_signature(session)
                    await triager.refit(await learnt(self._ctx.sessions, dimension))
                    self._learnt_signature = signature
            except Exception:  # the previous model keeps answering
                log.exception("triage refit failed; the previous model stays")
            if not self._refit_again:
                return
