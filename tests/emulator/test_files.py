"""The emulator's external upload flow, driven by slack_sdk's files_upload_v2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import SlackEmulator
from handlers.slack.uploads import upload_to_thread

BOT_TOKEN = "xoxb-test"
# Not valid UTF-8, plus NUL, CR/LF and every byte value once.
BINARY = b"\xff\xfe\x00\x80\xc3(\r\n" + bytes(range(256))


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(bot_token=BOT_TOKEN, app_token="xapp-test")
    await emulator.start(host="127.0.0.1", port=0)
    emulator.add_user("U1", "alice")
    emulator.add_channel("C1", "support")
    emulator.add_channel("C9", "elsewhere", is_member=False)
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)


async def parent(client: AsyncWebClient, channel: str = "C1") -> str:
    response = await client.chat_postMessage(channel=channel, text="Case #7")
    return str(response["ts"])


async def test_upload_to_thread_posts_file_share_reply(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    thread_ts = await parent(client)

    await upload_to_thread(
        client,
        channel="C1",
        thread_ts=thread_ts,
        filename="transcript.txt",
        content=b"hello\n",
        title="Transcript",
    )

    [reply] = emu.replies("C1", thread_ts)
    assert reply["subtype"] == "file_share"
    assert reply["user"] == emu.workspace.bot_user_id
    assert reply["thread_ts"] == thread_ts
    [shared] = reply["files"]
    assert shared["name"] == "transcript.txt"
    assert shared["title"] == "Transcript"
    assert shared["size"] == 6
    assert shared["mimetype"] == "text/plain"
    assert shared["id"].startswith("F")
    assert [m["ts"] for m in emu.messages("C1")] == [thread_ts]  # not top level
    assert emu.get_message("C1", thread_ts)["reply_count"] == 1  # type: ignore[index]

    [stored] = emu.files()
    assert (stored.id, stored.name, stored.title) == (shared["id"], "transcript.txt", "Transcript")
    assert (stored.channel, stored.thread_ts, stored.content) == ("C1", thread_ts, b"hello\n")
    assert stored.completed
    assert [c.method for c in emu.calls if c.method != "chat.postMessage"] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]


async def test_binary_content_round_trips_byte_for_byte(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    thread_ts = await parent(client)

    await upload_to_thread(
        client, channel="C1", thread_ts=thread_ts, filename="dump.bin", content=BINARY
    )

    [stored] = emu.files()
    assert stored.content == BINARY
    assert stored.size == stored.length == len(BINARY)
    assert stored.title == "dump.bin"  # defaults to the file name
    [reply] = emu.replies("C1", thread_ts)
    [shared] = reply["files"]
    assert shared["size"] == len(BINARY)
    assert shared["mimetype"] == "application/octet-stream"
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
        async with session.get(shared["url_private"], headers=headers) as resp:
            assert resp.status == 200
            assert await resp.read() == BINARY
        async with session.get(shared["url_private"]) as resp:
            assert resp.status == 403


async def test_top_level_share_with_comment_returns_file_objects(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    response = await client.files_upload_v2(
        channel="C1", filename="report.csv", content="a,b\n1,2\n", initial_comment="Weekly"
    )

    [message] = emu.messages("C1")
    assert message["text"] == "Weekly"
    assert message["files"][0]["id"] == response["file"]["id"]
    assert response["files"][0]["channels"] == ["C1"]
    assert response["file"]["mimetype"] == "text/csv"
    assert emu.files()[0].thread_ts is None


async def test_unknown_or_unuploaded_file_is_file_not_found(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as bogus:
        await client.files_completeUploadExternal(files=[{"id": "FNOPE"}], channel_id="C1")
    assert bogus.value.response["error"] == "file_not_found"

    announced = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as early:
        await client.files_completeUploadExternal(
            files=[{"id": announced["file_id"]}], channel_id="C1"
        )
    assert early.value.response["error"] == "file_not_found"
    assert emu.messages("C1") == []


@pytest.mark.parametrize(
    ("channel", "error"), [("CNOPE", "channel_not_found"), ("C9", "not_in_channel")]
)
async def test_bad_channel_is_an_error_and_posts_nothing(
    emu: SlackEmulator, client: AsyncWebClient, channel: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as exc:
        await upload_to_thread(
            client, channel=channel, thread_ts="1.000001", filename="x.txt", content=b"x"
        )
    assert exc.value.response["error"] == error
    assert emu.messages("C1") == emu.messages("C9") == []
    assert not emu.files()[0].completed


@pytest.mark.parametrize(
    "params",
    [
        {"length": 3},
        {"filename": "a.txt"},
        {"filename": "a.txt", "length": "three"},
        {"filename": "a.txt", "length": -1},
    ],
)
async def test_get_upload_url_needs_filename_and_length(
    emu: SlackEmulator, client: AsyncWebClient, params: dict[str, Any]
) -> None:
    with pytest.raises(SlackApiError) as exc:
        await client.api_call("files.getUploadURLExternal", params=params)
    assert exc.value.response["error"] == "invalid_arguments"
    assert emu.files() == []


@pytest.mark.parametrize("files", [None, "not json", "[]", '[{"title": "no id"}]'])
async def test_complete_needs_a_files_list(client: AsyncWebClient, files: str | None) -> None:
    params = {"channel_id": "C1"} if files is None else {"channel_id": "C1", "files": files}
    with pytest.raises(SlackApiError) as exc:
        await client.api_call("files.completeUploadExternal", params=params)
    assert exc.value.response["error"] == "invalid_arguments"


async def test_json_args_bad_token_and_lenient_length(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url)
    with pytest.raises(SlackApiError) as exc:
        await bad.files_getUploadURLExternal(filename="a.txt", length=1)
    assert exc.value.response["error"] == "invalid_auth"

    got = await client.api_call(
        "files.getUploadURLExternal", json={"filename": "notes.md", "length": 3}
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(got["upload_url"], data=b"0123456789") as resp,
    ):
        assert resp.status == 200
        assert await resp.text() == "OK - 10"
    done = await client.files_completeUploadExternal(
        files=[{"id": got["file_id"], "title": "Notes"}], channel_id="C1"
    )
    assert done["files"][0]["size"] == 10
    [stored] = emu.files()
    assert (stored.length, stored.size, stored.title) == (3, 10, "Notes")


async def test_multipart_upload_is_accepted(emu: SlackEmulator, client: AsyncWebClient) -> None:
    got = await client.files_getUploadURLExternal(filename="pic.png", length=len(BINARY))
    form = aiohttp.FormData()
    form.add_field("filename", BINARY, filename="pic.png", content_type="image/png")
    async with aiohttp.ClientSession() as session, session.post(got["upload_url"], data=form):
        pass
    assert emu.file(got["file_id"]).content == BINARY  # type: ignore[union-attr]


async def test_faults_apply_to_the_new_methods_and_the_upload_url(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    thread_ts = await parent(client)
    emu.fail_next("files.getUploadURLExternal", error="internal_error")
    emu.fail_next("upload_url", status=503)
    emu.fail_next("files.completeUploadExternal", status=429, retry_after=2)

    async def attempt() -> None:
        await upload_to_thread(
            client, channel="C1", thread_ts=thread_ts, filename="x.txt", content=b"x"
        )

    with pytest.raises(SlackApiError) as first:
        await attempt()
    assert first.value.response["error"] == "internal_error"
    with pytest.raises(SlackRequestError, match="status: 503"):
        await attempt()
    with pytest.raises(SlackApiError) as third:
        await attempt()
    assert third.value.response.status_code == 429
    assert emu.replies("C1", thread_ts) == []

    await attempt()  # the outbox's retry: a fresh file, shared once
    [reply] = emu.replies("C1", thread_ts)
    assert [f.completed for f in emu.files()] == [False, False, True]
    assert reply["files"][0]["id"] == emu.files()[-1].id
