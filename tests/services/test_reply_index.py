"""The reply index's ranking rules on small, hand-made vectors."""

from __future__ import annotations

import numpy as np

from services.assist.reply_index import FLOOR, ReplyIndex, answer_key


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_the_same_words_are_the_same_answer_and_neighbours_vote_for_it() -> None:
    index = ReplyIndex()
    index.add(
        np.stack([unit(1, 0.1, 0), unit(1, 0.2, 0), unit(1, 0, 0.3), unit(0, 1, 0)]),
        ["Refund sent.", "refund   SENT.", "Card blocked.", "Password reset."],
    )
    assert answer_key("Refund  Sent. ") == answer_key("refund sent.")
    assert index.replies == ["Refund sent.", "Card blocked.", "Password reset."]
    found = index.suggest(unit(1, 0.1, 0.1))
    assert [s.reply for s in found] == ["Refund sent.", "Card blocked."]
    assert found[0].rows == (0, 1) and found[0].score > found[1].score


def test_nothing_similar_enough_is_no_suggestion() -> None:
    index = ReplyIndex()
    index.add(np.stack([unit(1, 0, 0)]), ["Refund sent."])
    assert index.suggest(unit(0, 0, 1)) == []
    assert index.suggest(unit(1, 0, 0))[0].similarity >= FLOOR
    assert ReplyIndex().suggest(unit(1, 0, 0)) == []


def test_a_confident_request_type_keeps_to_its_own_cases() -> None:
    index = ReplyIndex()
    index.add(
        np.stack([unit(1, 0, 0), unit(0.9, 0.5, 0)]),
        ["About fees.", "About refunds."],
        ["fees_and_charges", "refund_request"],
    )
    query = unit(1, 0.05, 0)
    assert index.suggest(query)[0].reply == "About fees."
    assert [s.reply for s in index.suggest(query, kind="refund_request")] == ["About refunds."]
    assert index.suggest(query, kind="lost_or_stolen")[0].reply == "About fees.", "none: all"


def test_the_regression_learns_recurring_answers() -> None:
    rng = np.random.default_rng(1)
    centres = [unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0)]
    vectors, replies = [], []
    for i, centre in enumerate(centres):
        for _ in range(6):
            noisy = centre + rng.normal(0, 0.1, 4).astype(np.float32)
            vectors.append(noisy / np.linalg.norm(noisy))
            replies.append(f"Answer {i}")
    index = ReplyIndex()
    index.add(np.stack(vectors), replies)
    index.fit()
    assert index.regression is not None and sorted(index.regression_groups) == [0, 1, 2]
    assert index.suggest(unit(0, 1, 0.1, 0))[0].reply == "Answer 1"
    assert index.nbytes > np.stack(vectors).nbytes
