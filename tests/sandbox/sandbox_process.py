"""`casebot run` with no Slack tokens, as a newcomer starts it: a real process in an empty
directory, its environment cleared of anything that would point it at a real workspace."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.bot_process import casebot_command
from tests.smtp_server import free_port

READY = re.compile(r"sandbox ready at (http://\S+)")
START_SECONDS = 60.0


@contextmanager
def sandbox(workdir: Path, **env: str) -> Iterator[tuple[str, float]]:
    """Start the sandbox in `workdir`; yield its page URL and the seconds it took to announce
    it. Stopped with SIGTERM afterwards, which must end it cleanly (exit 0)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    clean |= {"PORT": str(free_port()), "LOG_LEVEL": "INFO", **env}
    log_path = workdir / "sandbox.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*casebot_command(), "run"], cwd=workdir, env=clean, stdout=log, stderr=log
        )
    try:
        url = None
        while url is None:
            if process.poll() is not None or time.monotonic() - started > START_SECONDS:
                raise AssertionError(f"the sandbox did not start:\n{log_path.read_text()}")
            found = READY.search(log_path.read_text(errors="replace"))
            url = found.group(1) if found else None
            time.sleep(0.1)
        yield url, time.monotonic() - started
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(
                f"SIGTERM did not stop the sandbox:\n{log_path.read_text()}"
            ) from None
        assert code == 0, f"the sandbox exited with {code}:\n{log_path.read_text()}"
