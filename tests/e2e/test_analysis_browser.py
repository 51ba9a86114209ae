"""The analysis page in the browser, in English and in Simplified Chinese, as the city supervisor: the unit and year
picked with the picker (it submits itself), the exact figures of a small hand-built set in the sub-unit and monthly
tables and in the charts, a figure followed to the queue that lists exactly the cases it counts and back, and the
workbook downloaded after the password."""

import io
import re

import openpyxl
import pytest
from django.utils import translation
from django.utils.dates import MONTHS
from playwright.sync_api import ConsoleMessage, Page, expect

from analysis.services import record_officer_strength
from cases.choices import AccessAction
from cases.models import AccessLog, Case
from tests.analysis.dataset import analysis_dataset, at, filed
from tests.e2e.test_silent_failures import log_in
from tests.factories import PASSWORD
from tests.oversight.conftest import Camp, build_camp

pytestmark = pytest.mark.django_db(transaction=True)

REFERENCE = re.compile(r"RG-\d{4}-\d{6}")
CHARTS = ("months", "years", "rates")

# The page's words, written out (the Chinese from locale/zh_Hans/LC_MESSAGES/django.po and Django's month names): a
# heading left in English on the Chinese page fails here, where a test asking the catalogue would agree with it.
WORDS = {
    "en": {
        "heading": "Analysis of cases",
        "months_title": "Cases by month of submission",
        "units_title": "Cases and officers injured per 100 officers, by sub-unit",
        "unit": "Unit",
        "month": "Month",
        "year": "Year",
        "total": "Total",
        "change": "Change (%)",
        "injured": "Officers injured {year}",
        "strength": "Officer strength {year}",
        "per_100": "Cases per 100 officers",
        "injured_per_100": "Officers injured per 100 officers",
        "cases_kpi": "Cases {year}",
        "injured_kpi": "Officers injured {year}",
        "xlsx": "Download every table (XLSX)",
        "march": "March",
    },
    "zh-hans": {
        "heading": "案件分析",
        "months_title": "按提交月份统计的案件",
        "units_title": "各下级单位每百名警力案件数与受伤民警数",
        "unit": "单位",
        "month": "月份",
        "year": "年度",
        "total": "合计",
        "change": "变化（%）",
        "injured": "{year}年受伤民警",
        "strength": "{year}年警力",
        "per_100": "每百名警力案件数",
        "injured_per_100": "每百名警力受伤民警数",
        "cases_kpi": "{year}年案件",
        "injured_kpi": "{year}年受伤民警",
        "xlsx": "下载全部表格（XLSX）",
        "march": "三月",
    },
}


@pytest.fixture
def hangzhou(transactional_db) -> tuple[Camp, dict[str, Case]]:
    """tests/analysis/dataset.py's cases (S1, S2 at the west county's first station, O1 at its other station, X1 in
    the sibling province, a draft), and beside them E1 at the east county's station (submitted 2025-05-10) and L1 at
    the west's first station the year before (2024-03-15). Strength 2025: the west county 40 + 10 and its first
    station 20 + 5; in the east only its station, 20 + 4, which the east county's figure sums."""
    camp = build_camp()
    world = camp.world
    s1, s2, o1, x1 = analysis_dataset(world)
    e1 = filed(world, camp.east_station, camp.east_officer, at(2025, 5, 10), occurred=at(2025, 5, 9, 20))
    l1 = filed(world, world.station, world.officer, at(2024, 3, 15), occurred=at(2024, 3, 14, 16))
    for unit, regular, auxiliary in ((world.county, 40, 10), (world.station, 20, 5), (camp.east_station, 20, 4)):
        record_officer_strength(unit=unit, year=2025, regular=regular, auxiliary=auxiliary, by=world.admin)
    return camp, {"S1": s1, "S2": s2, "O1": o1, "X1": x1, "E1": e1, "L1": l1}


def grid(page: Page, key: str) -> tuple[list[str], dict[str, list[str]]]:
    """A table as the reader sees it: its headings, and each row's cells by the row's heading."""
    table = page.locator(f"#grid-{key}")
    expect(table).to_be_visible()
    headings = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = {}
    for row in table.locator("tbody tr").all():
        rows[row.locator("th").inner_text().strip()] = [c.strip() for c in row.locator("td").all_inner_texts()]
    return headings, rows


