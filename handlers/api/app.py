"""The API's foundation: one place for auth, rate limits, errors, JSON and the route registry.

Each route is declared once (`Api.route`) with its request and response models; the same
declarations register the aiohttp routes and describe them in `/api/openapi.json`.

Every route answers, in this order: 404 when no API_TOKENS are configured (the API is off,
never open), 401 without a valid bearer token, 429 past the token's rate, then the handler.
Errors are JSON: 422 with each field and reason, 404 unknown ids, 409 refused transitions,
503 with Retry-After while the database is unreachable, 500 `internal error` for anything
else (logged with an id the caller can quote, never a stack trace in the body).
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from handlers.api.cursors import decode_cursor, encode_cursor
from handlers.api.models import (
    MAX_CASE_NUMBER,
    Error,
    FieldError,
    InternalError,
    Page,
    ValidationFailed,
)
from handlers.api.openapi import document
from handlers.api.ratelimit import RateLimiter
from handlers.api.tokens import ApiToken, bearer, match
from services.errors import CaseNotFound, DomainError, InvalidTransition, NotAllowed
from services.types import API_ACTOR_PREFIX, Actor
from storage.availability import unavailable
from storage.models import Direction, Message

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

OFF = "the API is off: set API_TOKENS"
RETRY_AFTER_SECONDS = 5  # while the database is unreachable
JSON_TYPE = "application/json"


class ApiError(Exception):
    """An answer other than success, raised from anywhere in a handler."""

    def __init__(
        self, status: int, body: BaseModel, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def invalid(field_name: str, reason: str) -> ApiError:
    """A 422 naming one field."""
    return ApiError(422, ValidationFailed(fields=[FieldError(field=field_name, reason=reason)]))


def not_found(what: str) -> ApiError:
    return ApiError(404, Error(error=what))


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a status and a model (None: no body)."""

    status: int
    body: BaseModel | None = None


@dataclass
class Call:
    """One authenticated request, as a handler sees it."""

    request: web.Request
    token: ApiToken

    @property
    def actor(self) -> Actor:
        """Who the audit trail names for this token."""
        return Actor(id=f"{API_ACTOR_PREFIX}{self.token.name}", name=self.token.name, is_agent=True)

    def visible(self, messages: Sequence[Message]) -> list[Message]:
        """A case's messages as this token may read them: agents' internal notes only with
        the admin scope."""
        if "admin" in self.token.scopes:
            return list(messages)
        return [m for m in messages if m.direction != Direction.INTERNAL]

    def number(self, name: str = "number") -> int:
        """A path parameter that must be a case number."""
        raw = self.request.match_info[name]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_CASE_NUMBER:
            raise invalid(name, f"must be a whole number from 1 to {MAX_CASE_NUMBER}")
        return int(raw)

    def text(self, name: str, *, limit: int) -> str:
        """A path parameter that must be short storable text."""
        raw = self.request.match_info[name]
        if len(raw) > limit or "\x00" in raw:
            raise invalid(name, f"must be at most {limit} characters, without NUL")
        return raw

    async def body(self, model: type[M]) -> M:
        """The JSON body as `model`, or 422 with each field and reason (413 past the cap)."""
        raw = await self.request.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[…
            raise invalid("body", "not valid UTF-8 JSON") from None
        if not isinstance(data, dict):
            raise invalid("body", "must be a JSON object")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise validation_failed(exc) from None

    def page(self) -> tuple[int, int]:
        """`limit` and the offset the `cursor` stands for."""
        try:
            page = Page.model_validate(dict(self.request.query))
        except ValidationError as exc:
            raise validation_failed(exc) from None
        return page.limit, decode_cursor(page.cursor)

    def next_link(self, offset: int, limit: int, got: int) -> str | None:
        """The path of the page after this one, or None when this one was the last."""
        if got < limit:
            return None
        query = dict(self.request.query)
        query["limit"] = str(limit)
        query["cursor"] = encode_cursor(offset + got)
        return str(self.request.rel_url.with_query(query))


def validation_failed(exc: ValidationError) -> ApiError:
    fields = [
        FieldError(
            field=".".join(str(part) for part in error["loc"]) or "body",
            reason=error["msg"].removeprefix("Value error, "),
        )
        for error in exc.errors()
    ]
    return ApiError(422, ValidationFailed(fields=fields))


def render(
    status: int, body: BaseModel | None, headers: Mapping[str, str] | None = None
) -> web.Response:
    if body is None:
        return web.Response(status=status, headers=headers)
    return web.Response(
        status=status,
        body=body.model_dump_json().encode(),
        content_type=JSON_TYPE,
        headers=headers,
    )


Handler = Callable[[Call], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """One operation, declared once: registered on the router and described in OpenAPI."""

    method: str
    path: str
    handler: Handler
    summary: str
    responses: Mapping[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    tag: str = "native"
    scope: str = "read"  # what a token needs (handlers.api.tokens.SCOPES)


@dataclass
class Api:
    """The routes of the API and what guards them."""

    tokens: tuple[ApiToken, ...]
    limiter: RateLimiter
    routes: list[Route] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        responses: Mapping[int, type[BaseModel] | None],
        summary: str | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        tag: str = "native",
        scope: str | None = None,
    ) -> None:
        """Declare a route; its OpenAPI summary is `summary` or the handler's docstring, and
        the scope a token needs is `scope`, else read for GET and write for the rest."""
        summary = summary or (inspect.getdoc(handler) or "").split("\n\n")[0].replace("\n", " ")
        if not summary:
            raise ValueError(f"{method} {path}: say what it does (a summary or a docstring)")
        needs = scope or ("read" if method.upper() == "GET" else "write")
        self.routes.append(
            Route(method.upper(), path, handler, summary, responses, body, query, tag, needs)
        )

    def register(self, router: web.UrlDispatcher) -> None:
        """Add every declared route, guarded, and `GET /api/openapi.json`."""
        for route in self.routes:
            router.add_route(route.method, route.path, self._guarded(route))
        router.add_get(OPENAPI_PATH, self._openapi)

    async def _openapi(self, _request: web.Request) -> web.Response:
        if not self.tokens:
            return render(404, Error(error=OFF))
        return web.json_response(document(self.routes))

    def _guarded(self, route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
        handler = route.handler

        async def guarded(request: web.Request) -> web.Response:
            if not self.tokens:
                return render(404, Error(error=OFF))
            token = match(self.tokens, bearer(request.headers.get("Authorization")))
            if token is None:
                return render(
                    401,
                    Error(error="a valid bearer token is required (Authorization: Bearer …)"),
                    {"WWW-Authenticate": 'Bearer realm="casebot"'},
                )
            if not token.may(route.scope):
                return render(
                    403,
                    Error(
                        error=f"this token may not do that: it needs the {route.scope} scope "
                        f"(it has {', '.join(sorted(token.scopes))})"
                    ),
                )
            wait = self.limiter.take(token.name)
            if wait > 0:
                return render(
                    429,
                    Error(error="too many requests for this token; retry later"),
                    {"Retry-After": RateLimiter.retry_after(wait)},
                )
            try:
                reply = await handler(Call(request, token))
                return render(reply.status, reply.body)
            except ApiError as exc:
                return render(exc.status, exc.body, exc.headers)
            except web.HTTPException:
                raise  # 413 and friends: the server's JSON error middleware words them
            except Exception as exc:
                return failure(request, exc)

        return guarded


def failure(request: web.Request, exc: Exception) -> web.Response:
    """A domain refusal, the database away, or a bug: never a stack trace in the body."""
    if isinstance(exc, CaseNotFound):
        return render(404, Error(error=str(exc)))
    if isinstance(exc, InvalidTransition):
        return render(409, Error(error=str(exc)))
    if isinstance(exc, NotAllowed):
        return render(403, Error(error=str(exc)))
    if isinstance(exc, DomainError):
        return render(409, Error(error=str(exc)))
    if unavailable(exc):
        log.warning("API %s %s: database unavailable: %s", request.method, request.path, exc)
        return render(
            503,
            Error(error="storage is unavailable; nothing was changed, please retry"),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    incident = uuid.uuid4().hex[:12]
    log.exception("API %s %s failed (error id %s)", request.method, request.path, incident)
    return render(500, InternalError(id=incident))


OPENAPI_PATH = "/api/openapi.json"
