"""Every Slack Web API method the product calls is allowed by the scopes `manifest.yml` asks
for (issue 14): a workspace created from the manifest must not answer `missing_scope`.

The methods are read from the code (calls of `AsyncWebClient` methods, followed through the
SDK's own helpers such as `files_upload_v2`); the scopes each needs are a table from Slack's
method documentation (docs.slack.dev/reference/methods), kept here. A call of a method the
table does not know fails the test until someone looks it up. The table is the emulator's
(bot/sandbox/emulator/scopes.py): the end-to-end tests meet the same rules as missing_scope.
"""

from __future__ import annotations

import ast
import inspect
import re
from functools import cache
from pathlib import Path

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import scopes as slack_scopes
from handlers.slack.scopes import NEEDED

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "services", "storage")
NOT_PRODUCT = ("bot/sandbox",)  # the sandbox plays Slack; it is not a client

# The conversation kinds the product touches: public and private channels, and DMs.
KINDS = ("public_channel", "private_channel", "im")


def needs(method: str) -> frozenset[str]:
    """The bot scopes `method` may need on any conversation we use, from the emulator's table
    of Slack's method documentation (the same table it answers missing_scope from)."""
    if method == "apps.connections.open":
        return frozenset()  # the app-level token's connections:write, not the bot's
    return frozenset(slack_scopes.needed_for(method, KINDS))


_API_CALL = re.compile(r"api_call\(\s*\"([A-Za-z.]+)\"")
_SELF_CALL = re.compile(r"self\.([A-Za-z_0-9]+)\(")


@cache
def api_methods(sdk_method: str) -> frozenset[str]:
    """The Web API methods one `AsyncWebClient` method calls, helpers followed."""
    source = inspect.getsource(getattr(AsyncWebClient, sdk_method))
    found = set(_API_CALL.findall(source))
    for helper in _SELF_CALL.findall(source):
        if helper != sdk_method and helper in vars(AsyncWebClient):
            found |= api_methods(helper)
    return frozenset(found)


def called_by_product() -> dict[str, set[str]]:
    """Web API method → the files that call it."""
    calls: dict[str, set[str]] = {}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(NOT_PRODUCT):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                name = node.func.attr
                if name in vars(AsyncWebClient) and not name.startswith("_"):
                    for method in api_methods(name):
                        calls.setdefault(method, set()).add(relative)
    return calls


def granted() -> set[str]:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return set(manifest["oauth_config"]["scopes"]["bot"])


def test_the_scan_sees_the_calls_we_know_of() -> None:
    """A guard on the scan itself: these calls exist, so a scan that misses them is broken."""
    calls = called_by_product()
    assert calls["conversations.open"] == {
        "handlers/slack/case_actions.py",
        "handlers/slack/report_upload.py",
    }
    assert calls["files.completeUploadExternal"] == {
        "handlers/slack/report_upload.py",
        "handlers/slack/uploads.py",
    }
    assert "chat.postMessage" in calls and "users.info" in calls


def test_every_method_the_code_calls_is_in_the_table() -> None:
    unknown = {
        m: sorted(f) for m, f in called_by_product().items() if not slack_scopes.documented(m)
    }
    assert not unknown, f"look up these methods' scopes in Slack's docs and add them: {unknown}"


def test_the_manifest_grants_every_scope_the_code_needs() -> None:
    have = granted()
    missing = {
        method: sorted(needs(method) - have)
        for method in called_by_product()
        if not needs(method) <= have
    }
    assert not missing, f"manifest.yml lacks scopes for: {missing}"


def test_the_manifest_asks_for_no_scope_the_code_does_not_use() -> None:
    """Least privilege: every bot scope is needed by a call or by an event subscription."""
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    by_event = slack_scopes.EVENT_SCOPES
    used = set().union(*(needs(m) for m in called_by_product()))
    used |= {by_event[e] for e in events if e in by_event}
    if manifest["features"].get("slash_commands"):
        used.add("commands")
    if product_keywords() & {"username", "icon_url", "icon_emoji"}:
        used.add("chat:write.customize")  # a post under another name and avatar
    if "url_private_download" in product_strings():
        used.add("files:read")  # a file's bytes, read with the bot token
    assert granted() - used == set()


def product_strings() -> set[str]:
    """Every string literal in the product."""
    found: set[str] = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if path.relative_to(ROOT).as_posix().startswith(NOT_PRODUCT):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return found


def product_keywords() -> set[str]:
    """Every keyword argument name the product passes in a call."""
    found: set[str] = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if path.relative_to(ROOT).as_posix().startswith(NOT_PRODUCT):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    found |= {k.arg for k in node.keywords if k.arg}
                elif isinstance(node, ast.Dict):  # `**identity` built as {"username": …}
                    found |= {k.value for k in node.keys if isinstance(k, ast.Constant)}
    return found


def test_casebot_check_knows_every_scope_of_the_manifest() -> None:
    """`casebot check` names the feature each missing scope breaks: it must know them all."""
    assert set(NEEDED) == granted()
