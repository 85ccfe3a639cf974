"""Property-based fuzzing of the HTTP API with schemathesis, driven by its own OpenAPI document.

The real bot serves; the test reads `/api/openapi.json` over HTTP and fuzzes every operation
the document lists, so routes added later are covered without touching this file. For each
operation: schemathesis' deterministic boundary cases (each limit and one past it, missing
parts, undeclared methods), then hypothesis-generated valid and invalid requests. Every
answer is checked: never a 5xx, a documented status, the documented content type, a body
matching the documented schema, valid data accepted and invalid data refused, auth enforced,
405 with `Allow` for methods not in the document. Generation is derandomised, so a failure in
CI reproduces locally.

SQLite only: what is tested is the HTTP contract, which does not depend on the backend (the
storage layer has its own PostgreSQL tests), and a second backend would double a long test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from bot.runtime import Runtime
from tests.e2e.api import TOKEN, start

pytestmark = pytest.mark.slow  # a minute or more: started first (tests/conftest.py)

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    # Valid data (by the document) is never refused with 422, invalid data never accepted:
    # the schemas say what the handlers really take.
    positive_data_acceptance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]
# Generated examples per run, shared by the operations and both modes so that the runtime
# stays about the same as routes are added (operations without parameters or body take one
# example only: there is nothing to vary). Today's twenty get 150 each: 5,214 requests.
EXAMPLES_BUDGET = 6000
MAX_EXAMPLES = 150
MIN_EXAMPLES = 40
MIN_REQUESTS = 1000
REQUEST_TIMEOUT = 30.0
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]


@dataclass
class Fuzzer:
    """Sends the generated requests through one session, counting them per operation and phase.

    The counts are the requests this test sent; the probes some checks add (the same request
    without the token, for ignored_auth) go through schemathesis' own session, uncounted.
    """

    schema: schemathesis.BaseSchema
    base_url: str
    session: requests.Session = field(default_factory=requests.Session)
    sent: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    label: str = ""
    examples: int = MAX_EXAMPLES

    def run(self) -> None:
        """Every operation: its boundary cases, then valid and then invalid generated data."""
        operations = len(list(self.schema.get_all_operations()))
        share = EXAMPLES_BUDGET // (2 * max(operations, 1))
        self.examples = max(MIN_EXAMPLES, min(MAX_EXAMPLES, share))
        with self.session:
            for result in self.schema.get_all_operations():
                if not isinstance(result, Ok):
                    self.failures.append(f"an operation the document breaks: {result.err()}")
                    continue
                operation = result.ok()
                self.label = f"{operation.label} [coverage]"
                self._coverage(operation)
                for mode in schemathesis.GenerationMode:
                    if mode.is_negative and not _can_be_invalid(operation):
                        continue
                    self.label = f"{operation.label} [{mode.value}]"
                    try:
                        self._examples(operation, mode)()
                    except Unsatisfiable:
                        if not mode.is_negative:
                            raise
                        # Only a string path parameter to break, and every way to break it
                        # (too long, a NUL) is one schemathesis will not put in a URL: the
                        # coverage phase above sent its boundary cases already.
                        self.unsatisfiable.append(self.label)
                    except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a Base…
                        self.failures.append(f"{self.label}:\n{_describe(exc)}")

    def _send(self, case: Case) -> None:
        """One request and its checks; raises what they find."""
        response = case.call(
            base_url=self.base_url, session=self.session, headers=AUTH, timeout=REQUEST_TIMEOUT
        )
        self.sent[self.label] += 1
        case.validate_response(
            response,
            checks=CHECKS,
            headers=AUTH,
            transport_kwargs={"base_url": self.base_url, "timeout": REQUEST_TIMEOUT},
        )

    def _coverage(self, operation: Operation) -> None:
        """Schemathesis' deterministic cases: each limit and one past it, missing parts."""
        config = self.schema.config.generation_for(operation=operation, phase="coverage")
        for case in self.schema.iter_coverage_cases(
            operation, generation_modes=list(schemathesis.GenerationMode), generation_config=config
        ):
            try:
                self._send(case)
            except (Exception, BaseExceptionGroup) as exc:
                self.failures.append(f"{self.label}:\n{_describe(exc)}")

    def _examples(
        self, operation: Operation, mode: schemathesis.GenerationMode
    ) -> Callable[[], None]:
        """One operation's hypothesis test in one generation mode; raises what it finds."""

        @settings(
            max_examples=self.examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        # The token is given, not generated: invalid cases must not drop or mangle it (401
        # would then be right, and the handler behind it would go untested; ignored_auth
        # probes that separately).
        @given(case=operation.as_strategy(generation_mode=mode, headers=AUTH))
        def examples(case: Case) -> None:
            self._send(case)

        return examples


def _describe(exc: BaseException) -> str:
    """The failure and, for groups (hypothesis' flaky or multiple bugs), each one inside it."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            text += "\n  " + _describe(inner).replace("\n", "\n  ")
    return text


def _can_be_invalid(operation: Operation) -> bool:
    """Invalid data needs something to break: a parameter or a body (the token is fixed)."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


# SQLite only: see the module's docstring.
@pytest.mark.parametrize("backend", ["sqlite"])
# Hypothesis warns when the global `random` moves while it draws a case; here the bot serving
# in the same process moves it (the dispatcher's retry jitter), not the strategies.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
async def test_the_api_holds_its_openapi_contract_under_fuzzing(
    start_bot: Callable[..., Any], record_property: Callable[[str, object], None]
) -> None:
    # A rate nothing here reaches: 429 is documented, but answering it would leave the
    # handlers behind it untested.
    bot: Runtime = await start(start_bot, api_rate_per_minute=1e6, api_rate_burst=1_000_000)
    base_url = f"http://127.0.0.1:{bot.http_port}"
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url}/api/openapi.json", headers=AUTH) as answer,
    ):
        assert answer.status == 200
        document = await answer.json()
    fuzzer = Fuzzer(schemathesis.openapi.from_dict(document), base_url)

    # Schemathesis is synchronous: it runs in a thread while this loop serves the bot.
    await asyncio.to_thread(fuzzer.run)

    total = sum(fuzzer.sent.values())
    counts = "\n".join(f"{count:6} {label}" for label, count in sorted(fuzzer.sent.items()))
    heading = f"schemathesis sent {total} requests ({fuzzer.examples} examples per mode)"
    skipped = "".join(f"\n  no invalid case possible: {label}" for label in fuzzer.unsatisfiable)
    print(f"\n{heading}:\n{counts}{skipped}")  # noqa: T201 - the run's record
    record_property("requests_sent", total)
    assert not fuzzer.failures, "\n\n".join(fuzzer.failures)
    fuzzed = {label.rsplit(" [", 1)[0] for label in fuzzer.sent}
    paths = document["paths"].items()
    listed = {f"{method.upper()} {path}" for path, item in paths for method in item}
    assert fuzzed == listed, "every operation the document lists was fuzzed"
    assert total >= MIN_REQUESTS, f"only {total} requests: too few to mean much"
