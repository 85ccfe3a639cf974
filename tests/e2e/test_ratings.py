"""CSAT: a resolved case's customer is asked once to rate it 1-5 and may add one comment; the
rating reaches the card's thread and App Home, a low one the alerts channel."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from io import BytesIO
from typing import Any

import aiohttp
from openpyxl import load_workbook

from bot.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from handlers.email.inbound import to_inbound
from handlers.email.parsing import parse_email
from services.report_data import gather
from services.report_workbook import CASES_SHEET, build_workbook
from storage.models import Rating, utcnow
from tests.e2e.conftest import (
    AGENT,
    ALERTS,
    CUSTOMER,
    INTAKE,
    JSON,
    STRANGER,
    SUPPORT,
    buttons,
    card,
    ephemerals_for,
)
from tests.e2e.mail import customer_mail, mails, smtp_settings, text_of
from tests.e2e.slack_ui import home_text
from tests.smtp_server import Inbox


async def resolved_case(slack: SlackEmulator) -> tuple[JSON, JSON, JSON]:
    """A case opened in the intake channel and resolved: (question, card, the notice)."""
    asked = await slack.user_message(CUSTOMER, INTAKE, "The export button does nothing")
    posted = await card(slack, 1)
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    notice = await slack.wait_for(
        lambda: next(
            (m for m in slack.replies(INTAKE, asked["ts"]) if "csat_1" in str(m.get("blocks"))),
            None,
        )
    )
    return asked, posted, notice


def in_card_thread(slack: SlackEmulator, posted: JSON) -> str:
    return "\n".join(m["text"] for m in slack.replies(SUPPORT, posted["ts"]))


def rating_buttons(message: JSON) -> dict[str, str]:
    return {k: v for k, v in buttons(message).items() if k.startswith("csat_")}


async def test_a_slack_customer_rates_once_and_comments_once(
    slack: SlackEmulator, bot: Runtime
) -> None:
    asked, posted, notice = await resolved_case(slack)
    assert notice["text"].startswith("Case #1 has been resolved.")
    assert rating_buttons(notice) == {f"csat_{n}": "1" for n in range(1, 6)}

    forged = await slack.click(STRANGER, INTAKE, notice["ts"], "csat_5")
    await slack.wait_for(lambda: forged.responses)
    assert "This rating is not yours to give." in ephemerals_for(slack, STRANGER)

    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_4")
    await slack.wait_for(lambda: "★★★★☆ 4/5" in in_card_thread(slack, posted))
    thanked = slack.get_message(INTAKE, notice["ts"])
    assert thanked is not None and "You rated case #1 ★★★★☆ 4/5" in str(thanked["blocks"])
    assert rating_buttons(thanked) == {}, "the buttons are gone: one rating"

    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_comment", "Quick, <!channel> thanks")
    await slack.wait_for(lambda: "Comment on the rating" in in_card_thread(slack, posted))
    assert "Quick, &lt;!channel&gt; thanks" in in_card_thread(slack, posted), "never live"
    assert "csat_comment" not in str(slack.get_message(INTAKE, notice["ts"]))
    assert slack.messages(ALERTS) == [], "4/5 is no alert"
    home = {
        "type": "app_home_opened",
        "user": AGENT,
        "channel": slack.open_dm(AGENT),
        "tab": "home",
    }
    await slack.send_event(home)
    await slack.wait_for(
        lambda: (
            "*Customer rating this week*\n4.0 / 5 (1 rated)"
            in home_text(slack.views.get(AGENT) or {})
        )
    )

    workbook = load_workbook(
        BytesIO(build_workbook(await gather(bot.parts.sessions, now=utcnow(), window_days=7)))
    )
    [header, row] = list(workbook[CASES_SHEET].iter_rows(values_only=True))
    listed = dict(zip(header, row, strict=True))
    assert (listed["Rating"], listed["Rating comment"]) == (4, "Quick, <!channel> thanks")

    record = await bot.parts.reads.record(1)
    rated = [(e.action, e.data) for e in record.audit if e.action.startswith("case.rat")]
    assert rated == [
        ("case.rated", {"score": 4}),
        ("case.rating_commented", {"comment": "Quick, <!channel> thanks"}),
    ]

    # Reopened and resolved again: not asked a second time.
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_reopen", "1")
    await card(slack, 1, status="open")
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    again = await slack.wait_for(
        lambda: [
            m
            for m in slack.replies(INTAKE, asked["ts"])
            if "has been resolved" in m["text"] and m["ts"] != notice["ts"]
        ]
    )
    assert rating_buttons(again[0]) == {}


async def test_a_low_rating_and_its_comment_alert_the_leads(
    slack: SlackEmulator, bot: Runtime
) -> None:
    _asked, posted, notice = await resolved_case(slack)

    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_1")
    [alert] = await slack.wait_for(lambda: slack.messages(ALERTS))
    assert alert["text"].startswith(":thumbsdown: *Case #1 rated 1/5* by the customer")
    assert "open card" in alert["text"]
    await slack.click(CUSTOMER, INTAKE, notice["ts"], "csat_comment", "Nobody read my question")
    await slack.wait_for(lambda: len(slack.messages(ALERTS)) == 2)
    assert "> Nobody read my question" in slack.messages(ALERTS)[1]["text"]
    assert "★☆☆☆☆ 1/5" in in_card_thread(slack, posted)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_email_customer_rates_with_one_click_and_comments_on_the_page(
    slack: SlackEmulator,
    start_bot: Callable[..., Any],
    smtp: tuple[int, Inbox],
    http: aiohttp.ClientSession,
) -> None:
    smtp_port, inbox = smtp
    port = free_port()
    bot: Runtime = await start_bot(
        **smtp_settings(smtp_port), port=port, public_url=f"http://127.0.0.1:{port}/"
    )
    mail = customer_mail("Invoice", "Invoice 2024-17 is wrong", "<r1@example.org>")
    await bot.cases.intake.ingest(to_inbound(parse_email(mail)))
    posted = await card(slack, 1)
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    resolved = (await mails(inbox, 2))[1]
    links = dict(re.findall(r"^  ([1-5])  (http://\S+)\r?$", text_of(resolved), re.MULTILINE))
    assert sorted(links) == ["1", "2", "3", "4", "5"]
    public_id = (await bot.cases.reads.get(1)).public_id
    assert all(f"/rate/{public_id}/" in url for url in links.values())

    forged = links["5"].replace(links["5"].split("/")[-2], "x" * 32)
    async with http.get(forged) as page:
        assert page.status == 404 and "not valid" in await page.text()

    async with http.get(links["5"]) as page:
        assert page.status == 200
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        shown = await page.text()
    assert "You rated case #1 <b>★★★★★ 5/5</b>" in shown and 'name="comment"' in shown
    async with http.get(links["1"]) as page:
        assert "★★★★★ 5/5" in await page.text(), "the first answer counts"

    form = links["5"].rsplit("/", 1)[0]
    async with http.post(form, data={"comment": "<script>alert(1)</script> great"}) as page:
        shown = await page.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; great" in shown and "<script>" not in shown
    await slack.wait_for(
        lambda: (
            "Comment on the rating" in in_card_thread(slack, posted)
            and "★★★★★ 5/5" in in_card_thread(slack, posted)
        )
    )
    assert slack.messages(ALERTS) == []


async def test_without_public_url_an_email_customer_is_not_asked(
    slack: SlackEmulator, start_bot: Callable[..., Any], smtp: tuple[int, Inbox]
) -> None:
    """The links could reach no one: the mail says resolved and asks nothing."""
    smtp_port, inbox = smtp
    bot: Runtime = await start_bot(**smtp_settings(smtp_port))
    mail = customer_mail("Invoice", "Invoice 2024-17 is wrong", "<r2@example.org>")
    await bot.cases.intake.ingest(to_inbound(parse_email(mail)))
    posted = await card(slack, 1)
    await slack.click(AGENT, SUPPORT, posted["ts"], "case_resolve", "1")
    resolved = text_of((await mails(inbox, 2))[1])
    assert "resolved" in resolved.lower() and "/rate/" not in resolved
    async with bot.parts.sessions() as session:
        assert await session.get(Rating, 1) is None
