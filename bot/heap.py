"""Keeping the garbage collector's pauses short in a process that holds a model.

A full collection walks every tracked object. Once torch, transformers and the model are
loaded that is millions of objects, and each full collection stopped the event loop for 70
to 280 ms, at random: it was the whole of the p99 Socket Mode ack latency under load
(tests/bench/intake_and_acks). What is loaded at start-up lives as long as the process, so
after start-up it is moved out of the collector's sight (`gc.freeze`); later collections
walk only what was made since.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Collect start-up's garbage once, then freeze what remains (it lives for good)."""
    gc.collect()
    gc.freeze()
    log.info("heap: %d start-up objects frozen out of garbage collection", gc.get_freeze_count())
