"""Shares a report's XLSX file in the requesting agent's DM with the bot."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from storage.models import Report


async def share_in_dm(client: AsyncWebClient, *, user: str, report: Report, summary: str) -> None:
    """Open (or find) the DM with `user` and upload the file there (files_upload_v2).

    Errors propagate, so the outbox retries the whole share; a retry uploads a fresh file.
    """
    opened = await client.conversations_open(users=user)
    channel = str(opened["channel"]["id"])
    await client.files_upload_v2(
        channel=channel,
        filename=report.filename,
        content=report.content,
        title=f"Support report {report.created_at:%Y-%m-%d %H:%M} UTC",
        initial_comment=f"Here is the report you asked for: {summary}" if summary else None,
    )
