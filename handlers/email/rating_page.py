"""The page an email customer's one-click rating link opens (`GET /rate/<case>/<token>/<1-5>`),
which records the rating and offers one optional comment (`POST /rate/<case>/<token>`).

The link's token is the capability (services.cases.ratings); a wrong one gets the same 404
as an unknown case, so a guess learns nothing. Every value shown is HTML-escaped and the page
runs no script.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from services.cases import CaseService
from services.cases.ratings import COMMENT_MAX, BadScore, NotYours, RatingResult, stars
from storage.availability import unavailable

log = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token stays out of other sites' logs
    "Cache-Control": "no-store",
}


def rating_url(public_url: str, public_id: str, token: str, score: int) -> str:
    return f"{public_url}/rate/{public_id}/{token}/{score}"


def register(router: web.UrlDispatcher, cases: CaseService) -> None:
    async def rate(request: web.Request) -> web.Response:
        case, token = request.match_info["case"], request.match_info["token"]
        score = request.match_info["score"]
        return await _answered(
            request,
            lambda: cases.ratings.rate_by_link(
                public_id=case, token=token, score=int(score) if score.isdigit() else 0
            ),
        )

    async def comment(request: web.Request) -> web.Response:
        case, token = request.match_info["case"], request.match_info["token"]
        form = await request.post()
        text = str(form.get("comment") or "")
        return await _answered(
            request,
            lambda: cases.ratings.comment_by_link(public_id=case, token=token, text=text),
        )

    router.add_get("/rate/{case}/{token}/{score}", rate)
    router.add_post("/rate/{case}/{token}", comment)


async def _answered(
    request: web.Request, answer: Callable[[], Awaitable[RatingResult]]
) -> web.Response:
    try:
        result = await answer()
    except NotYours:
        log.warning("rating link refused (%s): not a case's link", request.path_qs[:80])
        return _page("Link not valid", "<p>This rating link is not valid.</p>", status=404)
    except BadScore as error:
        return _page("Not a rating", f"<p>{html.escape(str(error))}</p>", status=400)
    except Exception as error:
        if not unavailable(error):
            raise
        log.warning("rating not recorded, database unavailable: %s", error)
        return _page("Try again", "<p>Please try the link again in a minute.</p>", status=503)
    return _page("Thank you", _body(result, request.path))


def _body(result: RatingResult, path: str) -> str:
    score = result.score or 0
    said = (
        f"<p>You rated case #{result.case_number} <b>{stars(score)} {score}/5</b>."
        + (" (Your first answer counts.)" if result.already and result.comment is None else "")
        + "</p>"
    )
    if result.comment is not None:
        return said + f"<p>Your comment: {html.escape(result.comment)}</p>"
    action = html.escape(path.rsplit("/", 1)[0] if path.count("/") == 4 else path, quote=True)
    return said + (
        f'<form method="post" action="{action}">'
        '<p><label for="comment">Anything to add? (optional)</label></p>'
        f'<p><textarea id="comment" name="comment" rows="5" cols="60" maxlength="{COMMENT_MAX}">'
        "</textarea></p>"
        '<p><button type="submit">Send</button></p></form>'
    )


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title></head>"
        "<body style='font-family: sans-serif; max-width: 40em; margin: 3em auto'>"
        f"<h1>{title}</h1>{body}</body></html>"
    )
    return web.Response(
        text=page, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )
