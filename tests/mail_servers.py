"""Real mail servers on loopback for tests: a throwaway Dovecot (IMAP) instance.

A fake IMAP server would only confirm our own reading of the RFC; a real Dovecot catches the
protocol details (IDLE push timing, UID SEARCH edge cases, PEEK semantics) that the poller
depends on. Each instance gets its own config, state and maildir under the test's tmp_path
and a free port, so tests can run in parallel without sharing state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aioimaplib import IMAP4

DEFAULT_USER = "support@example.com"
DEFAULT_PASSWORD = "secret"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class DovecotError(RuntimeError):
    """Dovecot could not be started or an IMAP helper command failed."""


@dataclass
class Dovecot:
    """Where a running test Dovecot listens and which users it knows."""

    host: str
    port: int
    users: dict[str, str] = field(default_factory=lambda: {DEFAULT_USER: DEFAULT_PASSWORD})
    log_path: Path | None = None

    @property
    def user(self) -> str:
        """The default mailbox user."""
        return DEFAULT_USER

    @property
    def password(self) -> str:
        return self.users[DEFAULT_USER]

    def settings(self, *, poll_interval: float = 1.0) -> dict[str, Any]:
        """The bot's IMAP settings for this server's default mailbox (plain, on loopback)."""
        return {
            "imap_server": self.host,
            "imap_port": self.port,
            "imap_email": self.user,
            "imap_password": self.password,
            "imap_ssl": False,
            "email_poll_interval": poll_interval,
        }

    async def append(
        self,
        user: str,
        raw: bytes,
        flags: str = "",
        mailbox: str = "INBOX",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """APPEND a message over IMAP from a separate connection, as if mail had arrived."""
        client = IMAP4(host=self.host, port=self.port, timeout=timeout)
        try:
            await client.wait_hello_from_server()
            response = await client.login(user, self.users[user])
            if response.result != "OK":
                raise DovecotError(f"login as {user} failed: {response.lines!r}")
            response = await client.append(raw, mailbox=mailbox, flags=flags or None)
            if response.result != "OK":
                raise DovecotError(f"APPEND failed: {response.lines!r}")
        finally:
            with contextlib.suppress(Exception):
                await client.logout()

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_path, lines) if self.log_path else ""


def _free_port() -> int:
    # Racy in theory (someone could grab it before Dovecot binds), fine on a test machine.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _write_config(root: Path, port: int, users: dict[str, str]) -> Path:
    mail = root / "mail"
    mail.mkdir()
    nobody = pwd.getpwnam("nobody")
    if os.geteuid() == 0:
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
    passwd = root / "passwd"
    passwd.write_text("".join(f"{user}:{{PLAIN}}{pw}::::::\n" for user, pw in users.items()))
    config = root / "dovecot.conf"
    config.write_text(
        f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    return config


async def _wait_ready(host: str, port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    """Poll until the IMAP port accepts and greets with '* OK'; fail with the log tail."""
    deadline = time.monotonic() + START_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise DovecotError(f"dovecot exited with {proc.returncode}:\n{_tail(log, 30)}")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except (OSError, TimeoutError) as exc:
            last_error = repr(exc)
            await asyncio.sleep(0.05)
            continue
        try:
            greeting = await asyncio.wait_for(reader.readline(), 2.0)
        except (OSError, TimeoutError) as exc:
            greeting = b""
            last_error = repr(exc)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if greeting.startswith(b"* OK"):
            return
        last_error = f"greeting {greeting!r}"
        await asyncio.sleep(0.05)
    raise DovecotError(
        f"dovecot not ready on {host}:{port} after {START_TIMEOUT}s ({last_error}):\n"
        f"{_tail(log, 30)}"
    )


def _make_server_dir(tmp_path: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="casebot-dovecot-"))
    root.chmod(0o755)
    with contextlib.suppress(OSError):
        (tmp_path / "dovecot").symlink_to(root, target_is_directory=True)
    return root


@contextlib.asynccontextmanager
async def dovecot(tmp_path: Path, users: dict[str, str] | None = None) -> AsyncIterator[Dovecot]:
    """Run `dovecot -F` on a free loopback port for the duration of the block.

    Skips the test when Dovecot is not installed. The server's files (config, passwd, log,
    maildir) live in a fresh 0755 directory in the system temp dir, not under tmp_path:
    pytest's base temp dir is mode 0700, and Dovecot's auth and mail processes run as the
    unprivileged users dovecot and nobody, which could not traverse it (measured: "missing
    +x perm"). tmp_path gets a `dovecot` symlink to it for debugging; the directory is
    removed when the block exits.
    """
    binary = shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/sbin/dovecot") if os.access(p, os.X_OK)), None
    )
    if binary is None:
        pytest.skip("dovecot not installed (apt-get install dovecot-imapd)")
    users = dict(users) if users is not None else {DEFAULT_USER: DEFAULT_PASSWORD}
    root = _make_server_dir(tmp_path)
    port = _free_port()
    config = _write_config(root, port, users)
    log = root / "dovecot.log"
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-F",
        "-c",
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_ready("127.0.0.1", port, proc, log)
        yield Dovecot(host="127.0.0.1", port=port, users=users, log_path=log)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        shutil.rmtree(root, ignore_errors=True)
