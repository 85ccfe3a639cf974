"""Block Kit views, pure functions of domain data (validated by slack_sdk's models)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    OverflowMenuElement,
    SectionBlock,
    StaticSelectElement,
)

from handlers.slack import ids
from handlers.slack.ids import ActionId
from handlers.slack.mrkdwn import literal, literal_clip
from services.rules import EscalationReason
from services.transitions import Action, allowed
from services.triage.catalog import Catalog
from services.types import CaseView
from storage.models import Case, CaseStatus, Customer, QuarantinedMessage

PREVIEW_CHARS = 600
MAX_AFFECTED_SHOWN = 30
STATUS_LABEL = {
    CaseStatus.OPEN: ":large_green_circle: Open",
    CaseStatus.ASSIGNED: ":large_blue_circle: Assigned",
    CaseStatus.RESOLVED: ":white_check_mark: Resolved",
    CaseStatus.CLOSED: ":black_circle: Closed",
}
REASON_LABEL = {
    EscalationReason.FOLLOWUPS.value: "follow-ups without a reply",
    EscalationReason.KEYWORD.value: "urgent wording",
    EscalationReason.INACTIVITY.value: "customer waiting too long",
    EscalationReason.URGENCY.value: "high urgency",
    EscalationReason.SLA.value: "first answer past its SLA",
    EscalationReason.STORM.value: "ticket storm",
    EscalationReason.MANUAL.value: "escalated by an agent",
}
BUTTONS: tuple[tuple[ActionId, Action, str, str | None], ...] = (
    (ActionId.CLAIM, Action.CLAIM, "Claim", None),
    (ActionId.RESOLVE, Action.RESOLVE, "Resolve", "primary"),
    (ActionId.ESCALATE, Action.ESCALATE, "Escalate", "danger"),
    (ActionId.CLOSE, Action.CLOSE, "Close", None),
    (ActionId.REOPEN, Action.REOPEN, "Reopen", None),
)


def slack_date(when: datetime) -> str:
    """A date Slack shows in the reader's time zone, with a UTC fallback."""
    epoch = int(when.timestamp())
    fallback = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def person(actor_id: str | None) -> str:
    """A Slack mention for a Slack user id; anyone else (an agent by email, an API token) by
    name, literally."""
    if not actor_id:
        return "—"
    return f"<@{actor_id}>" if is_slack_user(actor_id) else literal(actor_id)


def is_slack_user(actor_id: str) -> bool:
    """A Slack member id (U…/W…), not an email agent's address or an API token's name."""
    return _SLACK_USER.match(actor_id) is not None


def iso_utc(when: datetime) -> str:
    """ISO-8601 UTC with a Z, for lines people grep."""
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def who(customer: Customer) -> str:
    """The customer as agents see them: a Slack mention, else their address, number or name
    (all of which the customer chose, so written literally)."""
    if customer.slack_user_id:
        return f"<@{customer.slack_user_id}>"
    return literal(customer.email or customer.phone or customer.name or "unknown")


def reasons_text(case: Case) -> str:
    if not case.escalation_reasons:
        return "none"
    labels = ", ".join(REASON_LABEL.get(r, r) for r in case.escalation_reasons)
    return f"level {case.escalation_level}: {labels}"


def triage_text(case: Case) -> str:
    """'payments / refund_request (82%, local)', or what is known without triage."""
    if not case.request_type:
        return case.category or "—"
    how = f"{case.triage_confidence:.0%}, " if case.triage_confidence is not None else ""
    return f"{case.category} / {case.request_type} ({how}{case.triage_source or 'unknown'})"


def card_text(case: Case) -> str:
    """The notification fallback text of a card (Slack reads it as mrkdwn too)."""
    if case.master_id is not None:
        return f"Case #{case.number} ({case.status.value}): part of incident #{case.master_id}"
    return f"Case #{case.number} ({case.status.value}): {literal(case.subject)}"


MAX_SELECT_OPTIONS = 100  # Block Kit's limit for a static select


def type_select(case: Case, catalog: Catalog) -> StaticSelectElement:
    """The request types by category; choosing one is an agent's correction."""
    groups, current, count = [], None, 0
    for category in catalog.categories:
        options = []
        for rt in category.request_types[: MAX_SELECT_OPTIONS - count]:
            option = Option(value=ids.type_option(case.number, rt.id), text=clip(rt.name, 75))
            options.append(option)
            if rt.id == case.request_type:
                current = option
        count += len(options)
        if options:
            groups.append(OptionGroup(label=clip(category.name, 75), options=options))
    return StaticSelectElement(
        action_id=ActionId.SET_TYPE.value,
        placeholder="Request type",
        option_groups=groups,
        initial_option=current,
    )


