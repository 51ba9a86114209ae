"""The yearly report as an Excel workbook (XlsxWriter, assembled in memory).

A summary sheet, one sheet per table with its header row frozen and real numeric cells (counts, money, days,
percentages as fractions with a percent format), and a "Charts" sheet of native Excel charts that point at the
table sheets, so the charts follow if someone corrects a cell.
"""

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO

from django.utils.translation import gettext as _

if TYPE_CHECKING:  # XlsxWriter itself is imported when a workbook is written (10 MB no other request needs)
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

from cases.reports.grid import GridFormats, report_grids, write_grid_sheet
from cases.reports.layout import (
    Row,
    Table,
    column_headers,
    figures_as_of_label,
    generated_label,
    report_charts,
    report_tables,
    unit_label,
)
from cases.reports.yearly import YearlyReport

NUMBER_FORMATS = {"int": "#,##0", "money": "#,##0.00", "days": "0.0", "ratio": "0.00"}
CHART_TYPES: dict[str, dict[str, str]] = {
    "line": {"type": "line"},
    "bar": {"type": "column"},
    "hbar": {"type": "bar"},
}
COLOURS = ("#0B3D91", "#9AA5B1")


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique worksheet name: at most 31 characters, none of []:*?/\\."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


class _Formats:
    def __init__(self, workbook: "xlsxwriter.Workbook") -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14, "font_color": "#0B3D91"})
        self.label = workbook.add_format({"bold": True})
        self.header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1})
        self.header_number = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1, "align": "right"})
        self.numbers = {key: workbook.add_format({"num_format": fmt}) for key, fmt in NUMBER_FORMATS.items()}
        self.signed = {
            key: workbook.add_format({"num_format": f"+{fmt};-{fmt};0"}) for key, fmt in NUMBER_FORMATS.items()
        }
        self.percent = workbook.add_format({"num_format": "+0.0%;-0.0%;0.0%"})


def _write_table(ws: "Worksheet", first_row: int, headers: tuple[str, ...], rows: tuple[Row, ...], f: _Formats) -> None:
    """Header at ``first_row``, then one row per table row: label, this year, last year, change, change %."""
    for col, text in enumerate(headers):
        ws.write_string(first_row, col, text, f.header if col == 0 else f.header_number)
    for i, row in enumerate(rows, start=first_row + 1):
        ws.write_string(i, 0, row.label)
        for col, value in ((1, row.current), (2, row.previous)):
            number = _number(value)
            if number is None:
                ws.write_blank(i, col, None)
            else:
                ws.write_number(i, col, number, f.numbers[row.format])
        change, ratio = _number(row.change), row.change_ratio
        if change is not None:
            ws.write_number(i, 3, change, f.signed[row.format])
        if ratio is not None:
            ws.write_number(i, 4, ratio, f.percent)


def write_xlsx(report: YearlyReport, out: BinaryIO) -> None:
    tables = report_tables(report)
    headers = column_headers(report)
    # In memory: the workbook is a few hundred cells whatever the number of cases (one row per category, month or
    # sub-unit; the cases themselves are in the summaries). XlsxWriter's constant_memory mode wrote each of the
    # twenty sheets to a temporary file and read it back into the zip, which took half the time of the export.
    # The same cells and formats either way; the strings go to the shared-strings table instead of each cell.
    import xlsxwriter

    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    workbook.set_properties({"title": _("RightsGuard yearly report"), "subject": unit_label(report.unit)})
    f = _Formats(workbook)
    taken: set[str] = set()

    summary = workbook.add_worksheet(sheet_name(_("Summary"), taken))
    summary.set_column(0, 0, 48)
    summary.set_column(1, 4, 14)
    summary.write_string(0, 0, _("RightsGuard yearly report"), f.title)
    meta = (
        (_("Unit"), unit_label(report.unit)),
        (_("Year"), report.year),
        (_("Compared with"), report.previous_year),
        (_("Generated"), generated_label(report)),
        *([(_("Figures as of"), as_of)] if (as_of := figures_as_of_label(report)) else []),
    )
    for i, (label, value) in enumerate(meta, start=1):
        summary.write_string(i, 0, label, f.label)
        if isinstance(value, int):
            summary.write_number(i, 1, value)
        else:
            summary.write_string(i, 1, value)
    overview: Table = tables[0]
    header_row = len(meta) + 2
    _write_table(summary, header_row, headers, overview.rows, f)
    summary.freeze_panes(header_row + 1, 0)

    sheets: dict[str, str] = {}
    for table in tables[1:]:
        name = sheet_name(table.title, taken)
        sheets[table.key] = name
        ws = workbook.add_worksheet(name)
        ws.set_column(0, 0, 52)
        ws.set_column(1, 4, 13)
        ws.freeze_panes(1, 1)
        _write_table(ws, 0, headers, table.rows, f)
        # The sheet's printed header says what the numbers are about.
        ws.set_header(f"&L{_escape(unit_label(report.unit))}&R{report.year}")

    grid_formats = GridFormats(workbook)
    for grid in report_grids(report):
        write_grid_sheet(workbook.add_worksheet(sheet_name(grid.title, taken)), grid, grid_formats)

    charts_sheet = workbook.add_worksheet(sheet_name(_("Charts"), taken))
    anchor = 0
    for spec in report_charts(report, tables):
        chart = workbook.add_chart(CHART_TYPES[spec.kind])
        sheet = sheets[spec.table]
        start, stop = spec.span
        # Table row i sits on worksheet row i + 1 (row 0 is the header).
        first, last = start + 1, stop
        for col, colour in zip((1, 2), COLOURS, strict=True):
            chart.add_series(
                {
                    "name": [sheet, 0, col],
                    "categories": [sheet, first, 0, last, 0],
                    "values": [sheet, first, col, last, col],
                    "fill": {"color": colour},
                    "line": {"color": colour},
                }
            )
        chart.set_title({"name": spec.title, "name_font": {"size": 11}})
        chart.set_legend({"position": "bottom"})
        height = max(260, 24 * (stop - start) + 90) if spec.kind == "hbar" else 300
        if spec.kind == "hbar":
            chart.set_y_axis({"reverse": True})  # first row at the top, as in the table
        chart.set_size({"width": 720, "height": height})
        charts_sheet.insert_chart(anchor, 0, chart)
        anchor += height // 20 + 2  # default rows are 20 px high
    workbook.close()


def _escape(text: str) -> str:
    # "&" starts a control code in Excel headers.
    return text.replace("&", "&&")
