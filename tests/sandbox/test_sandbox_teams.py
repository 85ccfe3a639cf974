"""The sandbox's team channels: its own catalog shows one, an operator's catalog brings its own."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.snapshot import snapshot
from bot.sandbox.workspace import (
    PAYMENTS,
    TEAM_PURPOSE,
    add_team_rooms,
    build_emulator,
    sandbox_catalog,
)
from services.triage.catalog import load_catalog, parse_catalog


def test_the_sandbox_catalog_sends_payments_to_the_payments_room(tmp_path: Path) -> None:
    teams = load_catalog(sandbox_catalog(tmp_path)).teams()
    assert teams["refund_request"].cards == PAYMENTS.id
    assert teams["refund_request"].alerts == PAYMENTS.id
    assert "outage" not in teams  # the rest stays in #support


def test_an_operators_team_channels_become_rooms_on_the_page() -> None:
    catalog = parse_catalog(
        "categories:\n"
        "  - name: billing\n"
        "    channel: '#billing-team'\n"
        "    alerts_channel: C0BILLALRT\n"
        "    request_types:\n"
        "      - {id: refund, name: Refund, description: Money back., examples: [refund me],\n"
        "         sla: {unit: hours, value: 8}, priority: 3, channel: payments}\n"
        "      - {id: invoice, name: Invoice, description: A bill., examples: [my invoice],\n"
        "         sla: {unit: hours, value: 8}, priority: 2}\n",
        "test",
    )
    emulator = build_emulator()
    add_team_rooms(emulator, catalog)
    rooms = {c["name"]: c for c in snapshot(emulator.workspace)["channels"]}
    assert rooms["#billing-team"]["purpose"] == TEAM_PURPOSE
    assert rooms["#c0billalrt"]["id"] == "C0BILLALRT"
    assert rooms["#payments"]["id"] == PAYMENTS.id  # already there: not made twice
    names = [c.name for c in emulator.workspace.channels.values()]
    assert names.count("billing-team") == 1 and names.count("payments") == 1
