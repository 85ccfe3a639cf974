"""`casebot import helpdesk`: bring a help desk's requests in as cases, through the same
intake as every channel (triage, routing, cards), once each: a request's id in the help desk
is its message id, so a second run adds only what is new."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from bot.settings import Settings
from bot.triage_cli import run_command, triage_parts
from handlers.helpdesk.client import HelpdeskError, pages
from handlers.helpdesk.config import HelpdeskConfig, ImportConfigError, load_config
from handlers.helpdesk.mapping import Unusable, inbound
from services.cases import CaseService
from services.errors import DomainError

SHOWN_SKIPPED = 10


@dataclass
class Tally:
    read: int = 0
    new: int = 0
    known: int = 0
    skipped: list[str] = field(default_factory=list)


@click.group("import")
def import_group() -> None:
    """Bring requests in from another system."""


@import_group.command("helpdesk")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML: the API's URL, sign-in, paging and field mapping (see the README)",
)
@click.option("--dry-run", is_flag=True, help="read and map every request; store nothing")
def helpdesk(config_path: Path, dry_run: bool) -> None:
    """Import a help desk's requests (a JSON API, key + secret) as cases."""

    async def work(settings: Settings) -> Tally:
        try:
            config = load_config(config_path)
        except ImportConfigError as error:
            raise DomainError(str(error)) from None
        if dry_run:
            return await _read(config, None)
        async with triage_parts(settings) as (sessions, triager):
            cases = CaseService(
                sessions, rules=settings.rules, triage=triager, storms=settings.storms
            )
            return await _read(config, cases)

    tally = run_command(work)
    for why in tally.skipped[:SHOWN_SKIPPED]:
        click.echo(f"  skipped: {why}", err=True)
    if len(tally.skipped) > SHOWN_SKIPPED:
        click.echo(f"  … and {len(tally.skipped) - SHOWN_SKIPPED} more skipped", err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"read {tally.read} request(s): {verb} {tally.new}, {tally.known} already imported, "
        f"{len(tally.skipped)} skipped"
    )


async def _read(config: HelpdeskConfig, cases: CaseService | None) -> Tally:
    """Read every page; ingest each usable request (None: a dry run, nothing stored)."""
    tally = Tally()
    with ExitStack() as stack:
        bar: Any = None
        try:
            async for page in pages(config):
                if bar is None and page.total:
                    bar = stack.enter_context(
                        click.progressbar(
                            length=page.total, label="importing", file=sys.stderr, show_pos=True
                        )
                    )
                for item in page.items:
                    await _one(item, config, cases, tally)
                if bar is not None:
                    bar.update(len(page.items))
                else:
                    click.echo(f"  {tally.read} request(s) read", err=True)
        except (HelpdeskError, ImportConfigError) as error:
            raise DomainError(str(error)) from None
    return tally


async def _one(item: Any, config: HelpdeskConfig, cases: CaseService | None, tally: Tally) -> None:
    tally.read += 1
    try:
        message = inbound(item, config.fields)
    except Unusable as why:
        tally.skipped.append(f"request {tally.read}: {why}")
        return
    if cases is None:
        tally.new += 1
    elif (await cases.intake.ingest(message)).duplicate:
        tally.known += 1
    else:
        tally.new += 1
