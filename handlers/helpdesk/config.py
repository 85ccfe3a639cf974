"""The YAML file that says how to read a help desk's JSON API: where, how to sign in, how
pages follow each other, and which field of a request is which.

    url: https://desk.example.com/api/v2/requests
    auth: headers                 # headers: key and secret in two headers; basic: key:secret
    key_header: X-API-Key
    secret_header: X-API-Secret
    items: data                   # where a page keeps its list ("" when the page is the list)
    total: meta.total             # optional: how many in all (the progress bar's length)
    next: links.next              # a next-page URL in the body (absent/null: last page) ...
    page_param: page              # ... or numbered pages (?page=1, 2, …) until an empty one
    page_size_param: per_page
    page_size: 100
    fields:
      id: id                      # required: the request's id in the help desk
      text: description           # required
      subject: subject
      email: requester.email
      name: requester.name
      customer_id: requester.id   # when there is no email

The key and the secret never go in the file: HELPDESK_KEY and HELPDESK_SECRET (or the
variables `key_env` and `secret_env` name) hold them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.validation import first_problem


class ImportConfigError(Exception):
    """A mapping file that cannot be used; the message names the field."""


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    subject: str | None = None
    email: str | None = None
    name: str | None = None
    customer_id: str | None = None
    created_at: str | None = None


class HelpdeskConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    auth: Literal["headers", "basic", "none"] = "headers"
    key_header: str = "X-API-Key"
    secret_header: str = "X-API-Secret"
    key_env: str = "HELPDESK_KEY"
    secret_env: str = "HELPDESK_SECRET"
    items: str = "data"
    total: str | None = None  # where a page says how many requests there are in all
    next: str | None = None
    page_param: str | None = "page"
    first_page: int = 1
    page_size_param: str | None = None
    page_size: int = Field(default=100, ge=1, le=10_000)
    max_pages: int = Field(default=100_000, ge=1)
    fields: FieldMap

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def credentials(self) -> tuple[str, str] | None:
        """(key, secret) from the environment; None when auth is none."""
        if self.auth == "none":
            return None
        key, secret = os.environ.get(self.key_env), os.environ.get(self.secret_env)
        if not key or not secret:
            raise ImportConfigError(
                f"set {self.key_env} and {self.secret_env}: the help desk's key and secret"
            )
        return key, secret


def load_config(path: Path) -> HelpdeskConfig:
    """The mapping file, validated; ImportConfigError names the field that is wrong."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ImportConfigError(f"{path}: {error}") from None
    try:
        return HelpdeskConfig.model_validate(data)
    except ValidationError as error:
        raise ImportConfigError(f"{path}: {first_problem(error)}") from None
