"""A local fake of the Anthropic Messages API (`POST /v1/messages`) on 127.0.0.1.

Each request is answered by the next scripted behaviour, or by `default` when the script
is empty: a good tool call (request type chosen by `answer`), an invalid category, a
malformed body, a text reply without the tool call, a server error, or a delay longer than
the client's timeout. Requests are recorded for assertions (system prompt, forced tool).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

GOOD, INVALID, MALFORMED, NO_TOOL, ERROR_500, OVERLOADED_529, SLOW = (
    "good",
    "invalid-category",
    "malformed",
    "no-tool",
    "500",
    "529",
    "slow",
)
Answer = Callable[[str], dict[str, Any]]


def by_keyword(text: str) -> dict[str, Any]:
    """A plausible model: a few words decide; everything else is a general question."""
    lowered = text.casefold()
    if "twice" in lowered:
        return triage("payments", "duplicate_payment", 0.93, 0.4, "charged two times")
    if "stolen" in lowered or "stole" in lowered:
        return triage("cards", "lost_or_stolen", 0.9, 0.9, "card stolen")
    if "down" in lowered:
        return triage("technical", "outage", 0.88, 0.95, "service down")
    return triage("general", "general_inquiry", 0.6, 0.1, "a question")


def triage(
    category: str, type_id: str, confidence: float, urgency: float, reason: str
) -> dict[str, Any]:
    return {
        "category": category,
        "request_type": type_id,
        "confidence": confidence,
        "urgency": urgency,
        "reason": reason,
    }


def a_summary(prompt: str) -> dict[str, Any]:
    """A plausible case summary (record_summary): the first words the customer wrote."""
    first = prompt.split('<message role="customer">\n', 1)[-1].split("\n</message>", 1)[0]
    return {
        "summary": "The customer wrote: " + " ".join(first.split()[:20]),
        "open_question": "What is still missing?",
        "facts": [],
    }


def a_reply(prompt: str) -> dict[str, Any]:
    """A plausible drafted reply (record_reply): the first example's reply, reworded."""
    example = prompt.split("<reply>\n", 1)[-1].split("\n</reply>", 1)[0]
    return {"reply": f"{example} Anything else, just reply here."}


class FakeAnthropic:
    def __init__(
        self,
        answer: Answer = by_keyword,
        *,
        slow_seconds: float = 3.0,
        summarise: Answer = a_summary,
        draft: Answer = a_reply,
    ) -> None:
        self.answer = answer
        self.summarise = summarise
        self.draft = draft
        self.script: deque[str] = deque()
        self.default = GOOD
        self.requests: list[dict[str, Any]] = []
        self.slow_seconds = slow_seconds
        self.base_url = ""

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append({"headers": headers, "body": body})
        behaviour = self.script.popleft() if self.script else self.default
        if behaviour == ERROR_500:
            return web.json_response(
                {"type": "error", "error": {"type": "api_error", "message": "boom"}}, status=500
            )
        if behaviour == OVERLOADED_529:
            return web.json_response(
                {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
                status=529,
            )
        if behaviour == SLOW:
            await asyncio.sleep(self.slow_seconds)
        if behaviour == MALFORMED:
            return web.Response(
                text='{"id": "msg_1", "content": [', content_type="application/json"
            )
        tool = body["tool_choice"]["name"]
        prompt = body["messages"][0]["content"]
        if behaviour == NO_TOOL:
            content: list[dict[str, Any]] = [{"type": "text", "text": "I think it is fraud."}]
        elif tool == "record_reply":
            drafted = self.draft(prompt)
            content = [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": drafted}]
        elif tool == "record_summary":
            summary = self.summarise(prompt)
            content = [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": summary}]
        elif tool == "record_triages":
            texts = prompt.split('<customer_message index="')[1:]
            items = []
            for chunk in texts:
                index, _, rest = chunk.partition('">')
                item = {"index": int(index), **self.answer(rest)}
                if behaviour == INVALID:
                    item["request_type"] = "world_domination"
                items.append(item)
            content = [
                {"type": "tool_use", "id": "toolu_1", "name": tool, "input": {"triages": items}}
            ]
        else:
            data = self.answer(prompt)
            if behaviour == INVALID:
                data = {**data, "category": "Payments!", "request_type": "give_refund_now"}
            content = [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": data}]
        return web.json_response(
            {
                "id": f"msg_{len(self.requests)}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": 100, "output_tokens": 20},
            }
        )


@asynccontextmanager
async def fake_anthropic(
    answer: Answer = by_keyword, *, summarise: Answer = a_summary, draft: Answer = a_reply
) -> AsyncIterator[FakeAnthropic]:
    fake = FakeAnthropic(answer, summarise=summarise, draft=draft)
    app = web.Application()
    app.router.add_post("/v1/messages", fake.messages)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def tool_input(request: dict[str, Any]) -> Any:
    return json.dumps(request["body"]["tools"])
