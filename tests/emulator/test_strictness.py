"""The emulator is as strict as Slack: scopes from the manifest, subscribed events only,
not_in_channel, Block Kit limits and per-method rate tiers. A product defect of any of these
kinds fails an end-to-end test here before it fails on a real workspace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import AppManifest, NotDelivered, SlackEmulator

BOT_TOKEN, APP_TOKEN = "xoxb-test", "xapp-test"


async def started(manifest: AppManifest | None = None) -> SlackEmulator:
    emulator = SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN, manifest=manifest)
    await emulator.start()
    emulator.add_user("U1", "alice")
    emulator.add_channel("C1", "support")
    emulator.add_channel("CPRIV", "vip", is_private=True)
    emulator.add_channel("COUT", "elsewhere", is_member=False)
    return emulator


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    emulator = await started()
    try:
        yield emulator
    finally:
        await emulator.stop()


def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)


async def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    return dict(caught.value.response.data)  # type: ignore[arg-type]


# ---- scopes -------------------------------------------------------------------------------


async def test_a_method_without_its_scope_answers_missing_scope_naming_both_sides() -> None:
    emu = await started(AppManifest.project().without_scopes("chat:write"))
    try:
        body = await refusal(client(emu).chat_postMessage(channel="C1", text="hi"))
    finally:
        await emu.stop()
    assert body["error"] == "missing_scope"
    assert body["needed"] == "chat:write"
    provided = body["provided"].split(",")
    assert "chat:write" not in provided and "users:read" in provided
    assert emu.messages("C1") == []


async def test_a_conversation_method_needs_the_scope_of_that_conversation_kind() -> None:
    manifest = AppManifest.project().without_scopes("im:history", "groups:history", "im:read")
    emu = await started(manifest)
    try:
        web = client(emu)
        dm = emu.open_dm("U1")
        assert (await web.conversations_history(channel="C1"))["ok"]
        assert (await refusal(web.conversations_history(channel=dm)))["needed"] == "im:history"
        private = await refusal(web.conversations_replies(channel="CPRIV", ts="1.0"))
        assert private["needed"] == "groups:history"
        assert (await web.conversations_list(types="public_channel"))["ok"]
        listing = await refusal(web.conversations_list(types="public_channel,im"))
        assert listing["needed"] == "im:read"
    finally:
        await emu.stop()


async def test_auth_test_says_the_granted_scopes_in_a_header(emu: SlackEmulator) -> None:
    response = await client(emu).auth_test()
    granted = response.headers["x-oauth-scopes"].split(",")
    assert set(granted) == AppManifest.project().bot_scopes


# ---- channels -----------------------------------------------------------------------------


async def test_a_channel_the_bot_is_not_in_refuses_posts_and_reads(emu: SlackEmulator) -> None:
    web = client(emu)
    assert (await refusal(web.chat_postMessage(channel="COUT", text="x")))["error"] == (
        "not_in_channel"
    )
    assert (await refusal(web.conversations_history(channel="COUT")))["error"] == ("not_in_channel")
    ephemeral = web.chat_postEphemeral(channel="COUT", user="U1", text="x")
    assert (await refusal(ephemeral))["error"] == "not_in_channel"


# ---- events -------------------------------------------------------------------------------


async def connected_app(emu: SlackEmulator, seen: list[dict[str, Any]]) -> AsyncSocketModeHandler:
    app = AsyncApp(client=client(emu))

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        seen.append(event)

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    await asyncio.wait_for(handler.connect_async(), timeout=5)  # type: ignore[no-untyped-call]
    await emu.wait_connected()
    return handler


async def test_only_subscribed_events_in_channels_the_bot_is_in_are_delivered() -> None:
    emu = await started(AppManifest.project().without_events("message.im"))
    seen: list[dict[str, Any]] = []
    handler = await connected_app(emu, seen)
    try:
        await emu.user_message("U1", emu.open_dm("U1"), "in a DM")  # message.im unsubscribed
        await emu.user_message("U1", "COUT", "where the bot is not")
        await emu.user_message("U1", "C1", "in the support channel")
        await emu.wait_for(lambda: seen)
        with pytest.raises(NotDelivered, match="reaction_removed"):
            await emu.send_event({"type": "reaction_removed", "user": "U1", "reaction": "ticket"})
        with pytest.raises(NotDelivered, match="/nope"):
            await emu.slash_command("U1", "/nope")
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await emu.stop()
    assert [e["text"] for e in seen] == ["in the support channel"]
    assert [reason for reason, _ in emu.undelivered] == [
        "the manifest does not subscribe to message.im",
        "the bot is not a member of COUT",
        "the manifest does not subscribe to reaction_removed",
    ]
    assert [m["text"] for m in emu.messages("COUT")] == ["where the bot is not"], "still posted"


# ---- Block Kit limits ---------------------------------------------------------------------


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "a"}
        ],
    }


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        (
            [section("x" * 3001)],
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        ([section("x")] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
        (
            [section("ok"), button("b" * 76)],
            "must be less than 76 characters [json-pointer:/blocks/1/elements/0/text/text]",
        ),
        ([section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    ],
    ids=["long-text", "51-blocks", "long-button", "empty-text"],
)
async def test_blocks_past_a_block_kit_limit_are_refused_with_a_pointer(
    emu: SlackEmulator, blocks: list[dict[str, Any]], error: str
) -> None:
    body = await refusal(client(emu).chat_postMessage(channel="C1", text="t", blocks=blocks))
    assert body["error"] == "invalid_blocks"
    assert error in body["errors"]
    assert f"[ERROR] {error}" in body["response_metadata"]["messages"]
    assert emu.messages("C1") == []


async def test_limits_hold_at_the_edge_and_for_updates(emu: SlackEmulator) -> None:
    web = client(emu)
    edge = [section("x" * 3000)] * 49 + [button("b" * 75)]
    posted = await web.chat_postMessage(channel="C1", text="y" * 40_000, blocks=edge)
    assert posted["ok"]
    too_long = web.chat_update(channel="C1", ts=posted["ts"], text="y" * 40_001)
    assert (await refusal(too_long))["error"] == "msg_too_long"
    home = {"type": "home", "blocks": [section("x")] * 101}
    refused = await refusal(web.views_publish(user_id="U1", view=home))
    assert refused["error"] == "invalid_arguments"
    assert refused["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


# ---- rate tiers ---------------------------------------------------------------------------


async def test_a_method_past_its_tier_answers_429_with_retry_after(emu: SlackEmulator) -> None:
    web = client(emu)  # no retry handler: the first 429 surfaces
    for _ in range(20):  # conversations.list is Tier 2: 20 a minute
        await web.conversations_list()
    with pytest.raises(SlackApiError) as caught:
        await web.conversations_list()
    assert caught.value.response.status_code == 429
    assert int(caught.value.response.headers["Retry-After"]) >= 1
    assert (await web.users_info(user="U1"))["ok"], "another method has its own budget"


async def test_rate_tiers_can_be_switched_off_for_benchmarks() -> None:
    emu = SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN, rate_tiers=False)
    await emu.start()
    try:
        web = client(emu)
        for _ in range(30):
            await web.conversations_list()
    finally:
        await emu.stop()


async def test_a_subscribed_event_without_its_scope_is_not_delivered() -> None:
    emu = await started(AppManifest.project().without_scopes("reactions:read"))
    try:
        with pytest.raises(NotDelivered, match="reaction_added needs reactions:read"):
            await emu.send_event({"type": "reaction_added", "user": "U1", "reaction": "ticket"})
    finally:
        await emu.stop()
