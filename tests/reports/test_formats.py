"""Each file format carries the selector's figures: CSV and XLSX parsed back, the PDF's text extracted."""

import csv
import io
import re
import zipfile
from datetime import date

import openpyxl
import pytest
from django.utils import formats, translation
from pypdf import PdfReader

from cases.choices import IncidentKind
from cases.models import ReportFormat
from cases.reports.detail import stream_detail_csv
from cases.reports.services import render_export

CJK = re.compile(r"[\u4e00-\u9fff]")


def render(unit, year: int, fmt: str, language: str = "en") -> bytes:
    out = io.BytesIO()
    with translation.override(language):
        render_export(unit=unit, year=year, fmt=fmt, out=out)
    return out.getvalue()


def csv_sections(data: bytes) -> dict[str, dict[str, list[str]]]:
    """{section title: {row label: [this year, last year, change, change %]}}."""
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheet programs read the Chinese names
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for i, row in enumerate(rows):
        if not row:
            current = None
        elif current is None and i + 1 < len(rows) and rows[i + 1][:1] == ["Item"]:
            current = sections.setdefault(row[0], {})
        elif current is not None and row[0] != "Item":
            current[row[0]] = row[1:]
    return sections


def test_csv_has_every_section_with_both_years(dataset):
    data = render(dataset.world.county, 2025, ReportFormat.CSV)
    head = data.decode("utf-8-sig").splitlines()[:4]
    assert head == ["RightsGuard yearly report", "Unit,西湖区分局 (330106)", "Year,2025", "Compared with,2024"]
    s = csv_sections(data)
    assert s["Key figures"]["Cases submitted"] == ["4", "3", "+1", "+33.3%"]
    assert s["Key figures"]["Officers killed"] == ["1", "0", "+1", ""]
    assert s["Key figures"]["Comfort payments (CNY)"] == ["5000.00", "2000.50", "+2999.50", "+149.9%"]
    assert s["Key figures"]["Median days from submission to closure"] == ["45.5", "30.0", "+15.5", "+51.7%"]
    assert s["Cases by month of submission"]["January"] == ["1", "1", "0", "0.0%"]
    assert s["Cases by incident type"]["Violent attack"] == ["1", "1", "0", "0.0%"]
    assert s["Cases by incident type"]["Doxxing"] == ["0", "1", "-1", "-100.0%"]
    assert s["Cases by sub-unit"] == {
        "西湖区分局 (330106) itself": ["1", "0", "+1", ""],
        "北山派出所 (330106001)": ["2", "2", "0", "0.0%"],
        "灵隐派出所 (330106002)": ["1", "1", "0", "0.0%"],
    }
    assert s["Suspects"]["Suspects per case"] == ["1.25", "1.00", "+0.25", "+25.0%"]
    assert s["Dispositions by ladder level"]["Convicted"] == ["1", "0", "+1", ""]
    assert s["Flags by kind"]["Stalled: still open"] == ["1", "0", "+1", ""]
    # Downgrades and review prompts apart (tests/reports/dataset.py): one downgrade, review prompts of C1, C2, C3
    # in 2025 and P3 in 2024; C1's and P3's resolved in 2025, C3's only in 2026.
    assert s["Key figures"]["Downgraded flags raised"] == ["1", "0", "+1", ""]
    assert s["Key figures"]["Review prompts raised"] == ["3", "1", "+2", "+200.0%"]
    assert s["Key figures"]["Review prompts resolved in the year"] == ["2", "0", "+2", ""]
    assert s["Flags by kind"]["Downgraded: raised"] == ["1", "0", "+1", ""]
    assert s["Flags by kind"]["Review prompt: raised"] == ["3", "1", "+2", "+200.0%"]
    assert s["Flags by kind"]["Review prompt: resolved"] == ["2", "1", "+1", "+100.0%"]
    assert s["Flags by kind"]["Review prompt: still open"] == ["1", "0", "+1", ""]
    assert s["Supervision findings"]["Rectified on time"] == ["1", "1", "0", "0.0%"]
    assert s["Look-back reviews"]["Deficient, reopened"] == ["1", "0", "+1", ""]
    assert s["Support measures delivered"]["Clarification notices issued"] == ["1", "0", "+1", ""]
    p90 = "Submission to first referral: 90th percentile, days"
    assert s["Handling time"][p90] == ["3.6", "10.0", "-6.4", "-64.0%"]


