"""Log lines: JSON when asked, with extras; secrets and long bodies never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import secret_values
from bot.logs import JsonFormatter, Redactor, TextFormatter, configure
from bot.settings import Settings

PASSWORD = 'hunter2-"quoted"\\pw'


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the handler `configure` installs, into a string."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    try:
        yield logging.getLogger("casebot.test"), out
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.captureWarnings(False)


def use(out: io.StringIO, fmt: str) -> None:
    configure("DEBUG", fmt=fmt, secrets=["sk-ant-secret-key", PASSWORD, None])
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)


def test_json_lines_carry_time_level_logger_message_and_extras(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = captured
    use(out, "json")
    log.info("case #%s opened", 12, extra={"case": 12, "event_id": "Ev123"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("delivery failed", extra={"case": 12})

    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "case #12 opened"
    assert (first["level"], first["logger"]) == ("INFO", "casebot.test")
    assert (first["case"], first["event_id"]) == (12, "Ev123")
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_tokens_passwords_and_long_bodies_are_never_written(
    captured: tuple[logging.Logger, io.StringIO], fmt: str
) -> None:
    log, out = captured
    use(out, fmt)
    body = "my card was charged twice " * 40 + "END-OF-BODY"
    log.info("received %s", body)
    log.info("headers %s", {"Authorization": "Bearer xoxb-1234-5678-abcdEFGH"})
    log.warning("app token xapp-1-A0001-99-ffff, user token xoxp-42-abc in a sentence")
    log.info("login with %s failed", PASSWORD, extra={"key": "sk-ant-secret-key"})
    log.info("database postgresql+asyncpg://casebot:s3cret@db:5432/casebot unreachable")
    try:
        raise RuntimeError(f"auth failed for token xoxb-9-9-zz and key sk-ant-secret-key: {body}")
    except RuntimeError:
        log.exception("slack call failed")

    text = out.getvalue()
    for secret in ("xoxb-1234", "xoxb-9-9", "xapp-1-A0001", "xoxp-42", "sk-ant-secret-key"):
        assert secret not in text
    assert "hunter2" not in text and "s3cret" not in text
    assert "[redacted]" in text
    assert "received my card was charged twice" in text, "a short preview stays"
    assert "END-OF-BODY" not in text, "the body is cut to a preview, in tracebacks too"
    assert "(1051 chars)" in text
    assert "postgresql+asyncpg://casebot:[redacted]@db:5432/casebot" in text


def test_a_library_that_formats_a_payload_into_its_message_is_cut_short(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    _, out = captured
    use(out, "json")
    payload = {"text": "please help " * 30 + "END-OF-BODY"}
    logging.getLogger("slack_sdk.socket_mode").debug(f"on_message invoked: {payload}")
    (entry,) = (json.loads(line) for line in out.getvalue().splitlines())
    assert entry["message"].startswith("on_message invoked: {'text': 'please help")
    assert "END-OF-BODY" not in entry["message"]


def test_text_lines_keep_the_familiar_shape_with_extras_at_the_end() -> None:
    formatter = TextFormatter(Redactor())
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "case #%s", (3,), None)
    record.case = 3
    line = formatter.format(record)
    assert line.endswith(" INFO bot.x: case #3 [case=3]")


def test_json_is_valid_even_when_a_message_is_odd() -> None:
    formatter = JsonFormatter(Redactor(["password"]))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    assert json.loads(formatter.format(record))["message"].startswith("%s and %s")


def test_every_secret_setting_is_redacted() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-a",
        slack_app_token="xapp-b",
        imap_password="imap-pw",
        smtp_password="smtp-pw",
        anthropic_api_key="sk-key",
        webhook_secret="hook-secret",
    )
    assert set(secret_values(settings)) == {
        "xoxb-a",
        "xapp-b",
        "imap-pw",
        "smtp-pw",
        "sk-key",
        "hook-secret",
    }
