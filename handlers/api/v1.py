"""The native endpoints under `/api/v1`: thin handlers over the case service.

A case created here is a customer message with source `api`, and the customer is known by
`customer_id` the way the webhook channel knows its customers (customers.phone): the same id
on both is the same customer. Replies to API customers leave through the webhook's reply URL
(WEBHOOK_REPLY_URL); without one they reach no one, but agents still see everything in Slack.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from handlers.api.app import Api, Call, Handler, Reply, not_found
from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    AuditOut,
    CaseCreate,
    CaseCreated,
    CaseDetail,
    CaseOut,
    CasePage,
    Error,
    MessageOut,
    Page,
    Stats,
)
from services.api_reads import ApiReads
from services.cases import CaseService
from services.types import Channel, CustomerIdentity, InboundMessage
from storage.models import Case

PREFIX = "/api/v1"


class V1:
    """The handlers, holding the services they call."""

    def __init__(self, cases: CaseService, reads: ApiReads) -> None:
        self._cases = cases
        self._reads = reads

    async def create_case(self, call: Call) -> Reply:
        """A customer's message: opens a case (201) or continues their live one (200)."""
        body = await call.body(CaseCreate)
        customer_id = body.customer_id
        message_id = body.message_id or uuid.uuid4().hex
        result = await self._cases.intake.ingest(
            InboundMessage(
                source=Channel.API,
                external_id=f"{body.channel}:{customer_id}:{message_id}",
                body=body.message,
                customer=CustomerIdentity(name=customer_id, phone=customer_id),
                origin_channel=body.channel,
                subject=body.subject,
            )
        )
        out = CaseCreated(
            **CaseOut.of(result.case).model_dump(),
            created=result.created,
            duplicate=result.duplicate,
        )
        return Reply(201 if result.created else 200, out)

    async def get_case(self, call: Call) -> Reply:
        """A case with its messages and audit trail."""
        record = await self._reads.record(call.number())
        return Reply(
            200,
            CaseDetail(
                **CaseOut.of(record.case).model_dump(),
                customer_id=record.customer.phone,
                messages=[MessageOut.of(m) for m in call.visible(record.messages)],
                audit=[AuditOut.of(e) for e in record.audit],
            ),
        )

    async def customer_cases(self, call: Call) -> Reply:
        """A customer's cases, newest first."""
        limit, offset = call.page()
        customer_id = call.text("customer_id", limit=CUSTOMER_ID_CHARS)
        cases = await self._reads.customer_cases(customer_id, limit=limit, offset=offset)
        if cases is None:
            raise not_found(f"There is no customer {customer_id!r}.")
        return self._page(call, cases, limit, offset)

    async def queue(self, call: Call) -> Reply:
        """Active cases by priority."""
        limit, offset = call.page()
        return self._page(call, await self._reads.queue(limit=limit, offset=offset), limit, offset)

    async def claim_next(self, call: Call) -> Reply:
        """Claim the highest-priority unassigned case (204 when there is none)."""
        case = await self._cases.agents.claim_next(actor=call.actor)
        return Reply(204) if case is None else Reply(200, CaseOut.of(case))

    def act(self, verb: str) -> Handler:
        """`POST …/cases/{number}/<verb>`: one agent action (claim, resolve, escalate, close)."""
        action = getattr(self._cases.agents, verb)

        async def handle(call: Call) -> Reply:
            return Reply(200, CaseOut.of(await action(case_id=call.number(), actor=call.actor)))

        handle.__name__ = verb  # the operation id in the OpenAPI document
        return handle

    async def stats(self, _call: Call) -> Reply:
        stats = await self._reads.stats()
        first = stats.median_first_response
        return Reply(
            200,
            Stats(
                total=sum(stats.by_status.values()),
                by_status=stats.by_status,
                by_category=stats.by_category,
                escalated=stats.escalated,
                median_first_response_seconds=first.total_seconds() if first else None,
            ),
        )

    @staticmethod
    def _page(call: Call, cases: Sequence[Case], limit: int, offset: int) -> Reply:
        items = [CaseOut.of(c) for c in cases]
        return Reply(200, CasePage(items=items, next=call.next_link(offset, limit, len(items))))


def declare(api: Api, cases: CaseService, reads: ApiReads) -> None:
    """Declare the native routes on `api`."""
    v1 = V1(cases, reads)
    case = f"{PREFIX}/cases/{{number}}"
    api.route(
        "POST",
        f"{PREFIX}/cases",
        v1.create_case,
        body=CaseCreate,
        responses={201: CaseCreated, 200: CaseCreated},
    )
    api.route("GET", case, v1.get_case, responses={200: CaseDetail})
    api.route(
        "GET",
        f"{PREFIX}/customers/{{customer_id}}/cases",
        v1.customer_cases,
        query=Page,
        responses={200: CasePage},
    )
    api.route("GET", f"{PREFIX}/queue", v1.queue, query=Page, responses={200: CasePage})
    api.route("POST", f"{PREFIX}/queue/claim", v1.claim_next, responses={200: CaseOut, 204: None})
    for verb, summary in (
        ("claim", "Claim the case for this token."),
        ("resolve", "Resolve the case; the customer is told."),
        ("escalate", "Escalate the case: the leads get one alert."),
        ("close", "Close the case for good; the log channel gets the closure line."),
    ):
        api.route(
            "POST",
            f"{case}/{verb}",
            v1.act(verb),
            summary=summary,
            responses={200: CaseOut, 409: Error},
        )
    api.route(
        "GET", f"{PREFIX}/stats", v1.stats, summary="The desk's numbers.", responses={200: Stats}
    )