def test_csv_never_shows_the_sibling(dataset):
    text = render(dataset.world.province, 2025, ReportFormat.CSV).decode("utf-8-sig")
    assert "湖北" not in text
    assert "江岸" not in text
    assert csv_sections(text.encode("utf-8-sig"))["Key figures"]["Cases submitted"][:2] == ["5", "3"]


def test_xlsx_sheets_numbers_frozen_headers_and_charts(dataset):
    data = render(dataset.world.county, 2025, ReportFormat.XLSX)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "Summary"
    assert wb.sheetnames[-1] == "Charts"
    assert "Cases by incident type" in wb.sheetnames
    assert "Flags by kind" in wb.sheetnames
    flags = {row[0]: row[1:3] for row in wb["Flags by kind"].iter_rows(min_row=2, values_only=True)}
    assert (flags["Downgraded: raised"], flags["Review prompt: raised"]) == ((1, 0), (3, 1))
    assert (flags["Review prompt: resolved"], flags["Review prompt: still open"]) == ((2, 1), (1, 0))

    summary = wb["Summary"]
    assert summary["B2"].value == "西湖区分局 (330106)"
    assert summary["B3"].value == 2025
    assert summary.freeze_panes == "A8"
    figures = {row[0]: row[1:] for row in summary.iter_rows(min_row=8, values_only=True)}
    assert figures["Cases submitted"] == (4, 3, 1, pytest.approx(1 / 3))
    assert figures["Officers killed"] == (1, 0, 1, None)  # no percentage against nothing
    assert figures["Comfort payments (CNY)"] == (5000.0, 2000.5, 2999.5, pytest.approx(2999.5 / 2000.5))
    assert figures["Median days from submission to referral"] == (2.0, 10.0, -8.0, pytest.approx(-0.8))
    assert figures["Downgraded flags raised"] == (1, 0, 1, None)
    assert figures["Review prompts raised"] == (3, 1, 2, pytest.approx(2.0))
    assert figures["Review prompts resolved in the year"] == (2, 0, 2, None)

    kinds = wb["Cases by incident type"]
    assert kinds.freeze_panes == "B2"
    assert [c.value for c in kinds[1]] == ["Item", "2025", "2024", "Change", "Change (%)"]
    by_kind = {row[0]: row[1:3] for row in kinds.iter_rows(min_row=2, values_only=True)}
    assert by_kind["Armed attack"] == (1, 0)
    assert by_kind["Doxxing"] == (0, 1)
    assert all(isinstance(v, int) for pair in by_kind.values() for v in pair)
    assert len(by_kind) == len(IncidentKind.values)

    months = {row[0]: row[1:3] for row in wb["Cases by month of submission"].iter_rows(min_row=2, values_only=True)}
    assert sum(v[0] for v in months.values()) == 4
    assert sum(v[1] for v in months.values()) == 3

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 6
        chart = z.read("xl/charts/chart1.xml").decode()
        assert "'Cases by month of submission'!$B$2:$B$13" in chart


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_has_the_figures_and_a_footer_on_every_page(dataset):
    pages, text = pdf_text(render(dataset.world.county, 2025, ReportFormat.PDF))
    flat = " ".join(text.split())
    assert pages >= 3
    assert "Yearly report 2025" in flat
    assert "Cases submitted 4 3 +1 +33.3%" in flat
    assert "Comfort payments (CNY) 5,000.00 2,000.50 +2,999.50 +149.9%" in flat
    assert "Median days from submission to closure 45.5 30.0 +15.5 +51.7%" in flat
    assert "Stalled: still open 1 0 +1" in flat
    assert "Downgraded flags raised 1 0 +1" in flat
    assert "Review prompts raised 3 1 +2 +200.0%" in flat
    assert "Review prompts resolved in the year 2 0 +2" in flat
    assert "Review prompt: still open 1 0 +1" in flat
    assert flat.count("西湖区分局 (330106) · 2025") == pages  # the footer: unit and year
    assert f"Page 1 of {pages}" in flat
    assert f"Page {pages} of {pages}" in flat
    assert flat.count("Generated ") >= pages
    assert "湖北" not in flat


