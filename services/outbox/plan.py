"""How one ordering key's due rows are delivered: which renders coalesce, which mirrors
merge, how long a failed row waits. Pure rules over rows; the runner (bot/dispatcher.py)
applies them and storage/outbox_queries.py records what happened."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from services.outbox.kinds import OutboxKind
from storage.models import OutboxItem

# Kinds whose delivery renders current state, so only the newest pending one matters.
COALESCING_KINDS = frozenset({OutboxKind.CASE_CARD.value})
# Kinds whose consecutive pending rows of one key go out as one delivery (a "batch" payload):
# a burst of messages into one thread (a ticket storm's master) is one post, not hundreds,
# and the reports waiting for one recipient are one mail.
MERGEABLE_KINDS = frozenset({OutboxKind.CASE_THREAD.value, OutboxKind.REPORT_EMAIL.value})
MERGE_MAX_ITEMS = 20
MERGE_MAX_CHARS = 3_000
# Notifications to people are audited when sent; card renders and mirrors are not worth a row,
# and a ticket sync audits itself (`ticket.synced`, with the id).
AUDITED_KINDS = frozenset(
    k.value
    for k in OutboxKind
    if k not in (OutboxKind.CASE_CARD, OutboxKind.CASE_THREAD, OutboxKind.TICKET_SYNC)
)


def backoff(attempts: int, cap_seconds: float = 300.0) -> timedelta:
    """1 s, 2 s, 4 s … capped (5 minutes), with jitter so that retries do not stampede."""
    base = min(2.0 ** max(attempts - 1, 0), cap_seconds)
    return timedelta(seconds=base * random.uniform(1.0, 1.25))


@dataclass(frozen=True)
class Step:
    """One delivery standing for one or more rows of a key."""

    item: OutboxItem
    superseded: bool
    rows: list[OutboxItem]


def plan(group: list[OutboxItem]) -> list[Step]:
    """How to deliver one key's due rows, in order, with as few posts as say the same.

    A card render shows the case as it is at delivery, so of several renders only the first
    (it may be the card's first post, which the thread needs) and the last count: the last
    goes at the end and stands for the ones between. Consecutive thread mirrors go as one post
    and consecutive report mails (one key per recipient) as one mail (a "batch" payload), up
    to MERGE_MAX_ITEMS and about MERGE_MAX_CHARS; rows of different kinds never merge.
    """
    cards = [row for row in group if row.kind in COALESCING_KINDS]
    first_card, last_card = (cards[0], cards[-1]) if len(cards) > 1 else (None, None)
    steps: list[Step] = []
    mirrors: list[OutboxItem] = []

    def flush() -> None:
        if mirrors:
            steps.append(Step(merged(mirrors), False, list(mirrors)))
            mirrors.clear()

    for row in group:
        if last_card is not None and row.kind in COALESCING_KINDS and row is not first_card:
            continue  # rendered once, by the last render, at the end
        if row.kind in MERGEABLE_KINDS:
            size = sum(len(str(m.payload.get("text", ""))) for m in (*mirrors, row))
            full = len(mirrors) >= MERGE_MAX_ITEMS or (mirrors and size > MERGE_MAX_CHARS)
            if full or (mirrors and mirrors[-1].kind != row.kind):
                flush()
            mirrors.append(row)
            continue
        flush()
        steps.append(Step(row, row is first_card, [row]))
    flush()
    if last_card is not None:
        between = [row for row in cards if row is not first_card and row is not last_card]
        steps.append(Step(last_card, False, [last_card, *between]))
    return steps


def merged(rows: list[OutboxItem]) -> OutboxItem:
    """One delivery standing for several mirrors: the first row, every payload in `batch`."""
    if len(rows) == 1:
        return rows[0]
    return rows[0].model_copy(update={"payload": {"batch": [row.payload for row in rows]}})
