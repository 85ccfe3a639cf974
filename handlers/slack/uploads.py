"""Upload a file into a case thread (files_upload_v2: get URL, POST bytes, complete)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient


async def upload_to_thread(
    client: AsyncWebClient,
    *,
    channel: str,
    thread_ts: str | None,
    filename: str,
    content: bytes,
    title: str | None = None,
) -> None:
    """Share `content` as `filename` in the thread `thread_ts` of `channel` (None: in the
    channel itself, as in a DM).

    The title defaults to the file name. slack_sdk's errors (SlackApiError,
    SlackRequestError, connection errors) propagate untouched, so the outbox
    dispatcher can retry the whole upload; a retry uploads a fresh file.
    """
    await client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        filename=filename,
        content=content,
        title=title,
    )
