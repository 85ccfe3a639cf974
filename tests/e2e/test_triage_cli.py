"""`casebot triage train | eval | backlog` as an operator runs them, in real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cases import CaseService
from services.rules import RulesConfig
from storage.engine import create_engine, create_session_factory
from tests.builders import slack_message
from tests.e2e.cli import CLEAN_ENV, finished

EXPORT = """id,message,queue
1,My frequent flyer miles never showed up,loyalty
2,The airline points from my trip are missing,loyalty
3,Bonus points for my hotel stay were not credited,loyalty
4,Where are the reward miles for my flight?,loyalty
5,somebody stole my card on the bus,theft
6,,loyalty
7,hello,no_such_queue
"""
MAPPING = "refund_request: [loyalty]\nlost_or_stolen: [theft]\n"
HELD_OUT = "message,queue\nI never got the loyalty points for my last flight,loyalty\n"


async def run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    return await finished("triage", *args, env=env, cwd=cwd)


@pytest.mark.slow
async def test_train_then_eval_then_backlog(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(EXPORT)
    (tmp_path / "map.yml").write_text(MAPPING)
    (tmp_path / "held_out.csv").write_text(HELD_OUT)
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}"}
    columns = ("--text-col", "message", "--label-col", "queue", "--map", "map.yml")

    code, out, err = await run("eval", "held_out.csv", *columns, env=env, cwd=tmp_path)
    assert code == 0, err
    assert "1 texts: accuracy 0.0000" in out  # the catalog alone calls it something else

    code, out, err = await run("train", "export.csv", *columns, env=env, cwd=tmp_path)
    assert code == 0, err
    assert "learnt 5 example(s); 0 were already known" in out
    assert "2 row(s) skipped" in err and "line 7: empty text or label" in err
    assert "line 8: no request type called 'no_such_queue'" in err

    code, out, err = await run("eval", "held_out.csv", *columns, env=env, cwd=tmp_path)
    assert code == 0, err
    assert "1 texts: accuracy 1.0000, macro-F1 1.0000" in out
    assert "refund_request: F1 1.0000" in out and "confusion matrix" in out

    # Cases opened before triage existed (as after an upgrade) are classified by `backlog`.
    engine = create_engine(env["DATABASE_URL"])
    try:
        plain = CaseService(create_session_factory(engine), rules=RulesConfig())
        await plain.intake.ingest(
            slack_message("Bonus miles from my flight are missing", user="U1")
        )
        await plain.intake.ingest(slack_message("I was charged twice for my order", user="U2"))
        code, out, err = await run("backlog", "--batch", "1", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "re-triaged 2 open case(s); 2 changed type" in out
        assert [(await plain.reads.get(n)).request_type for n in (1, 2)] == [
            "refund_request",  # learnt from the export
            "duplicate_payment",
        ]
    finally:
        await engine.dispose()


async def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(EXPORT)
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}"}
    code, _, err = await run(
        "train", "export.csv", "--text-col", "text", "--label-col", "queue", env=env, cwd=tmp_path
    )
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "casebot: export.csv has no column text; its columns: id, message, queue"
    )
    code, _, err = await run("backlog", "--batch", "0", env=env, cwd=tmp_path)
    assert code == 2 and "--batch" in err
