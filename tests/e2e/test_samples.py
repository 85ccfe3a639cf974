"""samples/run.py, the documents' example requests, passes against a running bot: the script a
team runs against its deployment is checked here so that it never drifts from the product."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.runtime import Runtime
from tests.e2e.api import TOKEN, TOKENS

SCRIPT = Path(__file__).resolve().parents[2] / "samples" / "run.py"


async def run_samples(bot: Runtime, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--base",
        f"http://127.0.0.1:{bot.http_port}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_the_documents_examples_get_the_documents_answers(
    start_bot: Callable[..., Any],
) -> None:
    bot: Runtime = await start_bot(api_tokens=TOKENS, api_rate_burst=10_000, storm_threshold=10)
    code, out, err = await run_samples(bot, "--token", TOKEN)

    assert code == 0, out + err
    assert out.rstrip().endswith("every answer as the documents show")
    assert "POST /api/incidents -> 201" in out
    assert "GET /tickets/next -> 200" in out


async def test_a_wrong_token_fails_the_run_and_names_each_refusal(
    start_bot: Callable[..., Any],
) -> None:
    bot: Runtime = await start_bot(api_tokens=TOKENS)
    code, out, err = await run_samples(bot, "--token", "not-a-token-at-all-xx", "--storm", "0")

    assert code == 1, out + err
    assert "FAIL GET /health" not in err, "health needs no token"
    assert "FAIL POST /api/incidents: 401, expected (200, 201)" in err
