"""`casebot assist …`: load a help-desk export as resolved history for suggested replies, and
measure how often the suggestions come from history with the right label."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from bot.settings import Settings
from bot.triage_cli import FILE, TEXT, _bar, run_command, triage_parts
from services.assist.history import HistoryFile, read_history
from services.assist.suggestions import ReplySuggestions
from services.errors import DomainError

SHOWN_REJECTIONS = 10
REPLY = click.option("--reply-col", required=True, help="the column with the agent's answer")


def _read(file: Path, text_col: str, reply_col: str | None, label_col: str | None) -> HistoryFile:
    read = read_history(file, text_col, reply_col, label_col)
    if read.rejected:
        click.echo(f"{len(read.rejected)} row(s) cannot be used:", err=True)
        for line, why in read.rejected[:SHOWN_REJECTIONS]:
            click.echo(f"  line {line}: {why}", err=True)
        if len(read.rejected) > SHOWN_REJECTIONS:
            click.echo(f"  … and {len(read.rejected) - SHOWN_REJECTIONS} more", err=True)
    return read


@click.group()
def assist() -> None:
    """Suggested replies: import history, measure the suggestions."""


@assist.command("import")
@FILE
@TEXT
@REPLY
@click.option("--label-col", default=None, help="a label column, kept to measure with later")
def import_command(file: Path, text_col: str, reply_col: str, label_col: str | None) -> None:
    """Import a help-desk export (question, answer) as resolved history."""

    async def work(settings: Settings) -> None:
        read = _read(file, text_col, reply_col, label_col)
        async with triage_parts(settings) as (sessions, triager):
            if triager.dimension is None:
                raise DomainError("the local model did not load: nothing can be imported")
            suggestions = ReplySuggestions(sessions, embed=triager.embed)
            with _bar(len(read.rows), "importing") as bar:
                stored = await suggestions.import_rows(read.rows, progress=bar.update)
        click.echo(f"imported {stored} row(s) of history; {len(read.rejected)} skipped")

    run_command(work)


@assist.command("eval")
@FILE
@TEXT
@click.option("--label-col", required=True, help="the column with each row's label")
def eval_command(file: Path, text_col: str, label_col: str) -> None:
    """For each row: do the first, and any of the first three, suggestions come from history
    with the row's label? Then the rates overall and per label."""

    async def work(settings: Settings) -> None:
        read = _read(file, text_col, None, label_col)
        if not read.rows:
            raise DomainError(f"{file} has no usable rows")
        async with triage_parts(settings) as (sessions, triager):
            suggestions = ReplySuggestions(sessions, embed=triager.embed)
            await suggestions.refresh()
            if not suggestions.size:
                raise DomainError("there is no history yet: `casebot assist import` first")
            hits: Counter[tuple[str, str]] = Counter()
            for row in read.rows:
                found = await suggestions.suggest(row.text)
                labels = [suggestions.label_of(s.rows[0]) for s in found]
                first = bool(labels) and labels[0] == row.label
                any_of = row.label in labels[:3]
                said = {True: "yes", False: "no"}
                click.echo(f"line {row.line}: top-1 {said[first]}, top-3 {said[any_of]}")
                label = str(row.label)
                hits[(label, "rows")] += 1
                hits[(label, "top1")] += int(first)
                hits[(label, "top3")] += int(any_of)
        labels_seen = sorted({label for label, _ in hits})
        total = sum(hits[(label, "rows")] for label in labels_seen)
        top1 = sum(hits[(label, "top1")] for label in labels_seen)
        top3 = sum(hits[(label, "top3")] for label in labels_seen)
        click.echo(f"{total} rows: top-1 {top1 / total:.4f}, top-3 {top3 / total:.4f}")
        for label in labels_seen:
            rows = hits[(label, "rows")]
            click.echo(
                f"  {label}: top-1 {hits[(label, 'top1')] / rows:.4f},"
                f" top-3 {hits[(label, 'top3')] / rows:.4f} ({rows} rows)"
            )

    run_command(work)
