"""The service catalog: categories → request types, validated once at start.

Everything that names a category or a request type (a model's answer, an agent's correction,
an imported label) goes through `Catalog.request_type` / `Catalog.category`, which accept the
id or the display name in any case and spacing and refuse unknown or ambiguous names. SLAs
come from here only, never from a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.errors import DomainError
from services.validation import first_problem

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SEPARATORS = re.compile(r"[\s_\-/]+")
# A Slack channel as a catalog may name it: its id, or its name with or without "#" (Slack's
# names are lower case, digits, "-" and "_", at most 80 characters).
_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{6,}|#?(?:[^\W A-Z]|-){1,80})$")
T = TypeVar("T")


class CatalogError(DomainError):
    """The catalog file is missing, not YAML, or not a valid catalog."""


class UnknownName(DomainError):
    """A name that matches no category or request type."""


class AmbiguousName(DomainError):
    """A name that matches more than one category or request type."""


def canonical(name: str) -> str:
    """Case, spacing, hyphens, underscores don't matter: ' Failed-Payment ' → 'failed payment'."""
    return _SEPARATORS.sub(" ", name).strip().casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _channel_shape(value: str | None) -> str | None:
    if value is not None and not _CHANNEL.match(value):
        raise ValueError(
            f"{value!r} is not a Slack channel: give its id (C0123ABCD) or name (#team-payments)"
        )
    return value


class TeamChannels(BaseModel):
    """Where one request type's cards and alerts go; None means the desk-wide channel."""

    model_config = ConfigDict(frozen=True)

    cards: str | None = None
    alerts: str | None = None


class Sla(_Strict):
    unit: Literal["minutes", "hours", "days"]
    value: float = Field(gt=0, le=10_000)

    @property
    def delta(self) -> timedelta:
        return timedelta(**{self.unit: self.value})

    def __str__(self) -> str:
        value = int(self.value) if self.value == int(self.value) else self.value
        unit = self.unit[:-1] if value == 1 else self.unit
        return f"{value} {unit}"


class RequestType(_Strict):
    id: str
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=1000)
    examples: tuple[str, ...] = Field(min_length=1)
    sla: Sla
    skills: tuple[str, ...] = ()
    priority: int = Field(ge=1, le=5)
    channel: str | None = None  # a team's channel for these cards (else the category's)
    alerts_channel: str | None = None  # the team's alerts (else the category's)

    channels_shape = field_validator("channel", "alerts_channel")(_channel_shape)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower case letters, digits and underscores, max 64")
        return value

    @field_validator("examples")
    @classmethod
    def _examples_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(e.strip() for e in value)
        if any(not e for e in cleaned):
            raise ValueError("an example phrase is empty")
        return cleaned

    @field_validator("skills")
    @classmethod
    def _skills_canonical(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(canonical(s) for s in value if s.strip())


class Category(_Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    request_types: tuple[RequestType, ...] = Field(min_length=1)
    channel: str | None = None  # a team's channel for this category's cards
    alerts_channel: str | None = None  # the team's alerts

    channels_shape = field_validator("channel", "alerts_channel")(_channel_shape)


class Catalog(_Strict):
    categories: tuple[Category, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_unique(self) -> Catalog:
        seen: dict[str, str] = {}
        for label, name in self._names():
            key = canonical(name)
            if key in seen and seen[key] != label:
                raise ValueError(f"{name!r} names both {seen[key]} and {label}")
            seen[key] = label
        return self

    def _names(self) -> Iterator[tuple[str, str]]:
        for category in self.categories:
            yield f"category {category.name!r}", category.name
            for rt in category.request_types:
                yield f"request type {rt.id!r}", rt.id
                yield f"request type {rt.id!r}", rt.name

    @property
    def request_types(self) -> list[RequestType]:
        return [rt for c in self.categories for rt in c.request_types]

    @property
    def type_ids(self) -> list[str]:
        return [rt.id for rt in self.request_types]

    def category_of(self, type_id: str) -> Category:
        for category in self.categories:
            if any(rt.id == type_id for rt in category.request_types):
                return category
        raise UnknownName(f"no request type {type_id!r} in the catalog")

    def teams(self) -> dict[str, TeamChannels]:
        """Request type id → the team channels its cards and alerts go to, for the types that
        have one: a request type's own `channel:`/`alerts_channel:`, else its category's."""
        found: dict[str, TeamChannels] = {}
        for category in self.categories:
            for rt in category.request_types:
                team = TeamChannels(
                    cards=rt.channel or category.channel,
                    alerts=rt.alerts_channel or category.alerts_channel,
                )
                if team.cards or team.alerts:
                    found[rt.id] = team
        return found

    def request_type(self, name: str) -> RequestType:
        """The request type named `name` (its id or display name, or a unique prefix of one)."""
        candidates = {(rt.id, n): rt for rt in self.request_types for n in (rt.id, rt.name)}
        return _match(name, candidates, "request type")

    def category(self, name: str) -> Category:
        """The category named `name` (or a unique prefix of its name)."""
        candidates = {(c.name, c.name): c for c in self.categories}
        return _match(name, candidates, "category")


def _match(name: str, candidates: dict[tuple[str, str], T], what: str) -> T:
    wanted = canonical(name)
    if not wanted:
        raise UnknownName(f"an empty {what} name")
    exact = {ident: item for (ident, n), item in candidates.items() if canonical(n) == wanted}
    if len(exact) == 1:
        return next(iter(exact.values()))
    prefixed = {
        ident: item for (ident, n), item in candidates.items() if canonical(n).startswith(wanted)
    }
    if len(prefixed) == 1:
        return next(iter(prefixed.values()))
    if not prefixed:
        raise UnknownName(f"no {what} called {name.strip()!r}")
    names = ", ".join(sorted(prefixed))
    raise AmbiguousName(f"{name.strip()!r} could be any {what} of: {names}")


DEFAULT_CATALOG = "catalog.yml"


def load_catalog(path: Path | str | None = None) -> Catalog:
    """The catalog at `path`, or the shipped default; any problem is one `CatalogError` line."""
    where = str(path) if path else "the default catalog"
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files(__package__).joinpath(DEFAULT_CATALOG).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"cannot read {where}: {error}") from None
    return parse_catalog(text, where)


def parse_catalog(text: str, where: str) -> Catalog:
    """A catalog from YAML text; `where` names its origin in the one-line CatalogError."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{where} is not valid YAML: {error}") from None
    try:
        return Catalog.model_validate(data)
    except ValidationError as error:
        raise CatalogError(f"{where}: {first_problem(error)}") from None
