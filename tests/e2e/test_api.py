"""The HTTP API over real HTTP against the running bot: `/api/v1` and `/api/openapi.json`.

Triage runs on keyword rules here: what is tested is the API, not the model.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from tests.e2e.api import OTHER, TOKEN, Answer, Client, no_traceback, start
from tests.e2e.conftest import AGENT, ALERTS, LOG, SUPPORT, card
from tests.e2e.webhook import SECRET, Receiver

pytestmark = pytest.mark.e2e


async def test_the_api_is_off_without_tokens(
    start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    client = api(await start_bot(triage_local_model=False))

    for method, path in [
        ("GET", "/api/v1/queue"),
        ("POST", "/api/v1/cases"),
        ("GET", "/api/openapi.json"),
    ]:
        answer = await client.call(method, path)
        assert (answer.status, answer.json) == (404, {"error": "the API is off: set API_TOKENS"})


async def test_tokens_limits_and_bad_requests_are_refused_as_json(
    start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    bot = await start(start_bot, api_rate_per_minute=1, api_rate_burst=3)
    client = api(bot)

    missing = await client.call("GET", "/api/v1/queue", token=None)
    wrong = await client.call("GET", "/api/v1/queue", token=TOKEN + "x")
    for answer in (missing, wrong):
        assert answer.status == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "bearer token" in answer.json["error"]
        no_traceback(answer)

    assert [(await client.call("GET", "/api/v1/queue")).status for _ in range(3)] == [200] * 3
    limited = await client.call("GET", "/api/v1/queue")
    assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    no_traceback(limited)
    # Per token: the other token still has its whole burst.
    assert (await client.call("GET", "/api/v1/queue", token=OTHER)).status == 200


async def test_validation_unknown_ids_and_huge_bodies(
    start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    client = api(await start(start_bot))

    async def fields(answer: Answer) -> dict[str, str]:
        assert answer.status == 422, answer.text
        assert answer.json["error"] == "invalid request"
        no_traceback(answer)
        return {f["field"]: f["reason"] for f in answer.json["fields"]}

    bad_json = await client.call("POST", "/api/v1/cases", raw=b"{not json")
    assert await fields(bad_json) == {"body": "not valid UTF-8 JSON"}
    assert await fields(await client.call("POST", "/api/v1/cases", [1, 2])) == {
        "body": "must be a JSON object"
    }
    missing = await fields(await client.call("POST", "/api/v1/cases", {"channel": "web"}))
    assert set(missing) == {"customer_id", "message"} and missing["message"] == "Field required"
    wrong = await fields(
        await client.call(
            "POST",
            "/api/v1/cases",
            {"customer_id": 5, "channel": "Not A Channel", "message": "hi\x00", "subject": 1},
        )
    )
    assert set(wrong) == {"customer_id", "channel", "message", "subject"}
    assert "string" in wrong["customer_id"] and "NUL" in wrong["message"]
    blank = {"customer_id": " ", "channel": "web", "message": " \n"}
    assert await fields(await client.call("POST", "/api/v1/cases", blank)) == {
        "customer_id": "must not be blank",
        "message": "must not be blank",
    }
    assert set(await fields(await client.call("GET", "/api/v1/queue?limit=0"))) == {"limit"}
    assert set(await fields(await client.call("GET", "/api/v1/queue?cursor=zzz"))) == {"cursor"}
    assert set(await fields(await client.call("GET", "/api/v1/cases/abc"))) == {"number"}
    deep = await client.call("POST", "/api/v1/cases", raw=b"[" * 100_000)
    assert await fields(deep) == {"body": "not valid UTF-8 JSON"}
    odd_cursor = base64.urlsafe_b64encode("o²".encode()).decode()
    assert set(await fields(await client.call("GET", f"/api/v1/queue?cursor={odd_cursor}"))) == {
        "cursor"
    }
    nul = await client.call("GET", "/api/v1/customers/a%00b/cases")
    assert set(await fields(nul)) == {"customer_id"}

    unknown = await client.call("GET", "/api/v1/cases/999")
    assert (unknown.status, unknown.json) == (404, {"error": "There is no case #999."})
    for action in ("resolve", "escalate", "close"):
        assert (await client.call("POST", f"/api/v1/cases/999/{action}")).status == 404
    nobody = await client.call("GET", "/api/v1/customers/nobody/cases")
    assert nobody.status == 404 and "nobody" in nobody.json["error"]

    huge = await client.call("POST", "/api/v1/cases", raw=b'{"message": "' + b"x" * 2_000_000)
    assert huge.status == 413 and "error" in huge.json
    no_traceback(huge)


async def test_an_outage_answers_503_and_a_bug_500_without_a_traceback(
    start_bot: Callable[..., Any],
    api: Callable[[Runtime], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start(start_bot)
    client = api(bot)

    async def unreachable(*_args: Any) -> None:
        raise ConnectionRefusedError("connection refused by 127.0.0.1:5432")

    async def bug(*_args: Any) -> None:
        raise RuntimeError("a secret detail of the bug")

    monkeypatch.setattr(bot.cases.intake, "ingest", unreachable)
    away = await client.create("Hello?")
    assert away.status == 503 and away.headers["Retry-After"] == "5"
    assert "retry" in away.json["error"] and "5432" not in away.text
    no_traceback(away)

    monkeypatch.setattr(bot.cases.intake, "ingest", bug)
    broken = await client.create("Hello?")
    assert broken.status == 500 and broken.json["error"] == "internal error"
    assert broken.json["id"] and "secret detail" not in broken.text
    no_traceback(broken)


async def test_a_case_created_through_the_api_gets_its_card_and_reads_back(
    slack: SlackEmulator, start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    client = api(await start(start_bot))

    opened = await client.create("I was charged twice for my order", subject="Double charge")

    assert opened.status == 201, opened.text
    case = opened.json
    assert case["number"] == 1 and case["status"] == "open" and case["created"] is True
    assert case["ticket_id"] == "TKT-1", "no ticket system here: the local id"
    assert case["subject"] == "Double charge" and case["source"] == "api"
    assert case["channel"] == "web"
    for key in ("category", "request_type", "confidence", "urgency", "sla_due_at"):
        assert key in case
    assert case["created_at"].endswith("Z")
    posted = await card(slack, 1)
    assert "via api" in str(posted["blocks"]) and "cust-1" in str(posted["blocks"])

    again = await client.create("Any news?", message_id="m-2")
    assert again.status == 200 and again.json["number"] == 1 and again.json["created"] is False
    repeat = await client.create("Any news?", message_id="m-2")
    assert repeat.json["duplicate"] is True

    read = await client.call("GET", "/api/v1/cases/1")
    assert read.status == 200
    assert [m["body"] for m in read.json["messages"]] == [
        "I was charged twice for my order",
        "Any news?",
    ]
    assert read.json["customer_id"] == "cust-1"
    assert read.json["messages"][0]["created_at"].endswith("Z")
    assert "case.opened" in [a["action"] for a in read.json["audit"]]

    mine = await client.call("GET", "/api/v1/customers/cust-1/cases")
    assert [c["number"] for c in mine.json["items"]] == [1] and mine.json["next"] is None


async def test_replies_to_an_api_customer_go_to_the_webhook_reply_url(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    api: Callable[[Runtime], Client],
    receiver: Receiver,
) -> None:
    bot = await start(start_bot, webhook_secret=SECRET, webhook_reply_url=receiver.url)
    client = api(bot)

    assert (await client.create("Where is my refund?", customer="+15550009")).status == 201
    posted = await card(slack, 1)
    # The mirror is posted once the card's ts is stored: a reply from then on finds the case.
    await slack.wait_for(lambda: slack.replies(SUPPORT, posted["ts"]))
    await slack.user_message(AGENT, SUPPORT, "It left today.", thread_ts=posted["ts"])

    ack, reply = await receiver.replies(2)
    assert (ack["kind"], ack["customer_id"], ack["channel"]) == ("ack", "+15550009", "web")
    assert reply["kind"] == "reply" and "It left today." in reply["message"]


async def test_agent_actions_are_audited_with_the_token_name(
    slack: SlackEmulator, start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    client = api(await start(start_bot))
    for n in range(3):
        assert (await client.create(f"Question {n}", customer=f"c{n}")).status == 201

    claimed = await client.call("POST", "/api/v1/queue/claim")
    assert claimed.status == 200 and claimed.json["number"] == 1
    assert claimed.json["status"] == "assigned" and claimed.json["assignee"] == "api:zapier"

    escalated = await client.call("POST", "/api/v1/cases/2/escalate")
    assert escalated.status == 200 and escalated.json["escalation_level"] >= 1
    alert = await slack.wait_for(
        lambda: next((m for m in slack.messages(ALERTS) if "zapier" in str(m)), None)
    )
    assert "<@api:zapier>" not in str(alert)

    resolved = await client.call("POST", "/api/v1/cases/1/resolve")
    assert resolved.status == 200 and resolved.json["status"] == "resolved"
    assert resolved.json["resolved_at"].endswith("Z")
    closed = await client.call("POST", "/api/v1/cases/3/close", token=OTHER)
    assert closed.status == 200 and closed.json["status"] == "closed"
    line = await slack.wait_for(
        lambda: next(
            (m["text"] for m in slack.messages(LOG) if "Case #3 closed" in m["text"]), None
        )
    )
    assert line.endswith("by api:crm")

    refused = await client.call("POST", "/api/v1/cases/3/resolve")
    assert refused.status == 409
    assert refused.json == {"error": "Case #3 is closed: it cannot be resolved."}
    no_traceback(refused)

    async def actors(number: int) -> dict[str, str]:
        read = await client.call("GET", f"/api/v1/cases/{number}")
        return {a["action"]: a["actor"] for a in read.json["audit"]}

    one = await actors(1)
    assert one["case.claimed"] == "zapier" and one["case.resolved"] == "zapier"
    assert (await actors(2))["case.escalated"] == "zapier"
    assert (await actors(3))["case.closed"] == "crm"

    assert (await client.call("POST", "/api/v1/queue/claim")).status == 200  # case 2
    empty = await client.call("POST", "/api/v1/queue/claim")
    assert (empty.status, empty.text) == (204, "")

    stats = await client.call("GET", "/api/v1/stats")
    assert stats.status == 200
    assert stats.json["total"] == 3
    assert stats.json["by_status"] == {"open": 0, "resolved": 1, "assigned": 1, "closed": 1}
    assert sum(stats.json["by_category"].values()) == 3
    assert stats.json["escalated"] == 1
    assert stats.json["median_first_response_seconds"] is None  # nobody was answered


async def test_the_queue_pages_in_priority_order_without_duplicates(
    slack: SlackEmulator, start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    client = api(await start(start_bot))
    for n in range(6):
        text = "This is urgent, fix it" if n == 4 else f"A question number {n}"
        assert (await client.create(text, customer=f"q{n}")).status == 201

    whole = await client.call("GET", "/api/v1/queue?limit=200")
    order = [c["number"] for c in whole.json["items"]]
    assert sorted(order) == [1, 2, 3, 4, 5, 6] and order[0] == 5, "escalated first"
    assert whole.json["next"] is None

    pages: list[int] = []
    path: str | None = "/api/v1/queue?limit=4"
    while path is not None:
        page = await client.call("GET", path)
        assert page.status == 200 and len(page.json["items"]) <= 4
        pages += [c["number"] for c in page.json["items"]]
        path = page.json["next"]
    assert pages == order


async def test_openapi_lists_every_route(
    start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    client = api(await start(start_bot))

    answer = await client.call("GET", "/api/openapi.json", token=None)

    assert answer.status == 200
    document = answer.json
    assert document["openapi"].startswith("3.1")
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations == {
        ("POST", "/api/v1/cases"),
        ("GET", "/api/v1/cases/{number}"),
        ("GET", "/api/v1/customers/{customer_id}/cases"),
        ("GET", "/api/v1/queue"),
        ("POST", "/api/v1/queue/claim"),
        ("POST", "/api/v1/cases/{number}/claim"),
        ("POST", "/api/v1/cases/{number}/resolve"),
        ("POST", "/api/v1/cases/{number}/escalate"),
        ("POST", "/api/v1/cases/{number}/close"),
        ("GET", "/api/v1/stats"),
        # compatibility shapes (tests/e2e/test_api_compat.py)
        ("POST", "/api/incidents"),
        ("GET", "/api/incidents/{incident_id}"),
        ("PUT", "/api/incidents/{incident_id}/resolve"),
        ("GET", "/api/incidents/customer/{customer_id}"),
        ("GET", "/api/notifications/{incident_id}"),
        ("GET", "/api/stats"),
        ("POST", "/tickets"),
        ("GET", "/tickets/{ticket_id}/status"),
        ("GET", "/queue"),
        ("GET", "/tickets/next"),
    }
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "operation ids are unique"
    queue = {p["name"]: p for p in document["paths"]["/api/v1/queue"]["get"]["parameters"]}
    assert queue["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 200,
        "default": 50,
        "title": "Limit",
    }
    assert queue["cursor"]["schema"]["type"] == "string" and not queue["cursor"]["required"]
    create = document["paths"]["/api/v1/cases"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CaseCreate"
    )
    schemas = document["components"]["schemas"]
    assert {"CaseCreate", "CaseCreated", "CaseDetail", "CasePage", "Stats", "Error"} <= set(schemas)
    refs = set(re.findall(r"#/components/schemas/\w+", answer.text))
    assert {ref.rsplit("/", 1)[1] for ref in refs} <= set(schemas), "every $ref resolves"


async def test_random_requests_never_get_a_5xx(
    start_bot: Callable[..., Any], api: Callable[[Runtime], Client]
) -> None:
    """Odd values schemathesis does not generate (lone surrogates, NUL, 20,001 characters,
    every JSON type in every field) and odd path segments: never a 5xx."""
    client = api(await start(start_bot, api_rate_burst=10_000))
    rng = random.Random(7)
    values: list[Any] = [
        None, 0, -1, 2**63, 1.5, True, [], {}, "", " ", "x" * 40, "web", "sms", "a\x00b",
        "\ud800", "é", "💥" * 3, "Zürich urgent", "y" * 20_001, ["web"], {"a": 1},
    ]  # fmt: skip
    keys = ["customer_id", "channel", "message", "subject", "message_id", "extra"]
    statuses: set[int] = set()
    for _ in range(150):
        # Half start from a valid body with a field or two changed, half from nothing.
        body = {"customer_id": "c", "channel": "web", "message": "hi"} if rng.random() < 0.5 else {}
        body |= {key: rng.choice(values) for key in rng.sample(keys, rng.randint(0, 2))}
        answer = await client.call("POST", "/api/v1/cases", body)
        statuses.add(answer.status)
        assert answer.status in (200, 201, 422), (body, answer.text)
        no_traceback(answer)
    segments = ["1", "0", "-1", "99999999999", "abc", "%F0%9F%92%A5", "1.5", "%00", "x" * 300]
    for segment in segments:
        for method, path in [
            ("GET", f"/api/v1/cases/{segment}"),
            ("POST", f"/api/v1/cases/{segment}/resolve"),
            ("GET", f"/api/v1/customers/{segment}/cases"),
            ("GET", f"/api/v1/queue?limit={segment}&cursor={segment}"),
        ]:
            answer = await client.call(method, path)
            assert answer.status < 500, (method, path, answer.text)
            no_traceback(answer)
    assert {201, 422} <= statuses
