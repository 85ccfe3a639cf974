"""Modals, as Slack runs them: views.open needs a trigger_id from an interaction of the last
3 seconds, a modal with inputs needs a submit button, views.update replaces one the app
opened; a person submits it (view_submission: its inputs' values) or closes it (view_closed,
sent only when the modal asked with notify_on_close)."""

from __future__ import annotations

import time
import uuid

from bot.sandbox.emulator.api_common import ApiContext, ApiError, Method, opt_json, opt_str, req_str
from bot.sandbox.emulator.blockkit import view_errors
from bot.sandbox.emulator.models import JSONDict

TRIGGER_SECONDS = 3.0  # Slack: a trigger_id expires three seconds after it was issued
TITLE_MAX = 24


def _view(ctx: ApiContext, args: JSONDict) -> JSONDict:
    view = opt_json(args, "view")
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise ApiError("invalid_arguments")
    title = (view.get("title") or {}).get("text", "")
    problems = view_errors(view)
    if not title or len(title) > TITLE_MAX:
        problems.append(
            f"[ERROR] title must be 1 to {TITLE_MAX} characters [json-pointer:/view/title]"
        )
    has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
    if has_input and "submit" not in view:
        problems.append("[ERROR] a view with inputs needs a submit button [json-pointer:/view]")
    if problems:
        raise ApiError("invalid_arguments", response_metadata={"messages": problems})
    return view


def views_open(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    trigger = req_str(args, "trigger_id", "invalid_trigger_id")
    issued = ws.triggers.pop(trigger, None)
    if issued is None:
        raise ApiError("invalid_trigger_id")
    user, at = issued
    if time.monotonic() - at > TRIGGER_SECONDS:
        raise ApiError("expired_trigger_id")
    view = _view(ctx, args)
    view_id = "V" + uuid.uuid4().hex[:10].upper()
    opened = {
        **view,
        "id": view_id,
        "hash": uuid.uuid4().hex,
        "user": user,
        "state": {"values": {}},
    }
    ws.modals[view_id] = opened
    ws.changed()
    return {"view": opened}


def views_update(ctx: ApiContext, args: JSONDict) -> JSONDict:
    ws = ctx.workspace
    view_id = opt_str(args, "view_id")
    current = ws.modals.get(view_id or "")
    if current is None:
        raise ApiError("not_found")
    given_hash = opt_str(args, "hash")
    if given_hash is not None and given_hash != current["hash"]:
        raise ApiError("hash_conflict")
    view = _view(ctx, args)
    updated = {
        **view,
        "id": current["id"],
        "hash": uuid.uuid4().hex,
        "user": current["user"],
        "state": {"values": {}},
    }
    ws.modals[current["id"]] = updated
    ws.changed()
    return {"view": updated}


MODAL_METHODS: dict[str, Method] = {"views.open": views_open, "views.update": views_update}
