"""The README's run command with no Slack tokens, in a real browser: a customer writes, the
card appears, an agent takes a reply back with Undo, clicks Resolve, the card changes, and the
customer rates the case and comments. Everything in between is the real bot over Socket Mode
against the built-in emulator."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.sandbox.browser import chromium
from tests.sandbox.sandbox_process import sandbox

T = TypeVar("T")
WAIT = 30.0  # the first case waits for the local model to load


@dataclass(frozen=True)
class Card:
    """A card as drawn at one moment (the page redraws, so elements do not last)."""

    element: WebElement
    text: str
    buttons: dict[str, str]  # label → action_id


def wait(
    driver: WebDriver, find: Callable[[WebDriver], T | bool | None], seconds: float = WAIT
) -> T:
    """The first truthy `find(driver)`; a redraw in between (a stale element) means try again."""
    waiting = WebDriverWait(
        driver, seconds, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    )
    return waiting.until(find)  # type: ignore[arg-type,no-any-return]


def card(driver: WebDriver, number: int) -> Card | None:
    for message in driver.find_elements(By.CSS_SELECTOR, "#messages > .msg"):
        text = message.text
        if f"Case #{number} ·" in text:
            buttons = {
                b.text: str(b.get_attribute("data-action-id"))
                for b in message.find_elements(By.CSS_SELECTOR, "button[data-action-id]")
            }
            return Card(message, text, buttons)
    return None


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def messages_text(driver: WebDriver) -> str:
    return text_of(driver, "messages")


def top_level(driver: WebDriver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#messages > .msg"))


def act_as(driver: WebDriver, name: str) -> None:
    Select(driver.find_element(By.ID, "as")).select_by_visible_text(name)


def write(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()


@pytest.mark.slow
def test_customer_writes_agent_resolves_in_the_browser(tmp_path: Path) -> None:
    with sandbox(tmp_path) as (url, _), chromium() as driver:
        driver.get(url)
        wait(driver, lambda d: d.find_element(By.ID, "room-name").text == "#help")

        write(driver, "My card payment failed twice and I was charged, please refund it")
        channel = wait(
            driver,
            lambda d: (
                (text := d.find_element(By.ID, "messages").text) and "case #1" in text and text
            ),
        )
        assert "carol" in channel and "We've opened case #1" in channel

        act_as(driver, "agnes (agent)")
        wait(driver, lambda d: d.find_element(By.ID, "room-name").text == "#support")
        # A payments case: the catalog sends its card to the payments team's channel.
        press(driver, By.CSS_SELECTOR, "#rooms button[data-room=CPAYMENT]")
        wait(driver, lambda d: d.find_element(By.ID, "room-name").text == "#payments")
        opened = wait(driver, lambda d: card(d, 1))
        assert "Open" in opened.text
        assert "My card payment failed twice" in opened.text
        assert {"Claim", "Resolve", "Escalate", "Close"} <= set(opened.buttons)

        look_at_a_suggestion(driver)

        take_back_a_reply(driver)

        press(driver, By.CSS_SELECTOR, "#messages > .msg button[data-action-id=case_resolve]")
        resolved = wait(driver, lambda d: (c := card(d, 1)) and "Resolved" in c.text and c)
        assert "Resolve" not in resolved.buttons and "Reopen" in resolved.buttons
        assert "(edited)" in resolved.text  # updated in place, not posted again
        assert top_level(driver) == 1

        driver.find_element(By.ID, "home-open").click()  # as Slack does on each visit to the tab
        home = wait(driver, lambda d: "Resolved today\n1" in (t := text_of(d, "home")) and t)
        assert "Your support desk" in home  # agnes's App Home, drawn by the bot

        rate_as_the_customer(driver)

        act_as(driver, "agnes (agent)")
        wait(driver, lambda d: d.find_element(By.ID, "room-name").text == "#support")
        write(driver, "/queue")
        wait(driver, lambda d: "The queue is empty" in d.find_element(By.ID, "ephemerals").text)
        assert driver.find_element(By.ID, "error").text == ""

        share_a_file(driver, tmp_path)

        shot = os.environ.get("SANDBOX_SCREENSHOT")
        if shot:
            driver.save_screenshot(shot)


def look_at_a_suggestion(driver: WebDriver) -> None:
    """Suggest reply opens a modal (nothing resolved yet to draft from); Discard closes it."""
    press(driver, By.CSS_SELECTOR, "#messages > .msg button[data-action-id=case_suggest]")
    wait(driver, lambda d: "No resolved case is similar enough" in text_of(d, "modal"))
    assert "Suggested reply" in text_of(driver, "modal")
    driver.find_element(By.ID, "modal-close").click()
    wait(driver, lambda d: d.find_element(By.ID, "modal").get_attribute("hidden") is not None)
    menu = driver.find_element(By.CSS_SELECTOR, "#messages > .msg select[data-action-id=case_more]")
    Select(menu).select_by_value("summarize:1")  # the card's ⋯ → Summarize
    wait(driver, lambda d: "Case #1 in short" in text_of(d, "ephemerals"))


def share_a_file(driver: WebDriver, tmp_path: Path) -> None:
    """Carol attaches a picture in the composer: it is shared with her message."""
    picture = tmp_path / "screenshot.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    act_as(driver, "carol (customer)")
    wait(driver, lambda d: d.find_element(By.ID, "room-name").text == "#help")
    driver.find_element(By.ID, "file").send_keys(str(picture))
    write(driver, "And here is what I see")
    wait(driver, lambda d: "📎 screenshot.png" in messages_text(d))
    assert driver.find_element(By.ID, "file").get_attribute("value") == ""


def press(driver: WebDriver, by: str, selector: str) -> None:
    """Click the first element found, once it is there; a redraw in between means find it
    again."""

    def clicked(d: WebDriver) -> bool:
        found = d.find_elements(by, selector)
        if found:
            found[0].click()
        return bool(found)

    wait(driver, clicked)


def take_back_a_reply(driver: WebDriver) -> None:
    """agnes replies in the card's thread, sees *Sending in 10 s · Undo* and clicks Undo."""
    press(driver, By.XPATH, "//div[@id='messages']/div[1]/button[contains(text(), 'reply')]")
    wait(driver, lambda d: d.find_element(By.ID, "thread-bar").is_displayed())
    write(driver, "Could you send the invoice number?")
    wait(driver, lambda d: "Sending to the customer in 10 s" in text_of(d, "ephemerals"))
    press(driver, By.CSS_SELECTOR, "#ephemerals button[data-action-id=reply_undo]")
    wait(
        driver,
        lambda d: "Withdrawn: the customer will not get this reply" in text_of(d, "ephemerals"),
    )
    driver.find_element(By.ID, "thread-cancel").click()


def rate_as_the_customer(driver: WebDriver) -> None:
    """carol finds the question under the resolution notice, rates 4 and adds one comment."""
    act_as(driver, "carol (customer)")
    wait(driver, lambda d: "How did we do?" in messages_text(d))
    press(driver, By.CSS_SELECTOR, "#messages button[data-action-id=csat_4]")
    wait(driver, lambda d: "You rated case #1 ★★★★☆ 4/5" in messages_text(d))
    box = "#messages input[data-action-id=csat_comment]"
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, box).send_keys("Quick and kind") or True)
    driver.find_element(By.CSS_SELECTOR, box).send_keys(Keys.ENTER)
    wait(driver, lambda d: "Quick and kind" in messages_text(d))
    assert not driver.find_elements(By.CSS_SELECTOR, "#messages input[data-action-id]")
