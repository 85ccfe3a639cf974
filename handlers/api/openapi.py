"""`GET /api/openapi.json`: an OpenAPI 3.1 document built from the declared routes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from handlers.api.models import (
    CUSTOMER_ID_CHARS,
    MAX_CASE_NUMBER,
    NO_NUL_PATTERN,
    TICKET_ID_CHARS,
    Error,
    ValidationFailed,
)

if TYPE_CHECKING:
    from handlers.api.app import Route

VERSION = "1.0.0"
REF = "#/components/schemas/"
# Every guarded route may answer these besides its own.
COMMON: dict[int, tuple[str, type[BaseModel]]] = {
    401: ("No valid bearer token.", Error),
    403: ("The token lacks the scope this needs, or an agent's action was refused.", Error),
    404: ("Not found, or the API is off (no API_TOKENS).", Error),
    413: ("The body is too large.", Error),
    422: ("Invalid request: each field and the reason.", ValidationFailed),
    429: ("Too many requests for this token; see Retry-After.", Error),
    500: ("Internal error; the body carries an id the log has.", Error),
    503: ("The database is unreachable; see Retry-After.", Error),
}
# What each path parameter may be (the same checks as Call.number and Call.text).
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "number": {"type": "integer", "minimum": 1, "maximum": MAX_CASE_NUMBER},
    "incident_id": {"type": "integer", "minimum": 1, "maximum": MAX_CASE_NUMBER},
    "customer_id": {
        "type": "string",
        "minLength": 1,
        "maxLength": CUSTOMER_ID_CHARS,
        "pattern": NO_NUL_PATTERN,
    },
    "ticket_id": {
        "type": "string",
        "minLength": 1,
        "maxLength": TICKET_ID_CHARS,
        "pattern": NO_NUL_PATTERN,
    },
}
_PARAM = re.compile(r"\{(\w+)\}")


class _Schemas:
    """Component schemas, each model once."""

    def __init__(self) -> None:
        self.all: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=REF + "{model}")
        for name, definition in schema.pop("$defs", {}).items():
            self.all.setdefault(name, definition)
        self.all.setdefault(model.__name__, schema)
        return {"$ref": REF + model.__name__}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _query(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _not_null(prop)}
        for name, prop in schema["properties"].items()
    ]


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: `X | None` is just X, optional."""
    options = [o for o in prop.get("anyOf", ()) if o.get("type") != "null"]
    if len(options) != 1:
        return prop
    rest = {k: v for k, v in prop.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**options[0], **rest}


def _operation_id(route: Route) -> str:
    name = route.handler.__name__.strip("_")
    return name if route.tag == "native" else f"{route.tag}_{name}"


def document(routes: Sequence[Route]) -> dict[str, Any]:
    """The whole API as OpenAPI 3.1."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            # unique across tags: native `queue` and compat `queue` are two operations
            "operationId": _operation_id(route),
            "summary": route.summary,
            "description": f"Needs a token with the `{route.scope}` scope (or `admin`).",
            "tags": [route.tag],
            "security": [{"bearer": [route.scope]}],
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
                for name in _PARAM.findall(route.path)
            ],
            "responses": {},
        }
        if route.query is not None:
            operation["parameters"] += _query(route.query)
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": _content(schemas.ref(route.body)),
            }
        for status, model in route.responses.items():
            answer: dict[str, Any] = {"description": "No body."}
            if model is not None:
                answer["description"] = (model.__doc__ or model.__name__).strip()
                answer["content"] = _content(schemas.ref(model))
            operation["responses"][str(status)] = answer
        for status, (description, model) in COMMON.items():
            operation["responses"].setdefault(
                str(status), {"description": description, "content": _content(schemas.ref(model))}
            )
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Casebot API",
            "version": VERSION,
            "description": "Cases, the queue and statistics of a Casebot desk. Every route "
            "takes `Authorization: Bearer <token>` (API_TOKENS). A token has scopes: `read` "
            "(GET; internal notes left out), `write` (changes), `admin` (everything, internal "
            "notes included); `name:token` has all three, `name[read]:token` only read.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.all,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
