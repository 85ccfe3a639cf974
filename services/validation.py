"""One line for a pydantic ValidationError of a file people write (catalog, agents, mapping)."""

from __future__ import annotations

from pydantic import ValidationError


def first_problem(error: ValidationError) -> str:
    """`categories.0.request_types: List should have at least 1 item`: where, then what."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "top level"
    return f"{where}: {first['msg']}"
