"""The Anthropic Messages API as triage's LLM transport (an outbound edge).

`AsyncAnthropic` with the configured base URL (tests point it at a local fake), a timeout
and the SDK's own retries for 429/5xx/connection errors. The answer must be a call of the
forced tool; anything else is a failed call.
"""

from __future__ import annotations

from typing import Any

from anthropic import AsyncAnthropic

from services.triage.llm import LlmFailed


class AnthropicTransport:
    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        self._client = AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._model = model

    async def tool_call(
        self, *, system: list[dict[str, Any]], prompt: str, tool: dict[str, Any], max_tokens: int
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._model,
            "max_tokens": max_tokens,
            "system": system,
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
            "messages": [{"role": "user", "content": prompt}],
        }
        message = await self._client.messages.create(**request)
        for block in message.content:
            if block.type == "tool_use" and block.name == tool["name"]:
                if not isinstance(block.input, dict):
                    raise LlmFailed("the tool input is not an object")
                return dict(block.input)
        raise LlmFailed(f"no {tool['name']} call in the answer (stop: {message.stop_reason})")

    async def close(self) -> None:
        await self._client.close()
