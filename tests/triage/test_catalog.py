"""The service catalog: what ships, what a replacement must satisfy, how names are matched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.triage.catalog import (
    AmbiguousName,
    CatalogError,
    RequestType,
    UnknownName,
    canonical,
    load_catalog,
)

BANKING77_TYPES = {
    "duplicate_payment",
    "failed_payment",
    "refund_request",
    "fees_and_charges",
    "fraud_report",
    "lost_or_stolen",
    "account_access",
    "identity_verification",
    "account_changes",
    "card_or_app_problem",
    "general_inquiry",
}
CATALOG = load_catalog()


def test_the_default_catalog_covers_what_support_teams_need() -> None:
    assert set(CATALOG.type_ids) >= BANKING77_TYPES
    names = {c.name for c in CATALOG.categories}
    assert {"payments", "account", "technical", "legal_and_privacy", "general"} <= names
    assert CATALOG.request_type("outage").sla.delta == timedelta(minutes=30)
    assert CATALOG.category_of("refund_request").name == "payments"
    for rt in CATALOG.request_types:
        assert len(rt.examples) >= 5, rt.id
        assert rt.skills, rt.id


@pytest.mark.parametrize(
    ("name", "type_id"),
    [
        ("failed_payment", "failed_payment"),
        ("  FAILED payment ", "failed_payment"),
        ("Failed-Payment", "failed_payment"),
        ("Refund", "refund_request"),
        ("outage", "outage"),
        ("fraud", "fraud_report"),
    ],
)
def test_names_match_in_any_case_and_spacing(name: str, type_id: str) -> None:
    assert CATALOG.request_type(name).id == type_id


@pytest.mark.parametrize("name", ["", "   ", "banana", "payments!", "failed payment please"])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(UnknownName):
        CATALOG.request_type(name)


def test_ambiguous_prefixes_are_refused_with_the_candidates() -> None:
    with pytest.raises(AmbiguousName, match="account_access, account_changes"):
        CATALOG.request_type("account")
    assert CATALOG.category("account").name == "account"  # a category name is exact


@given(st.sampled_from(CATALOG.request_types), st.data())
def test_any_spelling_of_an_id_or_name_finds_its_type(rt: RequestType, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from([rt.id, rt.name]))
    spaced = data.draw(st.sampled_from([" ", "  ", "_", "-", "\t"]))
    variant = "".join(c.upper() if data.draw(st.booleans()) else c for c in name)
    variant = f" {variant.replace(' ', spaced).replace('_', spaced)} "
    assert CATALOG.request_type(variant).id == rt.id


@given(st.text())
def test_canonical_is_idempotent(text: str) -> None:
    assert canonical(canonical(text)) == canonical(text)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yml"
    path.write_text(text, encoding="utf-8")
    return path


VALID = """
categories:
  - name: billing
    request_types:
      - id: invoice_copy
        name: Invoice copy
        description: A copy of an invoice.
        examples: [send me my invoice]
        sla: {unit: days, value: 1}
        skills: [Billing]
        priority: 2
"""


def test_a_replacement_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, VALID))
    assert catalog.type_ids == ["invoice_copy"]
    assert catalog.request_type("invoice copy").skills == ("billing",)
    assert str(catalog.request_type("invoice_copy").sla) == "1 day"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: [", "not valid YAML"),
        ("", "top level"),
        ("categories: []", "categories"),
        (VALID.replace("priority: 2", "priority: 9"), "priority"),
        (VALID.replace("unit: days", "unit: fortnights"), "sla.unit"),
        (VALID.replace("id: invoice_copy", "id: Invoice Copy"), "lower case"),
        (VALID.replace("examples: [send me my invoice]", "examples: []"), "examples"),
        (VALID + "        colour: red\n", "colour"),
        (
            VALID + VALID.split("request_types:\n")[1].replace("invoice_copy", "other"),
            "names both",
        ),
    ],
)
def test_a_bad_catalog_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(write(tmp_path, text))


def test_a_missing_catalog_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"cannot read .*nope\.yml"):
        load_catalog(tmp_path / "nope.yml")
