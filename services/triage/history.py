"""Labelled history from a help-desk export: a CSV with a text column and a label column.

Labels are the export's own categories. A mapping file (YAML, `request type: [labels]`)
says which request type each label is; a request type listed with no labels (`[]`) takes
every label the mapping does not list. Without a mapping, labels must name request types of
the catalog. The original label is kept as the example's sub-label: the local classifier
learns the export's finer categories and sums them into request types.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from services.errors import DomainError
from services.triage.catalog import Catalog, canonical
from services.triage.local import Example

MAX_TEXT = 10_000


class HistoryError(DomainError):
    """The file or the mapping cannot be used at all (missing column, bad YAML...)."""


@dataclass(frozen=True)
class LabelMap:
    """Export label → request type id."""

    labels: Mapping[str, str]
    default: str | None = None

    def type_for(self, label: str, catalog: Catalog) -> str:
        found = self.labels.get(label) or self.labels.get(canonical(label))
        if found:
            return found
        if self.default:
            return self.default
        return catalog.request_type(label).id  # raises UnknownName / AmbiguousName


def load_label_map(path: Path | str | None, catalog: Catalog) -> LabelMap:
    """The mapping file checked against the catalog; None gives the identity mapping."""
    if path is None:
        return LabelMap({})
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise HistoryError(f"cannot read the mapping {path}: {error}") from None
    if not isinstance(data, dict):
        raise HistoryError(f"the mapping {path} must map request types to lists of labels")
    labels: dict[str, str] = {}
    default: str | None = None
    for name, listed in data.items():
        type_id = catalog.request_type(str(name)).id
        if listed in (None, []):
            if default is not None and default != type_id:
                raise HistoryError(f"the mapping {path} has two catch-all types")
            default = type_id
            continue
        if not isinstance(listed, list):
            raise HistoryError(f"the mapping {path}: {name} must list labels")
        for label in listed:
            labels[str(label)] = type_id
            labels.setdefault(canonical(str(label)), type_id)
    return LabelMap(labels, default)


@dataclass
class History:
    examples: list[Example] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def read_history(
    path: Path | str, text_col: str, label_col: str, catalog: Catalog, label_map: LabelMap
) -> History:
    """Every usable row as an example; unusable rows are reported with their line, not fatal."""
    history = History()
    for line, text, label in _rows(path, text_col, label_col):
        text, label = text.strip(), label.strip()
        if not text or not label:
            history.rejected.append((line, "empty text or label"))
            continue
        try:
            type_id = label_map.type_for(label, catalog)
        except DomainError as error:
            history.rejected.append((line, str(error)))
            continue
        sublabel = None if canonical(label) == canonical(type_id) else label
        history.examples.append(Example(text[:MAX_TEXT], type_id, sublabel))
    return history


def _rows(path: Path | str, text_col: str, label_col: str) -> Iterator[tuple[int, str, str]]:
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as error:
        raise HistoryError(f"cannot read {path}: {error}") from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in (text_col, label_col) if c not in columns]
            if missing:
                raise HistoryError(
                    f"{path} has no column {', '.join(missing)}; its columns: {', '.join(columns)}"
                )
            for row in reader:
                yield reader.line_num, row.get(text_col) or "", row.get(label_col) or ""
        except UnicodeDecodeError as error:
            raise HistoryError(f"{path} is not UTF-8 (save it as UTF-8 CSV): {error}") from None
        except csv.Error as error:
            raise HistoryError(f"{path} line {reader.line_num}: {error}") from None
