"""Tables of several figures per row — a campaign's sub-units, the campaigns of a year — in every report format.

The yearly report's own tables compare two years (``layout.Table``: a label, this year, last year, the change). A
report whose rows carry several figures each uses a ``Grid`` instead: column headings, then one row per thing counted
and, last, the row of totals. The labels are in the language active when the grid is built, like the tables'. Every
format renders it the same way through the functions here: the page and the PDF show the figures as text with
thousands grouped (``display_grid``), the CSV writes them ungrouped through the formula-safe writer
(``grid_csv_rows``), the XLSX writes real numbers under a frozen heading (``write_grid_sheet``) and can draw a native
chart from its columns (``add_grid_chart``). Text cells (a campaign's name) are written as text everywhere: escaped
on the page and in the PDF, quoted in the CSV when they could start a formula, ``write_string`` in the XLSX.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from cases.reports.layout import format_value

if TYPE_CHECKING:  # XlsxWriter itself is imported where a workbook is written (cases/reports/xlsx.py)
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

    from cases.reports.yearly import YearlyReport

CellFormat = Literal["int", "money", "days", "ratio", "pct", "text"]
Value = int | float | Decimal | str | None

NUMBER_FORMATS = {"int": "#,##0", "money": "#,##0.00", "days": "0.0", "ratio": "0.00", "pct": "0.0"}


@dataclass(frozen=True)
class Column:
    title: str
    format: CellFormat = "int"
    key: str = ""  # stable name, where code picks a column out (charts, tests)


@dataclass(frozen=True)
class GridRow:
    label: str
    values: tuple[Value, ...]
    total: bool = False  # the row of totals, set apart on the page and in the PDF
    # On the page, the address each value links to ("" none), as many as the values or none at all: the cases a
    # figure counts (the analysis's tables link to the queue).
    links: tuple[str, ...] = ()
    label_link: str = ""  # on the page, where the row's label leads (a sub-unit's own page), if anywhere


@dataclass(frozen=True)
class Grid:
    key: str
    title: str
    label_title: str  # the first column's heading
    columns: tuple[Column, ...]
    rows: tuple[GridRow, ...]
    note: str = ""  # what the figures count, printed under the table
    empty: str = ""  # said instead of the table when there are no rows

    def column(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)


def cell_text(value: Value, fmt: CellFormat, *, grouped: bool = False) -> str:
    if value is None:
        return ""
    if fmt == "text" or isinstance(value, str):
        return str(value)
    return format_value(value, fmt, grouped=grouped)


def display_grid(grid: Grid) -> list[tuple[GridRow, list[tuple[str, bool]]]]:
    """Each row with its cells as text for reading (thousands grouped), each with whether it is a figure (set to the
    right): the page and the PDF."""
    return [
        (
            row,
            [
                (cell_text(v, c.format, grouped=True), c.format != "text")
                for v, c in zip(row.values, grid.columns, strict=True)
            ],
        )
        for row in grid.rows
    ]


def linked_grid(grid: Grid) -> list[tuple[GridRow, list[tuple[str, bool, str]]]]:
    """``display_grid`` with each cell's link ("" for none): the page of a grid whose figures link to their cases."""
    return [
        (row, [(text, figure, row.links[i] if row.links else "") for i, (text, figure) in enumerate(cells)])
        for row, cells in display_grid(grid)
    ]


def grid_csv_rows(grid: Grid) -> list[list[Any]]:
    """The grid as CSV rows: its title, the headings, the rows, then its note. Write them with ``cells.csv_writer``."""
    rows: list[list[Any]] = [[grid.title], [grid.label_title, *(c.title for c in grid.columns)]]
    for row in grid.rows:
        rows.append([row.label, *(cell_text(v, c.format) for v, c in zip(row.values, grid.columns, strict=True))])
    if grid.note:
        rows.append([grid.note])
    return rows


class GridFormats:
    """The cell formats of one workbook (XlsxWriter formats belong to the workbook that made them)."""

    def __init__(self, workbook: "Workbook") -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14, "font_color": "#0B3D91"})
        self.label = workbook.add_format({"bold": True})
        self.header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1, "text_wrap": True})
        self.header_number = workbook.add_format(
            {"bold": True, "bg_color": "#EEF2F7", "bottom": 1, "align": "right", "text_wrap": True}
        )
        self.total_label = workbook.add_format({"bold": True, "top": 1})
        self.numbers = {key: workbook.add_format({"num_format": fmt}) for key, fmt in NUMBER_FORMATS.items()}
        self.total_numbers = {
            key: workbook.add_format({"num_format": fmt, "bold": True, "top": 1}) for key, fmt in NUMBER_FORMATS.items()
        }


def write_grid_sheet(ws: "Worksheet", grid: Grid, f: GridFormats, first_row: int = 0) -> int:
    """The grid from ``first_row``: headings (frozen, with the label column), then the rows with numbers as numbers.
    Returns the worksheet row of the first data row."""
    ws.set_column(0, 0, 40)
    ws.set_column(1, len(grid.columns), 14)
    ws.write_string(first_row, 0, grid.label_title, f.header)
    for col, column in enumerate(grid.columns, start=1):
        ws.write_string(first_row, col, column.title, f.header if column.format == "text" else f.header_number)
    ws.freeze_panes(first_row + 1, 1)
    for i, row in enumerate(grid.rows, start=first_row + 1):
        ws.write_string(i, 0, row.label, f.total_label if row.total else None)
        for col, (value, column) in enumerate(zip(row.values, grid.columns, strict=True), start=1):
            if value is None:
                ws.write_blank(i, col, None)
            elif column.format == "text" or isinstance(value, str):
                ws.write_string(i, col, str(value))
            else:
                formats = f.total_numbers if row.total else f.numbers
                ws.write_number(i, col, float(value) if isinstance(value, Decimal) else value, formats[column.format])
    if grid.note:
        ws.write_string(first_row + len(grid.rows) + 2, 0, grid.note)
    return first_row + 1


CHART_TYPES = {"bar": "column", "hbar": "bar", "line": "line"}
COLOURS = ("#0B3D91", "#9AA5B1")


def add_grid_chart(
    workbook: "Workbook",
    sheet: str,
    grid: Grid,
    *,
    columns: Iterable[str],
    title: str,
    kind: str = "hbar",
    first_row: int = 1,
    rows: int | None = None,
) -> Any:
    """A native chart of some of the grid's columns (by key), one series each, over its rows from the worksheet row
    ``first_row`` (``rows`` of them: leave out the total, which would dwarf every other bar). It points at the grid's
    sheet, so a corrected cell redraws it."""
    chart = workbook.add_chart({"type": CHART_TYPES[kind]})
    count = len(grid.rows) if rows is None else rows
    last = first_row + max(count, 1) - 1
    for key, colour in zip(columns, COLOURS, strict=False):
        col = grid.column(key) + 1
        chart.add_series(
            {
                "name": [sheet, first_row - 1, col],
                "categories": [sheet, first_row, 0, last, 0],
                "values": [sheet, first_row, col, last, col],
                "fill": {"color": colour},
                "line": {"color": colour},
            }
        )
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"})
    if kind == "hbar":
        chart.set_y_axis({"reverse": True})  # first row at the top, as in the table
    chart.set_size({"width": 720, "height": max(260, 24 * count + 90) if kind == "hbar" else 300})
    return chart


def report_grids(report: "YearlyReport") -> tuple[Grid, ...]:
    """The grids of the yearly report's added sections (sections.py), in the active language."""
    return tuple(grid for section in report.sections for grid in section.grids())
