"""The case service: every change to a case, in one transaction with its audit and outbox rows.

Small services over one shared `CaseContext` (sessions, rules, clock, the transaction helper
and the agent check); every status change goes through `transition.transition`:

- `reads`: look-ups for rendering (`view`, `queue`, `find`, …);
- `intake`: customers' messages in (`ingest`);
- `agents`: what agents do (`message`, `claim`, `resolve`, `escalate`, `close`, …);
- `replies`: a reply in its undo window (`withdraw`, `edit`);
- `customer_edits`: a customer's message changed or deleted after it was stored;
- `ratings`: the customer's rating of a resolved case, and their comment;
- `triage`: corrections and re-triage; `learning`: the local model's refits;
- `cards`: where each card is;
- `summaries`: a case in a few lines, for agents; `suggestions`: a draft reply from similar
  resolved cases (services/assist).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.assist.claude import LlmSummariser
from services.assist.claude_draft import LlmDrafter
from services.assist.suggestions import ReplySuggestions, SuggestionLog
from services.assist.summaries import CaseSummaries, no_vectors
from services.audit import audit
from services.cases.agents import AgentActions
from services.cases.cards import CaseCards
from services.cases.context import CaseContext
from services.cases.customer_edits import CustomerEdits
from services.cases.intake import CaseIntake, subject_of
from services.cases.learning import Learning
from services.cases.ratings import CaseRatings
from services.cases.reads import CaseReads
from services.cases.replies import ReplyWindow
from services.cases.triage import CORRECTION, CaseTriage, TriageOff
from services.rules import RulesConfig
from services.storms import StormConfig
from services.triage.catalog import Catalog
from services.triage.service import Triager
from storage.engine import SessionFactory
from storage.models import utcnow

__all__ = ["CORRECTION", "CaseContext", "CaseService", "TriageOff", "subject_of"]


class CaseService:
    """The case service's parts, built over one context."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        rules: RulesConfig,
        clock: Callable[[], datetime] = utcnow,
        notify: Callable[[], None] = lambda: None,
        triage: Triager | None = None,
        storms: StormConfig | None = None,
        sync_tickets: bool = False,
        read_sessions: SessionFactory | None = None,
    ) -> None:
        self.context = CaseContext(
            sessions, rules, clock, notify, triage, storms, sync_tickets, read_sessions
        )
        self.reads = CaseReads(self.context)
        self.intake = CaseIntake(self.context)
        self.agents = AgentActions(self.context)
        self.replies = ReplyWindow(self.context)
        self.customer_edits = CustomerEdits(self.context)
        self.ratings = CaseRatings(self.context)
        self.learning = Learning(self.context)
        self.triage = CaseTriage(self.context, self.learning)
        self.cards = CaseCards(self.context)
        llm = triage.llm if triage is not None else None
        embed = triage.embed if triage is not None else no_vectors
        self.summaries = CaseSummaries(
            sessions,
            embed=embed,
            llm=LlmSummariser(llm.transport, llm.breaker) if llm is not None else None,
        )
        self.suggestions = ReplySuggestions(
            sessions,
            embed=embed,
            llm=LlmDrafter(llm.transport, llm.breaker) if llm is not None else None,
        )
        self.suggestion_log = SuggestionLog(sessions)

    @property
    def catalog(self) -> Catalog | None:
        """The service catalog, when triage is on (cards offer its request types)."""
        return self.triage.catalog

    async def record(self, case_id: int | None, event: str, actor: str, **data: object) -> None:
        """An audit record of something an edge refused or noticed (e.g. a forged sender)."""
        async with self.context.sessions() as session, session.begin():
            audit(session, case_id, event, actor, **data)
