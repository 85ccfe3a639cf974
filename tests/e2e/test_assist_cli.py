"""`casebot assist import | eval` as an operator runs them, in real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli import CLEAN_ENV, finished

EXPORT = """question,answer,intent
My frequent flyer miles never showed up,"Hi Carol, loyalty points take 7 days.",loyalty
The airline points from my trip are missing,"Hi Dave, loyalty points take 7 days.",loyalty
Somebody stole my card on the bus,"Hi Eve, your card is blocked now.",theft
My wallet with my card was stolen,"Hi Sam, your card is blocked now.",theft
,"an answer to nothing",theft
Where is my refund?,,refunds
"""
HELD_OUT = """question,intent
I never got the loyalty points for my last flight,loyalty
A thief took my debit card,theft
"""


async def run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    return await finished("assist", *args, env=env, cwd=cwd)


@pytest.mark.slow
async def test_import_then_eval(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(EXPORT)
    (tmp_path / "held_out.csv").write_text(HELD_OUT)
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}"}
    evaluate = ("eval", "held_out.csv", "--text-col", "question", "--label-col", "intent")

    code, _, err = await run(*evaluate, env=env, cwd=tmp_path)
    assert code == 2 and "there is no history yet: `casebot assist import` first" in err

    code, out, err = await run(
        "import", "export.csv", "--text-col", "question", "--reply-col", "answer",
        "--label-col", "intent", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert "imported 4 row(s) of history; 2 skipped" in out
    assert "line 6: empty question" in err and "line 7: empty answer" in err

    code, out, err = await run(*evaluate, env=env, cwd=tmp_path)
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "line 2: top-1 yes, top-3 yes",
        "line 3: top-1 yes, top-3 yes",
        "2 rows: top-1 1.0000, top-3 1.0000",
    ]
    assert "  theft: top-1 1.0000, top-3 1.0000 (1 rows)" in out

    code, _, err = await run("import", "nowhere.csv", "--text-col", "q", "--reply-col", "a",
                             env=env, cwd=tmp_path)  # fmt: skip
    assert code == 2 and "nowhere.csv" in err
    code, _, err = await run("import", "held_out.csv", "--text-col", "question", "--reply-col",
                             "answer", env=env, cwd=tmp_path)  # fmt: skip
    assert code == 2 and "has no column 'answer'" in err
