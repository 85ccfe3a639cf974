"""The sandbox page's actions over real HTTP, in process: what the visitor does reaches the
bot through the emulator, and garbage gets a plain 400 instead of a crash."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime
from bot.sandbox import page
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.workspace import (
    GENERAL,
    INTAKE,
    PAYMENTS,
    SUPPORT,
    build_emulator,
    sandbox_settings,
)
from bot.settings import Settings

CAROL, DAVE, AGNES = "UCAROL01", "UDAVE001", "UAGNES01"


class Page:
    def __init__(self, base: str, http: aiohttp.ClientSession, emulator: SlackEmulator) -> None:
        self.base, self.http, self.slack = base, http, emulator

    async def post(self, action: str, body: Any) -> tuple[int, dict[str, Any]]:
        """POST as the page does (JSON); raw bytes go with the page's JSON content type too."""
        data = body if isinstance(body, bytes | str) else None
        headers = {"Content-Type": "application/json"} if data is not None else None
        async with self.http.post(
            f"{self.base}/sandbox/{action}",
            data=data,
            json=None if data is not None else body,
            headers=headers,
        ) as response:
            return response.status, await response.json()

    async def state(self, since: int | str = -1) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.base}/sandbox/state", params={"since": since}) as r:
            return r.status, await r.json()


@pytest.fixture
async def sandbox_page(tmp_path: Path) -> AsyncIterator[Page]:
    emulator = build_emulator()
    await emulator.start()
    base = Settings(_env_file=None, port=0, triage_local_model=False)  # type: ignore[call-arg]
    runtime = Runtime(
        sandbox_settings(base, emulator, tmp_path),
        routes=lambda router: page.register(router, emulator),
    )
    try:
        await runtime.start(connect_timeout=5.0)
        assert runtime.settings.host == "127.0.0.1"  # no HOST given: loopback only
        async with aiohttp.ClientSession() as http:
            yield Page(f"http://127.0.0.1:{runtime.http_port}", http, emulator)
    finally:
        await runtime.stop()
        await emulator.stop()


async def test_the_page_and_its_script_are_served(sandbox_page: Page) -> None:
    for path, kind in [("/", "text/html"), ("/sandbox/app.js", "text/javascript")]:
        async with sandbox_page.http.get(sandbox_page.base + path) as response:
            assert response.status == 200 and response.content_type == kind
            assert len(await response.read()) > 500


async def test_a_customer_post_opens_a_case_and_the_state_shows_it(sandbox_page: Page) -> None:
    _, before = await sandbox_page.state()
    waiting = asyncio.create_task(sandbox_page.state(since=before["version"]))
    status, _ = await sandbox_page.post(
        "post", {"user": CAROL, "channel": INTAKE.id, "text": "Where is my refund?"}
    )
    assert status == 200
    _, changed = await asyncio.wait_for(waiting, 5)  # the long poll answers on the change
    assert changed["version"] > before["version"]

    def card() -> dict[str, Any] | None:  # a refund: the payments team's channel has it
        team = sandbox_page.slack.messages(PAYMENTS.id)
        return team[0] if team else None

    posted = await sandbox_page.slack.wait_for(card, timeout=10)
    assert sandbox_page.slack.messages(SUPPORT.id) == []
    status, _ = await sandbox_page.post(
        "click",
        {"user": AGNES, "channel": PAYMENTS.id, "ts": posted["ts"], "action_id": "case_claim"},
    )
    assert status == 200
    await sandbox_page.slack.wait_for(lambda: "assigned" in card()["text"])  # type: ignore[index]
    _, now = await sandbox_page.state()
    team = next(c for c in now["channels"] if c["id"] == PAYMENTS.id)
    assert team["name"] == "#payments" and "payments team" in team["purpose"]
    assert team["messages"][0]["edited"] and team["messages"][0]["blocks"]

    status, _ = await sandbox_page.post("command", {"user": AGNES, "command": "/queue"})
    assert status == 200
    await sandbox_page.slack.wait_for(
        lambda: any(e["user"] == AGNES for e in sandbox_page.slack.ephemerals)
    )
    status, _ = await sandbox_page.post("home", {"user": AGNES})
    assert status == 200
    await sandbox_page.slack.wait_for(lambda: AGNES in sandbox_page.slack.views)


async def test_a_reaction_and_the_shortcut_make_messages_cases(sandbox_page: Page) -> None:
    slack = sandbox_page.slack
    for who, text in ((CAROL, "The invoice page is blank"), (DAVE, "The app logs me out")):
        status, _ = await sandbox_page.post(
            "post", {"user": who, "channel": GENERAL.id, "text": text}
        )
        assert status == 200
    first, second = slack.messages(GENERAL.id)
    assert slack.messages(SUPPORT.id) == [], "#general is no intake channel"

    status, _ = await sandbox_page.post(
        "react", {"user": AGNES, "channel": GENERAL.id, "ts": first["ts"], "name": "ticket"}
    )
    assert status == 200
    status, _ = await sandbox_page.post(
        "shortcut", {"user": AGNES, "channel": GENERAL.id, "ts": second["ts"]}
    )
    assert status == 200
    await slack.wait_for(lambda: len(slack.messages(SUPPORT.id)) == 2, timeout=10)
    _, now = await sandbox_page.state()
    general = next(c for c in now["channels"] if c["id"] == GENERAL.id)
    assert general["messages"][0]["reactions"] == ["ticket"]


