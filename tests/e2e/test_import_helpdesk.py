"""`casebot import helpdesk` against a help desk's JSON API on loopback: paged, signed with a
key and secret, each request once however often it runs, unusable ones named."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import col, select

from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Case, Customer, Message
from tests.e2e.cli import CLEAN_ENV, casebot
from tests.local_http import endpoint

KEY, SECRET = "desk-key-1", "desk-secret-2"
REQUESTS: list[dict[str, Any]] = [
    {"id": 101, "subject": "Charged twice", "description": "I was charged twice for order 77",
     "requester": {"email": "ann@example.com", "name": "Ann"}},
    {"id": 102, "subject": "Card stolen", "description": "Someone used my card",
     "requester": {"email": "bob@example.com", "name": "Bob"}},
    {"id": 103, "description": "The app crashes on start", "requester": {"id": "C-9"}},
    {"id": 104, "subject": "No text"},  # unusable: nothing to ingest
    {"id": 105, "description": "Refund still missing", "requester": {"email": "ann@example.com"}},
]  # fmt: skip
MAPPING = """\
url: {url}
auth: headers
key_header: X-Desk-Key
secret_header: X-Desk-Secret
items: data
total: meta.total
page_param: page
page_size_param: per_page
page_size: 2
fields:
  id: id
  text: description
  subject: subject
  email: requester.email
  name: requester.name
  customer_id: requester.id
"""


def helpdesk(asked: list[dict[str, str]]) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        asked.append(dict(request.query))
        key, secret = request.headers.get("X-Desk-Key"), request.headers.get("X-Desk-Secret")
        if (key, secret) != (KEY, SECRET):
            return web.json_response({"error": "unauthorized"}, status=401)
        page, size = int(request.query["page"]), int(request.query["per_page"])
        data = REQUESTS[(page - 1) * size : page * size]
        return web.json_response({"data": data, "meta": {"total": len(REQUESTS)}})

    return handle


async def run(tmp_path: Path, url: str, **extra: str) -> tuple[int, str, str]:
    (tmp_path / "desk.yml").write_text(MAPPING.format(url=url))
    env = {
        **CLEAN_ENV,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}",
        "TRIAGE_LOCAL_MODEL": "false",  # keyword rules: the import is what is tested here
        "HELPDESK_KEY": KEY,
        "HELPDESK_SECRET": SECRET,
        **extra,
    }
    process = await casebot("import", "helpdesk", "--config", "desk.yml", env=env, cwd=tmp_path)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_requests_become_cases_once_however_often_it_runs(tmp_path: Path) -> None:
    asked: list[dict[str, str]] = []
    async with endpoint("GET", "/api/requests", helpdesk(asked)) as url:
        code, out, err = await run(tmp_path, url)
        assert code == 0, err
        assert out.strip() == ("read 5 request(s): imported 4, 0 already imported, 1 skipped"), (
            out + err
        )
        assert "request 4: request 104: no text at 'description'" in err
        assert [a["page"] for a in asked] == ["1", "2", "3", "4"], "until an empty page"

        again, out_again, err_again = await run(tmp_path, url)
        assert again == 0, err_again
        assert out_again.strip() == "read 5 request(s): imported 0, 4 already imported, 1 skipped"

    url_db = f"sqlite+aiosqlite:///{tmp_path / 'casebot.db'}"
    await upgrade(url_db)
    engine = create_engine(url_db)
    try:
        async with create_session_factory(engine)() as session:
            messages = (await session.exec(select(Message).order_by(col(Message.id)))).all()
            cases = (await session.exec(select(Case).order_by(col(Case.id)))).all()
            customers = (await session.exec(select(Customer))).all()
    finally:
        await engine.dispose()
    assert [m.external_id for m in messages] == [
        "helpdesk:101", "helpdesk:102", "helpdesk:103", "helpdesk:105"
    ]  # fmt: skip
    assert len(cases) == 3, "Ann's second request continues her open case"
    assert cases[0].subject == "Charged twice"
    assert {c.email or c.phone for c in customers} == {"ann@example.com", "bob@example.com", "C-9"}


async def test_a_refused_secret_is_one_line(tmp_path: Path) -> None:
    async with endpoint("GET", "/api/requests", helpdesk([])) as url:
        code, out, err = await run(tmp_path, url, HELPDESK_SECRET="wrong")
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "casebot: the help desk refused the key and secret (401): check HELPDESK_KEY and"
        " HELPDESK_SECRET"
    )
    assert "Traceback" not in err and SECRET not in err + out


async def test_a_bad_mapping_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("url: ftp://x\nfields: {id: id, text: body}\n")
    env = {**CLEAN_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"}
    process = await casebot(
        "import", "helpdesk", "--config", "bad.yml", "--dry-run", env=env, cwd=tmp_path
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert err.decode().strip() == (
        "casebot: bad.yml: url: Value error, must be an http:// or https:// URL"
    )
