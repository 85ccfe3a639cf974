"""Customer satisfaction: when a case is resolved its customer is asked once to rate it 1-5
(Slack buttons, or one-click links in the mail) and may add one comment. The rating and
comment go to the card's thread; a low rating alerts the leads.

Who may rate is checked here: a Slack customer by their user id, a mail customer by the
case's unguessable link token. The first answer counts; a second click is told so.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.audit import audit
from services.cases.context import CaseContext
from services.errors import DomainError
from services.outbox import OutboxKind, enqueue
from services.types import Channel
from storage import queries
from storage.api_queries import number_by_public_id
from storage.models import Case, Customer, Rating

SCORES = range(1, 6)
LOW = 2  # this or less alerts the leads
COMMENT_MAX = 2000
# The channels whose customers can answer the question (a webhook has nowhere to click;
# a mail only when the links in it can reach the HTTP server).
ASKED_ON = frozenset({Channel.SLACK, Channel.EMAIL})


class NotYours(DomainError):
    """The click or link does not belong to the case's customer (forged, or forwarded)."""

    def __init__(self) -> None:
        super().__init__("This rating is not yours to give.")


class BadScore(DomainError):
    def __init__(self) -> None:
        super().__init__("A rating is a whole number from 1 to 5.")


@dataclass(frozen=True)
class RatingResult:
    case_number: int
    score: int | None
    comment: str | None
    already: bool = False  # this answer came after the first one, which counts


def stars(score: int) -> str:
    return "★" * score + "☆" * (5 - score)


async def ask(
    session: AsyncSession, case: Case, now: datetime, *, by_email: bool = True
) -> str | None:
    """In the resolving transaction: the link token to ask `case`'s customer with, written
    now; None when they were asked before (a case resolved twice is asked once) or their
    channel cannot answer (`by_email` False: mail has no links to answer with)."""
    asked_on = ASKED_ON if by_email else ASKED_ON - {Channel.EMAIL}
    if case.source not in asked_on or await session.get(Rating, case.number) is not None:
        return None
    rating = Rating(case_id=case.number, asked_at=now)
    session.add(rating)
    return rating.token


class CaseRatings:
    def __init__(self, ctx: CaseContext) -> None:
        self._ctx = ctx

    async def rate_from_slack(self, *, case_id: int, score: int, user_id: str) -> RatingResult:
        return await self._answer(case_id, score=score, slack_user=user_id)

    async def comment_from_slack(self, *, case_id: int, text: str, user_id: str) -> RatingResult:
        return await self._answer(case_id, comment=text, slack_user=user_id)

    async def rate_by_link(self, *, public_id: str, token: str, score: int) -> RatingResult:
        return await self._answer(await self._number(public_id), score=score, token=token)

    async def comment_by_link(self, *, public_id: str, token: str, text: str) -> RatingResult:
        return await self._answer(await self._number(public_id), comment=text, token=token)

    async def _number(self, public_id: str) -> int:
        async with self._ctx.sessions() as session:
            number = await number_by_public_id(session, public_id)
        if number is None:
            raise NotYours()
        return number

    async def _answer(
        self,
        case_id: int,
        *,
        score: int | None = None,
        comment: str | None = None,
        slack_user: str | None = None,
        token: str | None = None,
    ) -> RatingResult:
        if score is not None and score not in SCORES:
            raise BadScore()
        async with self._ctx.transaction() as session:
            case = await queries.get_case(session, case_id, lock=True)
            rating = await session.get(Rating, case_id) if case is not None else None
            if case is None or rating is None:
                raise NotYours()
            customer = await session.get(Customer, case.customer_id)
            if not _may_answer(rating, customer, slack_user, token):
                raise NotYours()
            if score is not None:
                return _score(session, case, rating, customer, score, self._ctx.clock())
            return _comment(session, case, rating, customer, comment or "")


def _score(
    session: AsyncSession,
    case: Case,
    rating: Rating,
    customer: Customer | None,
    score: int,
    now: datetime,
) -> RatingResult:
    if rating.score is not None:
        return RatingResult(case.number, rating.score, rating.comment, already=True)
    rating.score, rating.rated_at = score, now
    audit(session, case.number, "case.rated", _who(customer), score=score)
    if score <= LOW:
        enqueue(session, case, OutboxKind.RATING_ALERT, score=score)
    _to_card_thread(session, case, customer, f"{stars(score)} {score}/5")
    return RatingResult(case.number, score, rating.comment)


def _comment(
    session: AsyncSession, case: Case, rating: Rating, customer: Customer | None, comment: str
) -> RatingResult:
    """The one comment, after the rating; an empty one or a second one changes nothing."""
    text = comment.strip()[:COMMENT_MAX]
    if rating.comment is not None or rating.score is None or not text:
        return RatingResult(case.number, rating.score, rating.comment, already=True)
    rating.comment = text
    audit(session, case.number, "case.rating_commented", _who(customer), comment=text)
    if rating.score <= LOW:
        enqueue(session, case, OutboxKind.RATING_ALERT, score=rating.score, comment=text)
    _to_card_thread(session, case, customer, f"Comment on the rating: {text}")
    return RatingResult(case.number, rating.score, text)


def _to_card_thread(
    session: AsyncSession, case: Case, customer: Customer | None, text: str
) -> None:
    enqueue(session, case, OutboxKind.CASE_THREAD, text=text, author=_who(customer), role="rating")


def _may_answer(
    rating: Rating, customer: Customer | None, slack_user: str | None, token: str | None
) -> bool:
    if token is not None:
        return hmac.compare_digest(token.encode(), rating.token.encode())
    return customer is not None and slack_user is not None and customer.slack_user_id == slack_user


def _who(customer: Customer | None) -> str:
    return (customer.name if customer is not None else "") or "Customer"
