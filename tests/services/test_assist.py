"""Agent assist's rules as pure functions: facts found verbatim, the extract's choices and its
bounds, and the checks a model's summary must pass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.assist.claude import bounded, checked, prompt
from services.assist.extract import AGENT, CUSTOMER, MAX_SENTENCES, Turn, pick, summarise
from services.assist.facts import facts
from services.triage.llm import LlmFailed

CASE = [
    Turn(CUSTOMER, "Hi. I was charged twice for order #12345. Please refund one charge."),
    Turn(AGENT, "Thanks. I asked the payments team to reverse the duplicate of €42.50."),
    Turn(CUSTOMER, "Nothing yet. When will it be back on my card?"),
]


def test_facts_are_quoted_as_written_in_order_and_once() -> None:
    text = (
        "Charged €42.50 and EUR 10 on 3 December 2026 (order #12345, invoice INV-2026-0017);"
        " again 42 EUR on 2026-12-01 and 04/12/2026. Mail carol@example.org. €42.50 again."
    )
    assert facts([text]) == [
        "€42.50",
        "EUR 10",
        "3 December 2026",
        "order #12345",
        "invoice INV-2026-0017",
        "42 EUR",
        "2026-12-01",
        "04/12/2026",
    ]
    assert facts(["nothing to see here"]) == []


def test_without_embeddings_the_extract_takes_what_asks_and_what_was_done() -> None:
    summary = summarise(CASE, None)
    assert summary.text == (
        "Wants: Please refund one charge. Tried: I asked the payments team to reverse the"
        " duplicate of €42.50. Open: When will it be back on my card? Facts: order #12345; €42.50."
    )
    assert summary.source == "extract" and summary.facts == ("order #12345", "€42.50")


def test_the_extract_says_when_nobody_answered_or_the_customer_is_silent() -> None:
    assert "Tried: no reply yet." in summarise(CASE[:1], None).text
    assert "Open: waiting for the customer." in summarise(CASE[:2], None).text


def test_with_embeddings_the_most_central_sentence_wins() -> None:
    turns = [
        Turn(
            CUSTOMER,
            "My card is blocked since Monday. I cannot pay anywhere at all. The weather is nice.",
        )
    ]
    # The second sentence is the closest to the centroid of the three: it is chosen.
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    assert summarise(turns, vectors).text.startswith("Wants: I cannot pay anywhere at all.")


def test_a_long_case_reads_a_bounded_number_of_sentences() -> None:
    turns = [
        Turn(CUSTOMER if i % 2 else AGENT, f"Message {i} says one thing. And another.")
        for i in range(500)
    ]
    assert len(pick(turns).all) <= MAX_SENTENCES
    assert len(bounded(turns)) == 13


def test_a_models_summary_is_checked_not_trusted() -> None:
    good = {
        "summary": "Refund for order #12345.",
        "open_question": "When?",
        "facts": ["order #12345", "€99"],
    }
    summary = checked(good, CASE)
    assert summary.facts == ("order #12345",), "a fact the case does not contain is dropped"
    for planted in ("<!channel> look", "see <@U123>", "pay at https://evil.example", "@here now"):
        with pytest.raises(LlmFailed):
            checked({**good, "summary": planted}, CASE)
    with pytest.raises(LlmFailed):
        checked({**good, "summary": "word " * 81}, CASE)
    with pytest.raises(LlmFailed):
        checked({"summary": "", "open_question": "", "facts": []}, CASE)
    with pytest.raises(LlmFailed):
        checked(["not", "an", "object"], CASE)


def test_a_link_the_customer_wrote_may_be_repeated() -> None:
    turns = [Turn(CUSTOMER, "The page https://shop.example/orders/1 fails")]
    answer = {"summary": "https://shop.example/orders/1 fails", "open_question": "", "facts": []}
    assert checked(answer, turns).text == "https://shop.example/orders/1 fails"


@given(st.text())
def test_no_customer_text_escapes_its_tag(text: str) -> None:
    made = prompt([Turn(CUSTOMER, text)])
    assert made.count("<message") == 1 and made.count("</message>") == 1