def message_link(channel: str, ts: str) -> str:
    """A message's permalink without asking Slack: Slack sends the reader to the workspace."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def case_card(
    view: CaseView,
    *,
    with_actions: bool = True,
    catalog: Catalog | None = None,
    opened_from: str | None = None,
) -> list[Block]:
    """The case card: what it is, who asked, where it stands, and the buttons that apply.

    A storm's child shows only a pointer to its master incident (the master has the
    buttons); a master lists the affected customers. `opened_from` links the message a case
    was opened from (shortcut or reaction), outside the intake channels and DMs.
    """
    case = view.case
    header = clip(f"Case #{case.number} · {case.subject}", 150)
    if case.master_id is not None:
        pointer = f"Part of incident *#{case.master_id}*: answered and resolved there."
        return [
            HeaderBlock(text=header),
            ContextBlock(elements=[MarkdownTextObject(text=pointer)]),
        ]
    asker = f"{who(view.customer)} via {case.source}"
    if case.is_master:
        names = ", ".join(who(c) for c in view.affected[:MAX_AFFECTED_SHOWN])
        more = len(view.affected) - MAX_AFFECTED_SHOWN
        asker = clip(
            f"{len(view.affected)} affected: {names}" + (f" +{more} more" if more > 0 else ""), 1900
        )
    fields = [
        MarkdownTextObject(text=f"*Status*\n{STATUS_LABEL[case.status]}"),
        MarkdownTextObject(text=f"*{'Customers' if case.is_master else 'Customer'}*\n{asker}"),
        MarkdownTextObject(text=f"*Assignee*\n{f'<@{case.assignee}>' if case.assignee else '—'}"),
        MarkdownTextObject(text=f"*Escalation*\n{reasons_text(case)}"),
        MarkdownTextObject(text=f"*Urgency*\n{case.urgency:.2f}"),
        MarkdownTextObject(text=f"*Category*\n{triage_text(case)}"),
        MarkdownTextObject(text=f"*Ticket*\n{literal(case.ticket_ref)}"),
    ]
    if case.sla_due_at is not None:
        answered = case.last_agent_message_at is not None
        due = "met" if answered else f"first answer due {slack_date(case.sla_due_at)}"
        fields.append(MarkdownTextObject(text=f"*SLA*\n{due}"))
    blocks: list[Block] = [
        HeaderBlock(text=header),
        SectionBlock(fields=fields),
    ]
    if view.last_customer_message:
        preview = literal_clip(view.last_customer_message, PREVIEW_CHARS)
        quoted = "\n".join(f"> {line}" for line in preview.splitlines())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=quoted)))
    timeline = _timeline(case)
    if opened_from:  # a case opened from a message anywhere: where that message is
        timeline += f" · <{opened_from}|the message it was opened from>"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=timeline)]))
    buttons = [
        ButtonElement(
            text=label,
            action_id=action_id.value,
            value=ids.button_value(case.number),
            style=style,
        )
        for action_id, action, label, style in BUTTONS
        if allowed(case.status, action) and _button_applies(case, action)
    ]
    if case.status in (CaseStatus.OPEN, CaseStatus.ASSIGNED):  # a case still to be answered
        buttons.append(
            ButtonElement(
                text="Suggest reply",
                action_id=ActionId.SUGGEST.value,
                value=ids.button_value(case.number),
            )
        )
    elements: list[ButtonElement | StaticSelectElement | OverflowMenuElement] = list(buttons)
    if catalog is not None and allowed(case.status, Action.RECATEGORISE):
        elements.append(type_select(case, catalog))
    elements.append(
        OverflowMenuElement(
            action_id=ActionId.MORE.value,
            options=[
                Option(value=ids.more_option(case.number, ids.SUMMARIZE), text="Summarize"),
                Option(value=ids.more_option(case.number, ids.HISTORY), text="History"),
            ],
        )
    )
    if with_actions and elements:
        blocks.append(ActionsBlock(block_id=ids.actions_block_id(case.number), elements=elements))
    return blocks


def queue_line(case: Case) -> str:
    """One line of `/queue` or `/case find`."""
    flags = " :rotating_light:" if case.escalation_level else ""
    assignee = f" · <@{case.assignee}>" if case.assignee else " · unassigned"
    return (
        f"*#{case.number}*{flags} {literal_clip(case.subject, 80)} · {case.status.value}{assignee}"
        f" · opened {slack_date(case.created_at)}"
    )


def listing(title: str, cases: Sequence[Case], empty: str) -> list[Block]:
    """A titled list of cases (at most 40 lines, well within Block Kit's limits)."""
    if not cases:
        return [SectionBlock(text=MarkdownTextObject(text=empty))]
    lines = "\n".join(queue_line(c) for c in cases[:40])
    return [SectionBlock(text=MarkdownTextObject(text=clip(f"*{title}*\n{lines}", 3000)))]


def quarantine_listing(items: Sequence[QuarantinedMessage]) -> list[Block]:
    """What could not be read: when, from which channel, why, and how big."""
    lines = [
        f"*Q{item.id}* · {item.source} · {slack_date(item.received_at)} · "
        f"{literal_clip(item.reason, 120)} · {len(item.raw):,} bytes"
        for item in items
    ]
    return [
        SectionBlock(text=MarkdownTextObject(text=clip("*Quarantine*\n" + "\n".join(lines), 3000)))
    ]


def _button_applies(case: Case, action: Action) -> bool:
    if action == Action.ESCALATE:
        return EscalationReason.MANUAL.value not in case.escalation_reasons
    return True


def _timeline(case: Case) -> str:
    parts = [f"Opened {slack_date(case.created_at)}"]
    if case.last_customer_message_at:
        parts.append(f"customer wrote {slack_date(case.last_customer_message_at)}")
    if case.last_agent_message_at:
        parts.append(f"agent replied {slack_date(case.last_agent_message_at)}")
    if case.closed_at:
        parts.append(f"closed {slack_date(case.closed_at)} by {person(case.closed_by)}")
    return " · ".join(parts)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
