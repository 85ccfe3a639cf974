"""One embedding model per test session: loading it imports torch (seconds)."""

from __future__ import annotations

import pytest

from services.triage.catalog import Catalog, load_catalog
from services.triage.embeddings import Encoder, MiniLMEncoder


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return MiniLMEncoder()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
