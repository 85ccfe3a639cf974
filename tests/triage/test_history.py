"""Labelled history from a help-desk export, with and without a label mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.triage.catalog import AmbiguousName, Catalog
from services.triage.history import HistoryError, load_label_map, read_history

EXPORT = """ticket,body,queue
1,I was charged twice,double_charge
2,my card got stolen,card_theft
3,,double_charge
4,how do I order a card,card_delivery
5,where is my refund,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_turns_export_labels_into_request_types(tmp_path: Path, catalog: Catalog) -> None:
    mapping = write(
        tmp_path,
        "map.yml",
        "duplicate_payment: [double_charge]\nlost or stolen: [card_theft]\ngeneral_inquiry: []\n",
    )
    label_map = load_label_map(mapping, catalog)
    history = read_history(write(tmp_path, "x.csv", EXPORT), "body", "queue", catalog, label_map)
    assert [(e.text, e.request_type, e.sublabel) for e in history.examples] == [
        ("I was charged twice", "duplicate_payment", "double_charge"),
        ("my card got stolen", "lost_or_stolen", "card_theft"),
        ("how do I order a card", "general_inquiry", "card_delivery"),  # the catch-all
    ]
    assert history.rejected == [(4, "empty text or label"), (6, "empty text or label")]


def test_without_a_mapping_labels_must_name_catalog_types(tmp_path: Path, catalog: Catalog) -> None:
    csv = "text,label\nI was charged twice,Duplicate payment\nhello,banana\nhi,account\n"
    history = read_history(
        write(tmp_path, "x.csv", csv), "text", "label", catalog, load_label_map(None, catalog)
    )
    assert [(e.request_type, e.sublabel) for e in history.examples] == [
        ("duplicate_payment", None)  # the label is the type: no finer label
    ]
    assert [line for line, _ in history.rejected] == [3, 4]
    assert "banana" in history.rejected[0][1] and "could be any" in history.rejected[1][1]


def test_a_missing_column_names_the_columns_there_are(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, "x.csv", EXPORT)
    with pytest.raises(HistoryError, match="no column text; its columns: ticket, body, queue"):
        read_history(path, "text", "queue", catalog, load_label_map(None, catalog))


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        ("- just a list", HistoryError),
        ("duplicate_payment: double_charge", HistoryError),
        ("account: [x]", AmbiguousName),
        ("general_inquiry: []\nrefund_request: []", HistoryError),
        ("{{{", HistoryError),
    ],
)
def test_a_bad_mapping_is_refused(
    tmp_path: Path, catalog: Catalog, mapping: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        load_label_map(write(tmp_path, "map.yml", mapping), catalog)


def test_an_unreadable_file_is_one_error(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(HistoryError, match="cannot read"):
        read_history(tmp_path / "none.csv", "a", "b", catalog, load_label_map(None, catalog))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncaf\xe9,refund\n".encode("latin-1"))
    with pytest.raises(HistoryError, match="not UTF-8"):
        read_history(latin, "text", "label", catalog, load_label_map(None, catalog))
