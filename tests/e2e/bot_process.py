"""`casebot run` as a real, separate OS process, for tests that kill it (SIGKILL) and restart it.

The configuration is the same `Settings` the in-process fixtures build (`make_settings`),
turned back into the environment variables an operator would set, so a subprocess test and an
in-process test see the same channels, agents and database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings

STOP_SECONDS = 15.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `casebot run` load `settings` (no `.env`, nothing inherited).

    Every variable the settings know is taken from `settings` or left unset: a developer's
    own SLACK_*, DATABASE_URL or IMAP_* in the shell must not leak into the bot under test.
    """
    known = set(Settings.model_fields)
    env = {key: value for key, value in os.environ.items() if key.lower() not in known}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | tuple):
            text = ",".join(str(item) for item in value)
        else:
            text = str(value)
        env[name.upper()] = text
    return env


def casebot_command() -> list[str]:
    """`.venv/bin/casebot` next to this interpreter (the README's set-up), else `python -m bot`."""
    script = Path(sys.executable).with_name("casebot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bot"]


@dataclass
class BotProcess:
    """One `casebot run` process; its stdout and stderr go to `log_path`."""

    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or committed; then reap it."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self, within: float = STOP_SECONDS) -> int:
        """SIGTERM (an orderly stop); SIGKILL if it overstays. Returns the exit code."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                await self.kill()
        code = self.process.returncode
        assert code is not None
        return code


@dataclass
class BotProcesses:
    """Starts bot processes; every one still running is killed when the block exits."""

    env: dict[str, str]
    cwd: Path
    started: list[BotProcess] = field(default_factory=list)

    async def start(self) -> BotProcess:
        log_path = self.cwd / f"casebot-{len(self.started) + 1}.log"
        with log_path.open("wb") as log:  # the child keeps its own descriptor
            process = await asyncio.create_subprocess_exec(
                *casebot_command(),
                "run",
                env=self.env,
                cwd=self.cwd,  # no .env from the project root
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # a ^C at the terminal reaches pytest, not the bot
            )
        bot = BotProcess(process, log_path)
        self.started.append(bot)
        return bot

    def logs(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- casebot process {n} (pid {bot.pid}, exit {bot.process.returncode}) ---\n"
            + bot.log_tail(lines)
            for n, bot in enumerate(self.started, 1)
        )


@contextlib.asynccontextmanager
async def bot_processes(env: dict[str, str], cwd: Path) -> AsyncIterator[BotProcesses]:
    processes = BotProcesses(env=env, cwd=cwd)
    try:
        yield processes
    finally:
        for bot in processes.started:
            if bot.running:
                await bot.kill()
