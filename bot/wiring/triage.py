"""Building the triage chain from the settings: Claude when a key is set, the local model
unless turned off, keyword rules always."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from bot.settings import Settings
from services.triage.breaker import Breaker
from services.triage.catalog import Catalog
from services.triage.embeddings import serving_threads
from services.triage.llm import LlmClassifier
from services.triage.service import Triager, shared_encoder


def build_triager(
    settings: Settings,
    catalog: Catalog,
    *,
    observe: Callable[[str, float], None] = lambda _source, _seconds: None,
) -> Triager:
    llm = None
    if settings.anthropic_api_key:
        # the SDK takes ~1 s to import: only when Claude is configured
        from handlers.anthropic_api import AnthropicTransport

        transport = AnthropicTransport(
            api_key=settings.anthropic_api_key,
            model=settings.llm_model,
            base_url=settings.anthropic_base_url,
            timeout=settings.llm_timeout_seconds,
        )
        breaker = Breaker(
            threshold=3,
            cooldown_seconds=60.0,
            slow_seconds=settings.llm_timeout_seconds / 2,
            clock=time.monotonic,
        )
        llm = LlmClassifier(transport, catalog, breaker)
    return Triager(
        catalog,
        urgent_keywords=settings.urgent_keywords,
        encoder=(
            partial(shared_encoder, serving_threads(settings.triage_encoder_threads))
            if settings.triage_local_model
            else lambda: None
        ),
        llm=llm,
        batch_size=settings.llm_batch_size,
        observe=observe,
    )