def test_pdf_in_chinese_embeds_a_cjk_font(dataset):
    data = render(dataset.world.county, 2025, ReportFormat.PDF, language="zh-hans")
    _pages, text = pdf_text(data)
    with translation.override("zh-hans"):
        violent = str(IncidentKind.VIOLENT_ATTACK.label)
    assert CJK.search(violent), "the Chinese catalogue is not compiled"
    assert violent in text  # extracted as characters, so the glyphs are in an embedded font with a Unicode map
    assert "北山派出所" in text
    assert any("WenQuanYi" in name for name in pdf_fonts(data))


def pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def test_xlsx_in_chinese(dataset):
    data = render(dataset.world.county, 2025, ReportFormat.XLSX, language="zh-hans")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    with translation.override("zh-hans"):
        armed = str(IncidentKind.ARMED_ATTACK.label)
    labels = {row[0] for ws in wb.worksheets for row in ws.iter_rows(values_only=True) if row}
    assert armed in labels


def detail(unit, year: int, language: str = "en") -> list[list[str]]:
    with translation.override(language):
        data = b"".join(stream_detail_csv(unit=unit, year=year))
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_detail_csv_one_row_per_case_of_the_year(dataset):
    rows = detail(dataset.world.county, 2025)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Reference", "Submitted", "Occurred"]
    c = dataset.cases
    assert [r[0] for r in body] == [c[k].reference for k in ("C1", "C2", "C6", "C3")]  # by submission time
    c1 = dict(zip(header, body[0], strict=True))
    assert c1 == {
        **c1,
        "Submitted": "2025-01-01 00:30",
        "Unit code": "330106001",
        "Incident type": "Violent attack",
        "Status": "Closed",
        "Officers involved": "2",
        "Auxiliary officers": "1",
        "Worst injury": "Minor injury, grade 2",
        "Suspects": "2",
        "Identified suspects": "1",
        "Highest disposition": "Convicted: assaulting police (CL 277(5))",
        "First referred": "2025-01-03 00:30",
        "Closed": "2025-03-01 00:30",
        "Support measures delivered": "2",
        "Comfort payments (CNY)": "5000.00",
    }
    c2 = dict(zip(header, body[1], strict=True))
    assert (c2["Stalled"], c2["First referred"], c2["Comfort payments (CNY)"]) == ("0", "2025-03-19 10:00", "")


def test_detail_csv_carries_no_personal_data_and_no_sibling(dataset):
    text = "\n".join(",".join(r) for r in detail(dataset.world.ministry, 2025))
    for secret in ("张三", "李四", "辅警甲", "杭州市西湖区", "执法时遭到侵害"):
        assert secret not in text
    assert dataset.cases["S1"].reference in text
    county = "\n".join(",".join(r) for r in detail(dataset.world.county, 2025))
    assert dataset.cases["S1"].reference not in county
    assert dataset.cases["draft"].reference not in county
    assert dataset.cases["withdrawn_draft"].reference not in county


@pytest.mark.parametrize("fmt", [ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF, ReportFormat.DETAIL])
def test_every_format_renders_an_empty_year(dataset, fmt):
    assert render(dataset.world.county, 2016, fmt)


def test_pdf_charts_are_text_in_the_document_fonts(dataset):
    """The charts are drawn by the PDF renderer: their labels and figures are text of the page (searchable, in the
    embedded CJK font), not pictures of text."""
    data = render(dataset.world.county, 2025, ReportFormat.PDF, language="zh-hans")
    _pages, text = pdf_text(data)
    with translation.override("zh-hans"):
        march = formats.date_format(date(2000, 3, 1), "F")
        armed = str(IncidentKind.ARMED_ATTACK.label)
    assert march == "三月"
    # Once in the monthly table, once under the line chart.
    assert "".join(text.split()).count(march) == 2
    # The incident-type chart's bar row: the label and both years' figures, after the table's row.
    flat = " ".join(text.split())
    assert flat.count(f"{armed} 1 0") == 2
    assert pdf_images(data) == 0
    # One face of the CJK font: no synthesised bold copy of it.
    assert {name.split("+", 1)[1] for name in pdf_fonts(data)} == {"WenQuanYi-Micro-Hei"}


def pdf_images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)
