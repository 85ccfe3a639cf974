"""Token scopes over HTTP: a read token reads (without internal notes) and changes nothing,
a write token changes and does not read, an admin token reads notes too; the OpenAPI
document says what each operation needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from bot.runtime import Runtime
from services.types import Actor

READ, WRITE, ADMIN = "reader-token-0123456789", "writer-token-0123456789", "admin-token-01234567"
TOKENS = f"bi[read]:{READ},zap[write]:{WRITE},ops:{ADMIN}"
AGENT = Actor(id="UAGENT", name="agnes", is_agent=True)
NEW_CASE = {"customer_id": "crm-1", "message": "My card was charged twice", "channel": "crm"}


async def call(
    bot: Runtime, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{bot.http_port}{path}"
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_each_token_does_what_its_scopes_allow(start_bot: Callable[..., Any]) -> None:
    bot: Runtime = await start_bot(api_tokens=TOKENS, triage_local_model=False)

    assert (await call(bot, "POST", "/api/v1/cases", READ, NEW_CASE))[0] == 403
    status, created = await call(bot, "POST", "/api/v1/cases", WRITE, NEW_CASE)
    assert status == 201
    number = created["number"]
    await bot.cases.agents.message(
        case_id=number, actor=AGENT, text="note: VIP, refund fast", source="slack", external_id="n1"
    )

    status, refused = await call(bot, "GET", f"/api/v1/cases/{number}", WRITE)
    assert status == 403 and "needs the read scope" in refused["error"]
    status, read = await call(bot, "GET", f"/api/v1/cases/{number}", READ)
    assert status == 200
    assert [m["body"] for m in read["messages"]] == ["My card was charged twice"]
    status, everything = await call(bot, "GET", f"/api/v1/cases/{number}", ADMIN)
    assert status == 200
    assert "VIP, refund fast" in [m["body"] for m in everything["messages"]]
    status, incident = await call(bot, "GET", f"/api/incidents/{number}", READ)
    assert status == 200 and "VIP" not in str(incident)

    assert (await call(bot, "POST", f"/api/v1/cases/{number}/claim", READ))[0] == 403
    assert (await call(bot, "POST", f"/api/v1/cases/{number}/claim", WRITE))[0] == 200

    status, spec = await call(bot, "GET", "/api/openapi.json", READ)
    operations = [op for ops in spec["paths"].values() for op in ops.values()]
    needs = {op["operationId"]: op["security"][0]["bearer"] for op in operations}
    assert needs["get_case"] == ["read"] and needs["claim"] == ["write"]
    assert all(scopes in (["read"], ["write"]) for scopes in needs.values())
