"""`GET /health`: whether the database answers and which classifier triages new cases.

200 with `"status": "ok"`, or `"degraded"` when triage runs on keyword rules because the
model could not load (cases still open; their categories are rougher); 503 when the
database does not answer.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text

from services.triage.service import Triager
from storage.engine import SessionFactory

log = logging.getLogger(__name__)

PATH = "/health"


def register(router: web.UrlDispatcher, *, sessions: SessionFactory, triager: Triager) -> None:
    async def health(_request: web.Request) -> web.Response:
        body: dict[str, str] = {"triage": triager.mode}
        try:
            async with sessions() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            body["database"] = "ok"
        except Exception as error:  # any failure to answer is "down" for a health check
            log.warning("health: the database did not answer: %r", error)
            body |= {"database": "down", "status": "down"}
            return web.json_response(body, status=503)
        body["status"] = "degraded" if triager.failed else "ok"
        return web.json_response(body)

    router.add_get(PATH, health)
