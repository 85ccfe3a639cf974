"""The compatibility endpoints over real HTTP, with the product documents' example requests:
a duplicate payment, a fraud report and a failed payment through `/api/incidents`, tickets
through `POST /tickets` polled to completion, and a storm of 11 identical outage tickets
folded into one master incident.

The local model classifies here (the examples are about classification and storms).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.api import TOKENS, Answer, Client, no_traceback
from tests.e2e.conftest import card, cards, outbox_settled
from tests.e2e.webhook import SECRET, Receiver

pytestmark = pytest.mark.e2e

DUPLICATE = "I was charged twice for the same order, the payment shows up two times on my statement"
FRAUD = "There is a payment on my account I did not make, someone used my card without permission"
FAILED = "My card payment was declined at the shop and the transfer failed"
LABELS = ("low", "medium", "high")  # the documents' words: no "critical"
ACTOR = "zapier"  # the name of the token the client uses
OUTAGE = "Your whole platform is down, every request to your service times out"


async def start(start_bot: Callable[..., Any], **overrides: Any) -> Runtime:
    bot: Runtime = await start_bot(api_tokens=TOKENS, api_rate_burst=10_000, **overrides)
    await bot.triage_ready()
    return bot


async def completed(client: Client, status_url: str, within: float = 30.0) -> list[Answer]:
    """Poll a ticket's status until it is filed (completed, or folded into a master incident:
    `master_incident`); every answer seen, in order."""
    seen: list[Answer] = []
    async with asyncio.timeout(within):
        while True:
            answer = await client.call("GET", status_url)
            assert answer.status == 200, answer.text
            seen.append(answer)
            if answer.json["status"] in ("completed", "master_incident"):
                return seen
            assert answer.json["status"] in ("pending", "processing"), answer.text
            await asyncio.sleep(0.02)


async def test_incidents_from_the_product_documents(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    api: Callable[[Runtime], Client],
    receiver: Receiver,
) -> None:
    bot = await start(start_bot, webhook_secret=SECRET, webhook_reply_url=receiver.url)
    client = api(bot)

    created = {}
    for customer, channel, message in [
        ("CUST-1001", "SMS", DUPLICATE),
        ("CUST-1002", "WhatsApp", FRAUD),
        ("CUST-1003", "web", FAILED),
    ]:
        answer = await client.call(
            "POST",
            "/api/incidents",
            {"customer_id": customer, "channel": channel, "message": message},
        )
        assert answer.status == 201, answer.text
        created[customer] = answer.json
    duplicate, fraud, failed = created.values()
    assert set(duplicate) == {
        "incident_id", "number", "ticket_id", "status", "classification", "confidence", "message"
    }  # fmt: skip
    assert [c["classification"] for c in (duplicate, fraud, failed)] == [
        "duplicate_payment",
        "fraud_report",
        "failed_payment",
    ]
    assert duplicate["number"] == 1 and duplicate["ticket_id"] == "TKT-1"
    uid = duplicate["incident_id"]
    assert str(uuid.UUID(uid)) == uid, "a UUID string, as the documents show"
    assert len({c["incident_id"] for c in created.values()}) == 3
    assert duplicate["status"] == "open" and 0 < duplicate["confidence"] <= 1
    assert duplicate["message"].startswith("Incident #1 opened as duplicate_payment (confidence")
    card_one = await card(slack, 1)  # a card in Slack like any other case
    assert "charged twice" in str(card_one["blocks"])

    more = await client.call(
        "POST", "/api/incidents", {"customer_id": "CUST-1001", "channel": "sms", "message": "?"}
    )
    assert more.status == 200 and more.json["incident_id"] == uid
    assert more.json["message"] == "Added to the customer's open incident #1."

    one = await client.call("GET", "/api/incidents/1")
    assert one.status == 200
    assert (one.json["customer_id"], one.json["channel"]) == ("CUST-1001", "sms")
    assert one.json["category"] == "payments" and one.json["urgency_label"] in LABELS
    assert [m["body"] for m in one.json["messages"]] == [DUPLICATE, "?"]
    assert one.json["master_incident"] is None
    assert (one.json["message"], one.json["reminder_sent"]) == (DUPLICATE, False)
    by_uid = await client.call("GET", f"/api/incidents/{uid}")
    assert by_uid.json == one.json, "the UUID and the number name the same incident"

    listed = await client.call("GET", "/api/incidents/customer/CUST-1002")
    assert listed.status == 200 and listed.json["next"] is None
    assert [i["number"] for i in listed.json["incidents"]] == [2]
    assert listed.json["incidents"][0]["incident_id"] == fraud["incident_id"]

    await outbox_settled(bot)
    notes = await client.call("GET", "/api/notifications/1")
    assert notes.status == 200 and (notes.json["incident_id"], notes.json["number"]) == (uid, 1)
    by_kind = {n["kind"]: n for n in notes.json["notifications"]}
    assert by_kind["customer.ack"]["audience"] == "customer"
    assert by_kind["customer.ack"]["channel"] == "webhook"
    assert by_kind["case.card"]["channel"] == "slack"
    assert by_kind["customer.ack"]["status"] == "sent" and by_kind["customer.ack"]["sent_at"]
    assert by_kind["case.card"]["audience"] == "team"
    assert len(await receiver.replies(3)) >= 3, "each customer's acknowledgement arrived"

    resolved = await client.call("PUT", f"/api/incidents/{uid}/resolve")
    assert resolved.status == 200 and resolved.json["status"] == "resolved"
    assert resolved.json["resolved_at"]
    again = await client.call("PUT", "/api/incidents/1/resolve")
    assert again.status == 409 and "error" in again.json
    trail = await client.call("GET", "/api/v1/cases/1")
    actors = [e["actor"] for e in trail.json["audit"] if e["action"] == "case.resolved"]
    assert actors == [ACTOR], "audited with the token's name"
    await card(slack, 1, status="resolved")

    stats = await client.call("GET", "/api/stats")
    assert stats.status == 200
    assert (stats.json["total_incidents"], stats.json["open"], stats.json["resolved"]) == (3, 2, 1)
    assert stats.json["by_category"] == {"payments": 3}

    nobody = "/api/incidents/00000000-0000-4000-8000-000000000000"
    for path in (
        "/api/incidents/999",
        "/api/notifications/999",
        "/api/incidents/customer/x",
        nobody,
    ):
        missing = await client.call("GET", path)
        assert missing.status == 404, path
        no_traceback(missing)
    assert (await client.call("PUT", "/api/incidents/999/resolve")).status == 404
    bad = await client.call("POST", "/api/incidents", {"customer_id": "c", "channel": " "})
    assert bad.status == 422
    assert {f["field"] for f in bad.json["fields"]} == {"channel", "message"}
    assert (await client.call("GET", "/api/incidents/abc")).status == 422


async def test_a_ticket_is_accepted_then_filed_and_polled_to_completion(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    api: Callable[[Runtime], Client],
) -> None:
    client = api(await start(start_bot))

    empty = await client.call("GET", "/tickets/next")
    assert (empty.status, empty.json) == (404, {"error": "The queue is empty."})

    accepted = await client.call(
        "POST",
        "/tickets",
        {"subject": "Charged twice", "description": DUPLICATE, "customer_id": "CUST-7"},
    )
    assert accepted.status == 202, accepted.text
    ticket_id = accepted.json["ticket_id"]
    assert accepted.json == {
        "ticket_id": ticket_id,
        "status": "accepted",
        "status_url": f"/tickets/{ticket_id}/status",
    }
    seen = await completed(client, accepted.json["status_url"])
    states = [a.json["status"] for a in seen]
    order = ["pending", "processing", "completed"]
    assert states == sorted(states, key=order.index), "status only moves forward"
    done = seen[-1].json
    assert (done["classification"], done["category"]) == ("duplicate_payment", "payments")
    assert 0 <= done["urgency_score"] <= 1 and done["urgency_label"] in LABELS
    assert done["number"] == 1 and done["master_incident"] is None
    assert str(uuid.UUID(done["incident_id"])) == done["incident_id"]
    assert done["completed_at"] and done["error"] is None
    assert "Charged twice" in (await card(slack, 1))["text"]

    second = await client.call("POST", "/tickets", {"body": FRAUD})
    await completed(client, second.json["status_url"])
    queue = await client.call("GET", "/queue")
    assert queue.status == 200 and queue.json["next"] is None
    items = {i["number"]: i for i in queue.json["queue"]}
    assert items[1]["ticket_id"] == ticket_id, "known by the id its caller was given"
    assert items[2]["classification"] == "fraud_report"
    # The documents' agent workflow pops the queue: each call takes the next ticket.
    top = await client.call("GET", "/tickets/next")
    assert top.status == 200 and top.json["ticket_id"] == queue.json["queue"][0]["ticket_id"]
    assert top.json["number"] == 2, "fraud comes first: priority 5 against 3"
    assert (top.json["status"], top.json["assigned_agent"]) == ("assigned", f"api:{ACTOR}")
    following = await client.call("GET", "/tickets/next")
    assert following.status == 200 and following.json["ticket_id"] == ticket_id
    assert (await client.call("GET", "/tickets/next")).status == 404, "both are taken"
    by_case_ticket = await client.call("GET", "/tickets/TKT-2/status")
    assert by_case_ticket.status == 200
    assert (by_case_ticket.json["status"], by_case_ticket.json["number"]) == ("completed", 2)

    nothing = await client.call("POST", "/tickets", {"subject": " ", "customer_id": "c"})
    assert nothing.status == 422
    assert (
        nothing.json["fields"][0]["reason"] == "give at least one of subject, body and description"
    )
    for unknown_id in ("0123456789abcdef", "TKT-999", "TKT-9999999999", "x" * 100):
        unknown = await client.call("GET", f"/tickets/{unknown_id}/status")
        assert unknown.status == 404 and unknown_id in unknown.json["error"], unknown.text


async def test_a_storm_of_eleven_identical_outage_tickets_is_one_master_incident(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    api: Callable[[Runtime], Client],
) -> None:
    client = api(await start(start_bot, storm_threshold=10))

    urls = []
    for _ in range(11):
        answer = await client.call("POST", "/tickets", {"subject": "Outage", "body": OUTAGE})
        assert answer.status == 202
        urls.append(answer.json["status_url"])
    for url in urls:
        await completed(client, url)
    # Read again: the first ten were filed before the eleventh made them a storm.
    finals = [(await client.call("GET", url)).json for url in urls]

    masters = {f["master_incident"]["number"] for f in finals if f["master_incident"]}
    assert len(masters) == 1, finals
    [master] = masters
    assert all(f["master_incident"] == finals[-1]["master_incident"] for f in finals)
    assert finals[-1]["master_incident"]["status"] in ("open", "assigned")
    assert {f["classification"] for f in finals} == {"outage"}
    assert {f["status"] for f in finals} == {"master_incident"}, "as the documents show"
    assert len({f["incident_id"] for f in finals}) == 11, "each ticket is its own report"
    queue = await client.call("GET", "/queue")
    assert [i["number"] for i in queue.json["queue"]] == [master], "the children fold"
    # Each anonymous report is a customer of its own, listed with the storm it is part of.
    reporter = (await client.call("GET", f"/api/incidents/{finals[0]['incident_id']}")).json
    listed = await client.call("GET", f"/api/incidents/customer/{reporter['customer_id']}")
    [incident] = listed.json["incidents"]
    assert incident["master_incident"] == finals[0]["master_incident"]
    master_detail = await client.call("GET", f"/api/incidents/{master}")
    assert master_detail.json["escalation_reasons"] == ["storm"]
    await card(slack, master, where=lambda m: "11 affected" in str(m["blocks"]))
    assert len([m for m in cards(slack) if m["text"].startswith(f"Case #{master} (")]) == 1
