"""The outbox: what must leave the process, and the rules for delivering it.

`kinds` names the deliveries and decides their channel when a row is written; `plan` says
how a key's due rows go out. The claim and settle SQL is in storage/outbox_queries.py, the
loop that runs them in bot/dispatcher.py, the senders (one per channel) in handlers/.
"""

from services.outbox.kinds import (
    AUTOMATIC_KINDS,
    CUSTOMER_KINDS,
    REPORT_KINDS,
    DeliveryDeferred,
    NoSender,
    OutboxKind,
    Undeliverable,
    channel_for,
    enqueue,
    ordering_key,
)

__all__ = [
    "AUTOMATIC_KINDS",
    "CUSTOMER_KINDS",
    "REPORT_KINDS",
    "DeliveryDeferred",
    "NoSender",
    "OutboxKind",
    "Undeliverable",
    "channel_for",
    "enqueue",
    "ordering_key",
]
