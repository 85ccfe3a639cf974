"""One line of `casebot check`: a status, what was checked, and what was found."""

from __future__ import annotations

from dataclasses import dataclass

OK, FAIL, SKIP = "ok", "FAIL", "skip"
TIMEOUT_SECONDS = 10  # per network check: an unreachable host must not hang the command


@dataclass(frozen=True)
class Result:
    status: str  # ok | FAIL | skip
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<5} {self.name}: {self.detail}"
