"""`casebot report --out FILE`: the XLSX report written to a file, with a progress bar."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from bot.settings import ConfigError, Settings, load_settings
from services.report_data import gather, listed
from services.report_workbook import build_workbook
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import utcnow


async def _build(settings: Settings, days: float, page_size: int) -> tuple[bytes, str]:
    """The workbook's bytes and its one-line summary."""
    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        now = utcnow()
        total = await listed(sessions, now=now, window_days=days)
        with click.progressbar(
            length=total, label="Reading cases", file=sys.stderr, show_pos=True
        ) as bar:
            done = 0

            def progress(read: int, _: int) -> None:
                nonlocal done
                bar.update(read - done)
                done = read

            data = await gather(
                sessions, now=now, window_days=days, page_size=page_size, progress=progress
            )
    finally:
        await engine.dispose()
    return await asyncio.to_thread(build_workbook, data), data.summary()


@click.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="the .xlsx file to write",
)
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="list resolved and closed cases of this many days (default: REPORT_WINDOW_DAYS)",
)
@click.option("--page-size", type=click.IntRange(min=1), default=500, hidden=True)
def report(out: Path, days: float | None, page_size: int) -> None:
    """Write the XLSX report of open and recently closed cases to a file."""
    try:
        settings = load_settings()
    except ConfigError as error:
        click.echo(f"casebot: {error}", err=True)
        sys.exit(2)
    window = days if days is not None else settings.report_window_days
    content, summary = asyncio.run(_build(settings, window, page_size))
    out.write_bytes(content)
    click.echo(f"wrote {out}: {summary}")
