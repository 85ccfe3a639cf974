"""The report as an XLSX workbook (openpyxl): a sheet of cases and a sheet of counts by category.

Written in openpyxl's write-only mode, row by row, so a large report does not hold a cell
object per value. Every text is written as text: a customer's subject such as
`=cmd|' /C calc'!A0` must never become a formula (formula injection), nor lose its first
character, so it is stored as a string with Excel's quote prefix and no control characters.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from services.report_data import ReportData, ReportRow

CASES_SHEET = "Cases"
CATEGORIES_SHEET = "By category"
MAX_CELL_TEXT = 32_767  # Excel's limit per cell
MAX_WIDTH = 60
DATE_FORMAT = "yyyy-mm-dd hh:mm"
BREACH_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
HEADER_FONT = Font(bold=True)
# Characters a spreadsheet (or a CSV exported from it) may take as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

COLUMNS = (
    "Case",
    "Status",
    "Subject",
    "Customer",
    "Channel",
    "Category",
    "Request type",
    "Urgency",
    "Escalated",
    "Assignee",
    "Opened (UTC)",
    "Last activity (UTC)",
    "SLA due (UTC)",
    "SLA breached",
    "Age (days)",
    "Incident",
    "Rating",
    "Rating comment",
)
SLA_COLUMNS = frozenset({"SLA due (UTC)", "SLA breached"})


def safe_text(value: str) -> str:
    """Text a cell keeps as written: no characters XML cannot carry, within Excel's limit."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:MAX_CELL_TEXT]


def _naive(value: datetime) -> datetime:
    """Excel has no time zones: UTC, labelled so in the header."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _values(row: ReportRow) -> list[Any]:
    escalated = ", ".join(row.escalation_reasons) or "yes" if row.escalated else ""
    return [
        row.number,
        row.status,
        row.subject,
        row.customer,
        row.channel,
        row.category or "",
        row.request_type or "",
        round(row.urgency, 2),
        escalated,
        row.assignee or "",
        _naive(row.opened),
        _naive(row.last_activity),
        _naive(row.sla_due) if row.sla_due else None,
        "yes" if row.sla_breached else "",
        round(row.age_days, 1),
        f"#{row.master}" if row.master else "",
        row.rating,
        row.rating_comment or "",
    ]


def _cell(ws: WriteOnlyWorksheet, value: Any, *, fill: PatternFill | None = None) -> Cell:
    if isinstance(value, str):
        value = safe_text(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never "f": openpyxl takes any text starting with "=" as a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # shown and exported as the text it is
    elif isinstance(value, datetime):
        cell.number_format = DATE_FORMAT
    if fill is not None:
        cell.fill = fill
    return cell


def _header(ws: WriteOnlyWorksheet, names: Sequence[str]) -> list[Cell]:
    cells = []
    for name in names:
        cell = _cell(ws, name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        cells.append(cell)
    return cells


def _widths(rows: Sequence[list[Any]], names: Sequence[str]) -> list[float]:
    """About as wide as the longest value (dates: their format), within MAX_WIDTH."""
    widths = [len(name) + 2 for name in names]
    for values in rows:
        for index, value in enumerate(values):
            size = len(DATE_FORMAT) if isinstance(value, datetime) else len(str(value or ""))
            widths[index] = max(widths[index], min(size + 2, MAX_WIDTH))
    return [float(width) for width in widths]


def _cases_sheet(wb: Workbook, data: ReportData) -> None:
    ws = wb.create_sheet(CASES_SHEET)
    values = [_values(row) for row in data.rows]
    for index, width in enumerate(_widths(values, COLUMNS), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.append(_header(ws, COLUMNS))
    for row, row_values in zip(data.rows, values, strict=True):
        ws.append(
            [
                _cell(
                    ws,
                    value,
                    fill=BREACH_FILL if row.sla_breached and name in SLA_COLUMNS else None,
                )
                for name, value in zip(COLUMNS, row_values, strict=True)
            ]
        )
    last = get_column_letter(len(COLUMNS))
    ws.auto_filter.ref = f"A1:{last}{len(data.rows) + 1}"


def _categories_sheet(wb: Workbook, data: ReportData) -> None:
    ws = wb.create_sheet(CATEGORIES_SHEET)
    names = ("Category", "Open", "Resolved", "Closed")
    rows = [[c.category, c.open, c.resolved, c.closed] for c in data.categories]
    for index, width in enumerate(_widths(rows, names), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.append(_header(ws, names))
    for values in rows:
        ws.append([_cell(ws, value) for value in values])
    ws.auto_filter.ref = f"A1:D{len(rows) + 1}"
    if not rows:
        return
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Cases by category"
    chart.y_axis.title = "Cases"
    chart.x_axis.title = "Category"
    chart.add_data(
        Reference(ws, min_col=2, max_col=4, min_row=1, max_row=len(rows) + 1), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1))
    chart.width, chart.height = 24, 12
    ws.add_chart(chart, "F2")


def build_workbook(data: ReportData) -> bytes:
    """The XLSX file's bytes."""
    wb = Workbook(write_only=True)
    _cases_sheet(wb, data)
    _categories_sheet(wb, data)
    wb.properties.title = f"Casebot report {data.generated_at:%Y-%m-%d %H:%M} UTC"
    wb.properties.creator = "Casebot"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
