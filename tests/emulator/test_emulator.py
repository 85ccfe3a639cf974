"""The Slack emulator against the real slack_bolt AsyncApp over Socket Mode."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ServerDisconnectedError
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import AppManifest, SlackEmulator

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"

Connect = Callable[..., Awaitable[AsyncSocketModeHandler]]


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    # These tests drive the emulator's own methods, reactions.add among them, and events
    # beyond the product's manifest: grant what they use.
    manifest = AppManifest.project().with_scopes("reactions:write").with_events("app_mention")
    emulator = SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN, manifest=manifest)
    await emulator.start(host="127.0.0.1", port=0)
    emulator.add_user("U1", "alice")
    emulator.add_user("U2", "bob")
    emulator.add_user("U3", "carol")
    emulator.add_channel("C1", "intake")
    emulator.add_channel("C2", "support")
    try:
        yield emulator
    finally:
        await emulator.stop()


def make_app(emu: SlackEmulator) -> AsyncApp:
    return AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url))


@pytest_asyncio.fixture
async def connect(emu: SlackEmulator) -> AsyncIterator[Connect]:
    """Connects a Bolt app over Socket Mode; closes every handler at teardown."""
    handlers: list[AsyncSocketModeHandler] = []

    async def _connect(app: AsyncApp, ping_interval: float = 10.0) -> AsyncSocketModeHandler:
        handler = AsyncSocketModeHandler(app, APP_TOKEN, ping_interval=ping_interval)
        handlers.append(handler)
        await asyncio.wait_for(handler.connect_async(), timeout=5)  # type: ignore[no-untyped-call]
        await emu.wait_connected(timeout=5)
        return handler

    try:
        yield _connect
    finally:
        for handler in handlers:
            await handler.close_async()  # type: ignore[no-untyped-call]


def raw_client(emu: SlackEmulator, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url, **kwargs)


@pytest.mark.asyncio
async def test_message_event_say_and_self_echo_ignored(
    emu: SlackEmulator, connect: Connect
) -> None:
    app = make_app(emu)
    seen: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        seen.append(event)
        await say(
            text=f"echo: {event['text']}",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},
            ],
        )

    await connect(app)
    sent = await emu.user_message("U1", "C1", "hello")
    assert sent["ts"] and sent["event_id"].startswith("Ev")

    reply = await emu.wait_for(
        lambda: next((m for m in emu.messages("C1") if m.get("bot_id") == "BBOT"), None)
    )
    assert reply["text"] == "echo: hello"
    assert reply["user"] == "UBOT"
    assert reply["blocks"][0]["type"] == "section"
    assert [m["text"] for m in emu.messages("C1")] == ["hello", "echo: hello"]

    # the bot's own post comes back as an event, is filtered by Bolt, and still acked
    echo = await emu.wait_for(
        lambda: next(
            (e for e in emu.envelopes if e["payload"]["event"].get("bot_id") == "BBOT"), None
        )
    )
    assert "subtype" not in echo["payload"]["event"]
    await emu.wait_for(lambda: any(a.envelope_id == echo["envelope_id"] for a in emu.acks))
    assert [e["text"] for e in seen] == ["hello"]
    assert emu.last_envelope is not None
    assert emu.last_envelope["payload"]["event"]["text"] == "hello"

    # Slack's redelivery: same payload, new envelope id, retry counters bumped
    retry = dict(
        emu.last_envelope, envelope_id=str(uuid.uuid4()), retry_attempt=1, retry_reason="timeout"
    )
    ack = await emu.send_envelope(retry)
    assert ack.envelope_id == retry["envelope_id"] and ack.payload is None
    await emu.wait_for(lambda: len(seen) == 2)

    # DMs carry channel_type "im"
    dm = emu.open_dm("U2")
    assert emu.open_dm("U2") == dm and dm.startswith("D")
    await emu.user_message("U2", dm, "psst")
    await emu.wait_for(lambda: len(seen) == 3)
    assert seen[-1]["channel_type"] == "im"
    assert seen[0]["channel_type"] == "channel"


@pytest.mark.asyncio
async def test_slash_command_ack_and_respond(emu: SlackEmulator, connect: Connect) -> None:
    app = make_app(emu)
    commands: list[dict[str, Any]] = []

    @app.command("/case")
    async def on_case(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        commands.append(command)
        await ack("working on it")
        await respond(text=f"usage for {command['text']}")

    await connect(app)
    res = await emu.slash_command("U1", "/case", "help", channel="C9")
    assert res.ack_payload == {"text": "working on it"}
    bodies = await emu.wait_for(lambda: res.responses)
    assert bodies[0]["text"] == "usage for help"
    assert emu.responses == [{"url_id": res.url_id, "body": bodies[0]}]
    assert commands[0]["user_name"] == "alice"
    assert commands[0]["channel_id"] == "C9"
    assert commands[0]["response_url"].startswith(emu.base_url + "/response/")
    # respond() defaults to ephemeral, like Slack
    assert emu.ephemerals[-1]["user"] == "U1"


@pytest.mark.asyncio
async def test_button_click_reaches_action(emu: SlackEmulator, connect: Connect) -> None:
    app = make_app(emu)
    clicked: list[dict[str, Any]] = []

    @app.action("case_resolve")
    async def on_resolve(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        clicked.append({"body": body, "action": action})

    await connect(app)
    posted = await raw_client(emu).chat_postMessage(
        channel="C2",
        text="Case #7",
        blocks=[
            {
                "type": "actions",
                "block_id": "case_7",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "case_resolve",
                        "value": "7",
                        "text": {"type": "plain_text", "text": "Resolve"},
                    }
                ],
            }
        ],
    )
    res = await emu.click(
        "U1", channel="C2", message_ts=posted["ts"], action_id="case_resolve", value="7"
    )
    assert res.ack_payload is None
    await emu.wait_for(lambda: clicked)
    action = clicked[0]["action"]
    assert action["value"] == "7" and action["block_id"] == "case_7"
    assert action["text"]["text"] == "Resolve"
    assert clicked[0]["body"]["message"]["ts"] == posted["ts"]
    assert clicked[0]["body"]["user"]["id"] == "U1"


@pytest.mark.asyncio
async def test_update_thread_and_reads(emu: SlackEmulator) -> None:
    client = raw_client(emu)
    parent = await client.chat_postMessage(channel="#intake", text="v1")
    assert parent["channel"] == "C1"
    updated = await client.chat_update(channel="C1", ts=parent["ts"], text="v2")
    assert updated["text"] == "v2"
    assert emu.get_message("C1", parent["ts"])["text"] == "v2"  # type: ignore[index]
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C1", ts="1.000001", text="nope")
    assert err.value.response["error"] == "message_not_found"

    reply = await client.chat_postMessage(channel="C1", text="in thread", thread_ts=parent["ts"])
    assert float(reply["ts"]) > float(parent["ts"])
    assert [m["text"] for m in emu.replies("C1", parent["ts"])] == ["in thread"]
    assert [m["text"] for m in emu.messages("C1")] == ["v2"]
    thread = await client.conversations_replies(channel="C1", ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["v2", "in thread"]
    history = await client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["v2"]
    assert history["messages"][0]["reply_count"] == 1

    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert eph["message_ts"] and emu.ephemerals[-1]["text"] == "psst"
    link = await client.chat_getPermalink(channel="C1", message_ts=reply["ts"])
    assert "thread_ts=" in link["permalink"]
    dm = await client.chat_postMessage(channel="U2", text="direct")
    assert dm["channel"] == emu.open_dm("U2")
    await client.reactions_add(channel="C1", timestamp=parent["ts"], name="eyes")
    assert emu.get_message("C1", parent["ts"])["reactions"][0]["name"] == "eyes"  # type: ignore[index]
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert emu.views["U1"]["type"] == "home"
    info = await client.users_info(user="U1")
    assert info["user"]["name"] == "alice"
    opened = await client.conversations_open(users="U3")
    assert opened["channel"]["id"] == emu.open_dm("U3")


@pytest.mark.asyncio
async def test_faults_ratelimit_500_and_drop(emu: SlackEmulator) -> None:
    client = raw_client(emu)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    emu.fail_next("chat.postMessage", status=429, retry_after=1, count=1)
    started = time.monotonic()
    res = await client.chat_postMessage(channel="C1", text="after the limit")
    assert res["ok"] and time.monotonic() - started >= 1.0
    assert [(c.ok, c.error) for c in emu.calls_to("chat.postMessage")] == [
        (False, "ratelimited"),
        (True, None),
    ]

    bare = raw_client(emu, retry_handlers=[])
    emu.fail_next("chat.update", status=500, count=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await bare.chat_update(channel="C1", ts=res["ts"], text="x")
        assert err.value.response.status_code == 500
    assert (await bare.chat_update(channel="C1", ts=res["ts"], text="x"))["ok"]

    emu.fail_next("chat.postMessage", drop=True, count=1)
    with pytest.raises(ServerDisconnectedError):
        await bare.chat_postMessage(channel="C1", text="lost")
    emu.fail_next("chat.postMessage", drop=True, count=1)
    assert (await raw_client(emu).chat_postMessage(channel="C1", text="retried"))["ok"]

    emu.fail_next("chat.postMessage", error="channel_not_found", count=1)
    with pytest.raises(SlackApiError) as err:
        await bare.chat_postMessage(channel="C1", text="nope")
    assert err.value.response["error"] == "channel_not_found"
    assert [m["text"] for m in emu.messages("C1")] == ["x", "retried"]


@pytest.mark.asyncio
async def test_per_channel_post_rate_limit() -> None:
    emu = SlackEmulator(post_rate_per_channel=1.0)
    await emu.start()
    try:
        emu.add_channel("C1", "intake")
        emu.add_channel("C2", "other")
        bare = raw_client(emu, retry_handlers=[])
        for i in range(3):
            await bare.chat_postMessage(channel="C1", text=f"burst {i}")
        with pytest.raises(SlackApiError) as err:
            await bare.chat_postMessage(channel="C1", text="too fast")
        assert err.value.response.status_code == 429
        assert int(err.value.response.headers["Retry-After"]) >= 1
        assert (await bare.chat_postMessage(channel="C2", text="other channel"))["ok"]
    finally:
        await emu.stop()


@pytest.mark.asyncio
async def test_auth_usergroups_and_lists(emu: SlackEmulator) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url)
    with pytest.raises(SlackApiError) as err:
        await bad.auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        await raw_client(emu).apps_connections_open(app_token=BOT_TOKEN)
    assert err.value.response["error"] == "invalid_auth"
    assert emu.calls[-1].ok is False and emu.calls[-1].error == "invalid_auth"

    client = raw_client(emu)
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T0001")
    emu.add_usergroup("S1", "support-agents", ["U2", "U3"])
    group = await client.usergroups_users_list(usergroup="S1")
    assert group["users"] == ["U2", "U3"]
    with pytest.raises(SlackApiError) as err:
        await client.usergroups_users_list(usergroup="S404")
    assert err.value.response["error"] == "no_such_subteam"

    emu.open_dm("U1")
    public = await client.conversations_list()
    assert [(c["id"], c["name"], c["is_member"]) for c in public["channels"]] == [
        ("C1", "intake", True),
        ("C2", "support", True),
    ]
    everything = await client.conversations_list(types="public_channel,im")
    assert [c["is_im"] for c in everything["channels"]] == [False, False, True]
    with pytest.raises(SlackApiError) as err:
        await client.api_call("nope.nothing")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "unknown_method"
    users = await client.users_list()
    assert {"UBOT", "U1"} <= {u["id"] for u in users["members"]}


@pytest.mark.asyncio
async def test_reconnect_after_disconnect_and_drop(emu: SlackEmulator, connect: Connect) -> None:
    app = make_app(emu)
    texts: list[str] = []

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        texts.append(event["text"])

    # a short ping interval lets the SDK notice the abrupt TCP drop quickly
    await connect(app, ping_interval=0.5)
    assert emu.connections_total == 1

    await emu.send_disconnect(reason="warning")
    await emu.wait_for(lambda: emu.connections_total >= 2)
    await emu.wait_connected()
    await emu.user_message("U1", "C1", "after disconnect")
    await emu.wait_for(lambda: "after disconnect" in texts)

    total = emu.connections_total
    await emu.drop_sockets()
    await emu.wait_for(lambda: emu.connections_total > total)
    await emu.wait_connected()
    await emu.user_message("U1", "C1", "after drop")
    await emu.wait_for(lambda: "after drop" in texts)

    total = emu.connections_total
    await emu.drop_sockets(abrupt=False)  # a close frame: the SDK reconnects at once
    await emu.wait_for(lambda: emu.connections_total > total)
    await emu.wait_connected()
    await emu.user_message("U1", "C1", "after close")
    await emu.wait_for(lambda: "after close" in texts)


@pytest.mark.asyncio
async def test_wait_for_times_out_readably(emu: SlackEmulator) -> None:
    with pytest.raises(TimeoutError, match="still falsy"):
        await emu.wait_for(lambda: False, timeout=0.05)
    with pytest.raises(TimeoutError, match="no ack"):
        await emu.user_message("U1", "C1", "nobody listening", timeout=0.05)