@pytest.mark.parametrize(
    ("action", "body", "says"),
    [
        ("post", b"not json", "send a JSON object"),
        ("post", b"\xff\xfe", "send a JSON object"),
        ("post", [1, 2], "send a JSON object"),
        ("post", {"user": "UNOBODY", "channel": INTAKE.id, "text": "hi"}, "unknown person"),
        ("post", {"user": CAROL, "text": "hi"}, "channel is missing"),
        ("post", {"user": CAROL, "channel": 5, "text": "hi"}, "channel must be a string"),
        ("post", {"user": CAROL, "channel": "CNOWHERE", "text": "hi"}, "unknown channel"),
        ("post", {"user": CAROL, "channel": INTAKE.id, "text": "   "}, "type a message"),
        ("post", {"user": CAROL, "channel": INTAKE.id, "text": "x" * 4001}, "longer than"),
        ("post", {"user": CAROL, "channel": INTAKE.id, "files": "x"}, "at most 3"),
        ("post", {"user": CAROL, "channel": INTAKE.id, "files": [7]}, "an object"),
        (
            "post",
            {"user": CAROL, "channel": INTAKE.id, "files": [{"name": "a.png", "data": "%%"}]},
            "not base64",
        ),
        (
            "post",
            {
                "user": CAROL,
                "channel": INTAKE.id,
                "files": [{"name": "a.png", "data": base64.b64encode(bytes(600_000)).decode()}],
            },
            "larger than 524,288 bytes",
        ),
        ("command", {"user": AGNES, "command": "/rm", "text": "-rf"}, "knows /case and /queue"),
        (
            "click",
            {"user": AGNES, "channel": SUPPORT.id, "ts": "1.2", "action_id": "x"},
            "no message",
        ),
        ("home", {"user": None}, "user is missing"),
        (
            "react",
            {"user": AGNES, "channel": GENERAL.id, "ts": "1.2", "name": "<script>"},
            "an emoji's name",
        ),
        ("shortcut", {"user": AGNES, "channel": GENERAL.id, "ts": "1.2"}, "no message"),
    ],
)
async def test_garbage_gets_a_plain_400(
    sandbox_page: Page, action: str, body: Any, says: str
) -> None:
    status, answer = await sandbox_page.post(action, body)
    assert status == 400
    assert says in answer["error"]


async def test_a_customer_shares_a_file_from_the_page(sandbox_page: Page) -> None:
    slack = sandbox_page.slack
    picture = b"\x89PNG\r\n\x1a\n" + bytes(100)
    status, _ = await sandbox_page.post(
        "post",
        {
            "user": CAROL,
            "channel": INTAKE.id,
            "text": "",
            "files": [{"name": "error.png", "data": base64.b64encode(picture).decode()}],
        },
    )
    assert status == 200
    card = (await slack.wait_for(lambda: slack.messages(SUPPORT.id), timeout=10))[0]
    shared = await slack.wait_for(
        lambda: [r for r in slack.replies(SUPPORT.id, card["ts"]) if r.get("files")]
    )
    assert [f.content for f in slack.files() if f.owner is None] == [picture]
    _, now = await sandbox_page.state()
    support = next(c for c in now["channels"] if c["id"] == SUPPORT.id)
    thread = support["messages"][0]["replies"]
    assert ["error.png"] in [r["files"] for r in thread] and shared


async def test_a_suggested_reply_is_sent_from_the_modal(sandbox_page: Page) -> None:
    slack = sandbox_page.slack
    await sandbox_page.post("post", {"user": CAROL, "channel": INTAKE.id, "text": "App crashes"})
    card = (await slack.wait_for(lambda: slack.messages(SUPPORT.id), timeout=10))[0]
    status, _ = await sandbox_page.post(
        "click",
        {"user": AGNES, "channel": SUPPORT.id, "ts": card["ts"], "action_id": "case_suggest"},
    )
    assert status == 200

    def modal() -> dict[str, Any] | None:
        return next((v for v in slack.modals.values() if len(v["blocks"]) == 2), None)

    opened = await slack.wait_for(modal)
    _, state = await sandbox_page.state()
    assert [m["id"] for m in state["modals"] if m["user"] == AGNES] == [opened["id"]]
    status, answer = await sandbox_page.post(
        "submit", {"user": AGNES, "view_id": opened["id"], "values": {"reply": {"text": 5}}}
    )
    assert status == 400 and "values must map" in answer["error"]
    status, _ = await sandbox_page.post(
        "submit",
        {"user": AGNES, "view_id": opened["id"], "values": {"reply": {"text": "Update the app"}}},
    )
    assert status == 200
    asked = slack.messages(INTAKE.id)[0]
    await slack.wait_for(
        lambda: [r for r in slack.replies(INTAKE.id, asked["ts"]) if r["text"] == "Update the app"]
    )
    assert slack.modals == {}
    status, answer = await sandbox_page.post("close", {"user": AGNES, "view_id": opened["id"]})
    assert status == 400 and "no modal" in answer["error"]


async def test_a_bad_since_is_refused(sandbox_page: Page) -> None:
    status, answer = await sandbox_page.state(since="yesterday")
    assert status == 400 and "since" in answer["error"]