def chart(page: Page, key: str) -> dict:
    """What Chart.js drew on a canvas: its labels and each series' name and values (None when nothing was drawn)."""
    return page.evaluate(
        """key => {
            const canvas = document.getElementById("chart-" + key);
            const chart = canvas && window.Chart && window.Chart.getChart(canvas);
            if (!chart) { return null; }
            return {
                width: canvas.width,
                height: canvas.height,
                labels: chart.data.labels,
                series: chart.data.datasets.map(d => [d.label, d.data]),
            };
        }""",
        key,
    )


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_city_analysis_from_the_picker_to_the_queue_and_the_workbook(
    page: Page, live_server, hangzhou, lang, shoot
):
    camp, cases = hangzhou
    world, words = camp.world, WORDS[lang]
    base = live_server.url
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, base, "supervisor", lang)

    # The page opens on the reader's highest unit and this year; the year picked submits the picker by itself.
    page.goto(f"{base}/analysis/")
    expect(page.locator("#analysis-unit-picker")).to_have_value(world.city.code)
    page.locator("#analysis-year").select_option("2025")
    expect(page).to_have_url(f"{base}/analysis/?unit={world.city.code}&year=2025")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{words['heading']} 2025")
    expect(page.locator("#analysis-unit-picker")).to_have_value(world.city.code)
    expect(page.locator("#analysis-year")).to_have_value("2025")

    # Sub-units: the west county with its own record (50 officers), the east summed from its station (24).
    west, east = f"{world.county.name} ({world.county.code})", f"{camp.east.name} ({camp.east.code})"
    expect(page.locator("#grid-heading-units")).to_have_text(words["units_title"])
    headings, units = grid(page, "units")
    assert headings == [
        words["unit"],
        "2025",
        "2024",
        words["change"],
        words["injured"].format(year=2025),
        words["injured"].format(year=2024),
        words["strength"].format(year=2025),
        words["per_100"],
        words["injured_per_100"],
    ]
    assert units == {
        # cases, last year, change, injured, injured last year, strength, cases and injured per 100 officers
        west: ["3", "1", "200.0", "1", "0", "50", "6.00", "2.00"],
        east: ["1", "0", "", "0", "0", "24", "4.17", "0.00"],
        words["total"]: ["4", "1", "300.0", "1", "0", "74", "5.41", "1.35"],
    }

    # Months: S1 in March (L1 the March before), S2 and O1 in April, E1 in May.
    expect(page.locator("#grid-heading-months")).to_have_text(words["months_title"])
    headings, months = grid(page, "months")
    assert headings == [words["month"], "2025", "2024", words["change"]]
    with translation.override(lang):
        names = [str(MONTHS[m]) for m in range(1, 13)]
    assert names[2] == words["march"]
    now = {3: 1, 4: 2, 5: 1}
    assert months == {
        **{names[m - 1]: [str(now.get(m, 0)), "1" if m == 3 else "0", "0.0" if m == 3 else ""] for m in range(1, 13)},
        words["year"]: ["4", "1", "300.0"],
    }
    cards = {
        c.locator(".small").inner_text().strip(): c.locator(".fs-3").inner_text().strip()
        for c in page.locator(".kpi").all()
    }
    assert cards == {
        words["cases_kpi"].format(year=2025): "4",
        words["cases_kpi"].format(year=2024): "1",
        words["injured_kpi"].format(year=2025): "1",
        words["per_100"]: "5.41",
    }

    # The charts are drawn from the page's JSON by the script file (no inline script: the CSP fixture watches).
    drawn = {key: chart(page, key) for key in CHARTS}
    assert all(d is not None and d["width"] > 0 and d["height"] > 0 for d in drawn.values()), drawn
    assert drawn["months"]["labels"] == [str(m) for m in range(1, 13)]
    assert drawn["months"]["series"] == [
        ["2025", [0, 0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0]],
        ["2024", [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ]
    assert drawn["years"]["labels"] == ["2021", "2022", "2023", "2024", "2025"]
    assert [values for _name, values in drawn["years"]["series"]] == [[0, 0, 0, 1, 4], [0, 0, 0, 0, 1]]
    assert drawn["rates"]["labels"] == [west, east]
    assert drawn["rates"]["series"] == [["2025", [6, 4.17]]]
    shoot(page, f"analysis-01-city-2025-{lang}")

    # The west county's cases of 2025 lead to the queue of exactly those three cases; back to the same figures.
    page.locator("#grid-units tbody tr").filter(has_text=west).locator("td").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/queue/\?.*submitted=2025"))
    rows = page.locator("#queue-rows tr")
    expect(rows).to_have_count(3)
    assert set(REFERENCE.findall(" ".join(rows.all_inner_texts()))) == {
        cases["S1"].reference,
        cases["S2"].reference,
        cases["O1"].reference,
    }
    shoot(page, f"analysis-02-queue-{lang}")
    page.go_back()
    expect(page).to_have_url(f"{base}/analysis/?unit={world.city.code}&year=2025")
    assert grid(page, "units")[1] == units

    # The unit picked: the west county, whose sub-units are its stations (the other one recorded nothing: no rate).
    page.locator("#analysis-unit-picker").select_option(world.county.code)
    expect(page).to_have_url(f"{base}/analysis/?unit={world.county.code}&year=2025")
    expect(page.locator("#analysis-year")).to_have_value("2025")
    assert grid(page, "units")[1] == {
        f"{world.station.name} ({world.station.code})": ["2", "1", "100.0", "1", "0", "25", "8.00", "4.00"],
        f"{world.other_station.name} ({world.other_station.code})": ["1", "0", "", "0", "0", "", "", ""],
        words["total"]: ["3", "1", "200.0", "1", "0", "50", "6.00", "2.00"],
    }
    assert chart(page, "rates")["series"] == [["2025", [8]]]

    # The workbook: the password first; back on the page, the download asked for goes ahead by itself.
    link = page.locator("#analysis-downloads").get_by_role("link", name=words["xlsx"], exact=True)
    link.click()
    expect(page).to_have_url(re.compile(r"/accounts/reauth/\?next="))
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_download() as download:
        page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{base}/analysis/?unit={world.county.code}&year=2025")
    assert download.value.suggested_filename == f"rightsguard-analysis-{world.county.code}-2025.xlsx"
    raw = download.value.path().read_bytes()
    assert raw[:2] == b"PK"
    workbook = openpyxl.load_workbook(io.BytesIO(raw))
    sheet = next(ws for ws in workbook.worksheets if ws["A1"].value == words["units_title"])
    found = {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}
    assert found[f"{world.station.name} ({world.station.code})"][:8] == (2, 1, 100.0, 1, 0, 25, 8.0, 4.0)
    assert found[words["total"]][:8] == (3, 1, 200.0, 1, 0, 50, 6.0, 2.0)
    exports = AccessLog.objects.filter(action=AccessAction.EXPORT)
    assert [(e.user.username, e.object_ref) for e in exports] == [
        ("supervisor", f"analysis unit={world.county.code} year=2025 format=xlsx table=all lang={lang}")
    ]
    assert errors == []


# --- defects found, fixed ----------------------------------------------------------------------------------------


def test_the_rates_chart_has_an_axis_to_read_rates_below_one_by(page: Page, live_server, hangzhou):
    camp, _cases = hangzhou
    world = camp.world
    # The west county's three cases against 700 officers (0.43 per 100), the east's one against 500 (0.20).
    record_officer_strength(unit=world.county, year=2025, regular=400, auxiliary=300, by=world.admin)
    record_officer_strength(unit=camp.east_station, year=2025, regular=300, auxiliary=200, by=world.admin)
    log_in(page, live_server.url, "supervisor", "en")
    page.goto(f"{live_server.url}/analysis/?unit={world.city.code}&year=2025")
    west = f"{world.county.name} ({world.county.code})"
    east = f"{camp.east.name} ({camp.east.code})"
    units = grid(page, "units")[1]
    assert (units[west][6], units[east][6]) == ("0.43", "0.20")
    ticks = page.evaluate(
        """() => window.Chart.getChart(document.getElementById("chart-rates")).scales.x.ticks.map(t => t.value)"""
    )
    assert any(0 < t < 1 for t in ticks), ticks


def test_the_workbook_downloads_right_after_the_password(page: Page, live_server, hangzhou):
    camp, _cases = hangzhou
    log_in(page, live_server.url, "supervisor", "en")
    page.goto(f"{live_server.url}/analysis/?unit={camp.world.city.code}&year=2025")
    page.locator("#analysis-downloads").get_by_role("link", name=WORDS["en"]["xlsx"], exact=True).click()
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_download(timeout=5000) as download:
        page.locator("main button[type=submit]").click()
    assert download.value.path().read_bytes()[:2] == b"PK"
