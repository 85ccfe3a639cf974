"""The `casebot` command in a real process, with none of the developer's Slack or database
variables."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}


async def casebot(*args: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(
    *args: str, env: dict[str, str], cwd: Path, within: float = 120.0
) -> tuple[int, str, str]:
    """Run `casebot *args` to its end: (exit status, stdout, stderr)."""
    process = await casebot(*args, env=env, cwd=cwd)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=within)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()
