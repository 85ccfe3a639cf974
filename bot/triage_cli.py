"""`casebot triage …`: teach triage from a help-desk export, measure it, re-triage a backlog."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from bot.config import catalog
from bot.settings import ConfigError, Settings, load_settings
from bot.wiring.triage import build_triager
from services.cases import CaseService
from services.errors import DomainError
from services.triage.history import History, load_label_map, read_history
from services.triage.learning import learnt
from services.triage.service import Triager
from services.triage.training import evaluate, import_history
from storage.engine import SessionFactory, create_engine, create_session_factory
from storage.migrate import upgrade

T = TypeVar("T")
SHOWN_REJECTIONS = 10


def fail(message: str) -> NoReturn:
    click.echo(f"casebot: {message}", err=True)
    sys.exit(2)


@asynccontextmanager
async def triage_parts(settings: Settings) -> AsyncIterator[tuple[SessionFactory, Triager]]:
    """The database (migrated) and a triager that knows what was learnt so far."""
    service_catalog = catalog(settings)
    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        triager = build_triager(settings, service_catalog)
        try:
            await triager.start(lambda dimension: learnt(sessions, dimension))
            yield sessions, triager
        finally:
            await triager.close()
    finally:
        await engine.dispose()


def run_command(work: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(work(load_settings()))
    except (ConfigError, DomainError) as error:
        fail(str(error))


def _read(
    settings: Settings, file: Path, text_col: str, label_col: str, mapping: Path | None
) -> History:
    service_catalog = catalog(settings)
    history = read_history(
        file, text_col, label_col, service_catalog, load_label_map(mapping, service_catalog)
    )
    if history.rejected:
        click.echo(f"{len(history.rejected)} row(s) skipped:", err=True)
        for line, why in history.rejected[:SHOWN_REJECTIONS]:
            click.echo(f"  line {line}: {why}", err=True)
        if len(history.rejected) > SHOWN_REJECTIONS:
            click.echo(f"  … and {len(history.rejected) - SHOWN_REJECTIONS} more", err=True)
    return history


def _bar(length: int, label: str) -> Any:
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
TEXT = click.option("--text-col", required=True, help="the column with the customer's text")
LABEL = click.option("--label-col", required=True, help="the column with the label")
MAP = click.option(
    "--map",
    "mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML: request type -> [labels]; a type with [] takes the labels not listed",
)


@click.group()
def triage() -> None:
    """Teach and check triage."""


@triage.command()
@FILE
@TEXT
@LABEL
@MAP
def train(file: Path, text_col: str, label_col: str, mapping: Path | None) -> None:
    """Import labelled history (a help-desk export) as examples triage learns from."""

    async def work(settings: Settings) -> None:
        history = _read(settings, file, text_col, label_col, mapping)
        async with triage_parts(settings) as (sessions, triager):
            if triager.dimension is None:
                raise DomainError("the local model did not load: nothing can be learnt")
            with _bar(len(history.examples), "learning") as bar:
                result = await import_history(
                    sessions, triager, history.examples, progress=bar.update
                )
        click.echo(f"learnt {result.stored} example(s); {result.already_known} were already known")

    run_command(work)


@triage.command("eval")
@FILE
@TEXT
@LABEL
@MAP
def evaluate_command(file: Path, text_col: str, label_col: str, mapping: Path | None) -> None:
    """Accuracy, macro-F1 and the confusion matrix of triage on a labelled file."""

    async def work(settings: Settings) -> None:
        history = _read(settings, file, text_col, label_col, mapping)
        if not history.examples:
            raise DomainError(f"{file} has no usable rows")
        async with triage_parts(settings) as (_, triager):
            with _bar(len(history.examples), f"classifying ({triager.mode})") as bar:
                report = await evaluate(triager, history, progress=bar.update)
        click.echo(
            f"{report.count} texts: accuracy {report.accuracy:.4f}, macro-F1 {report.macro_f1:.4f}"
        )
        for label, f1 in report.per_type_f1.items():
            click.echo(f"  {label}: F1 {f1:.4f}")
        click.echo("confusion matrix (rows: label, columns: triage):")
        click.echo(report.table())

    run_command(work)


@triage.command()
@click.option("--batch", default=30, show_default=True, type=click.IntRange(1, 1000))
def backlog(batch: int) -> None:
    """Classify every open case again (cases an agent typed keep their type)."""

    async def work(settings: Settings) -> None:
        async with triage_parts(settings) as (sessions, triager):
            cases = CaseService(sessions, rules=settings.rules, triage=triager)
            total = await cases.reads.active_count()
            with _bar(total, f"re-triaging ({triager.mode})") as bar:
                seen, changed = await cases.triage.retriage_backlog(
                    batch=batch, progress=bar.update
                )
        click.echo(f"re-triaged {seen} open case(s); {changed} changed type")

    run_command(work)
