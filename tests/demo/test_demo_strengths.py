"""``seed_demo`` records the officer strength of the demo's counties and stations (demo/strengths.py), so the
analysis of the demo shows rates per 100 officers: for every year its cases fall in, consistent up the tree, the
same on every seeding, and left alone by a rerun."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import OrgLevel, OrgUnit, User
from analysis import figures
from analysis.models import OfficerStrength
from analysis.services import record_officer_strength, strength_errors
from cases.models import Case
from demo.organisation import ORG_TREE
from tests.analysis.test_analysis_page import cells

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SH = ZoneInfo("Asia/Shanghai")
# Synthetic cases go back five years of 365 days from NOW: to 2021-06-02.
YEARS = range(2021, 2027)
COUNTIES = [s.code for s in ORG_TREE if s.level == OrgLevel.COUNTY]
STATIONS = {c: [s.code for s in ORG_TREE if s.parent == c] for c in COUNTIES}


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def recorded() -> dict[tuple[str, int], tuple[int, int]]:
    return {
        (code, year): (regular, auxiliary)
        for code, year, regular, auxiliary in OfficerStrength.objects.values_list(
            "unit__code", "year", "regular", "auxiliary"
        )
    }


def test_every_county_and_station_has_a_strength_for_every_year_of_the_cases(fixed_now):
    output = seed("--cases", "300", "--batch-size", "100")

    assert "Officer strengths of the counties and stations: 192 recorded, 0 already present." in output
    assert len(COUNTIES) == 8
    assert sum(len(s) for s in STATIONS.values()) == 24
    strengths = recorded()
    assert set(strengths) == {(code, y) for c in COUNTIES for code in (c, *STATIONS[c]) for y in YEARS}
    # The cities, provinces and the ministry sum their counties: no record of their own.
    assert not OfficerStrength.objects.exclude(unit__level__in=[OrgLevel.COUNTY, OrgLevel.STATION]).exists()
    assert not OfficerStrength.objects.exclude(recorded_by=None).exists()

    # Every submitted case, demo or synthetic, falls in a year its county has a figure for.
    counties = {u.path: u.code for u in OrgUnit.objects.filter(level=OrgLevel.COUNTY)}
    submitted = Case.objects.exclude(submitted_at=None).values_list("unit_path", "submitted_at")
    assert submitted.count() > 300
    for path, at in submitted:
        county = next(code for p, code in counties.items() if path.startswith(p))
        assert (county, at.astimezone(SH).year) in strengths, (path, at)

    for county in COUNTIES:
        for year in YEARS:
            stations = [strengths[(s, year)] for s in STATIONS[county]]
            for regular, auxiliary in stations:
                assert 30 <= regular <= 80
                assert 20 <= auxiliary <= 60
            regular, auxiliary = strengths[(county, year)]
            # The county counts its stations and its own headquarters and brigades (80-320 + 40-260 officers).
            assert 80 <= regular - sum(r for r, _a in stations) <= 320
            assert 40 <= auxiliary - sum(a for _r, a in stations) <= 260
            assert strength_errors(year=year, regular=regular, auxiliary=auxiliary) == {}


def test_a_rerun_records_nothing_and_keeps_an_administrators_correction(fixed_now):
    seed("--no-demo")  # the benchmarks' seeding: the tree, and its strengths, without the demo cases
    assert OfficerStrength.objects.count() == 192
    admin = User.objects.get(username="admin")
    station = OrgUnit.objects.get(code="330106001")
    record_officer_strength(unit=station, year=2025, regular=77, auxiliary=41, by=admin)
    before = recorded()

    output = seed("--no-demo")

    assert "Officer strengths of the counties and stations: 0 recorded, 192 already present." in output
    assert recorded() == before
    assert before[("330106001", 2025)] == (77, 41)
    assert OfficerStrength.objects.get(unit=station, year=2025).recorded_by == admin


def test_the_figures_are_the_same_on_every_seeding_and_a_deleted_one_comes_back_alike(fixed_now):
    seed("--no-demo")
    first = recorded()
    OfficerStrength.objects.filter(unit__code__in=["420526", "420526002"], year=2023).delete()
    assert OfficerStrength.objects.count() == 190

    output = seed("--no-demo")

    assert "2 recorded, 190 already present." in output
    assert recorded() == first
    OfficerStrength.objects.all().delete()
    seed("--no-demo")
    assert recorded() == first
    # Figures no seeding can change without this test noticing.
    assert first[("330106001", 2026)] == (66, 39)
    assert first[("330106", 2026)] == (311, 204)


def test_the_demo_analysis_shows_rates_per_100_officers(client, fixed_now):
    seed()
    strengths = recorded()
    city = OrgUnit.objects.get(code="330100")
    a = figures.analyse(unit=city, year=2026)
    rows = {r.unit.code: r for r in a.rows if not r.own}
    assert set(rows) == {"330106", "330102"}
    for code, row in rows.items():
        assert row.strength == figures.Strength(*strengths[(code, 2026)])
        assert row.cases > 0
        assert row.cases_per_100 == round(row.cases * 100 / sum(strengths[(code, 2026)]), 2)
    total = sum(sum(strengths[(code, 2026)]) for code in rows)
    assert a.total.strength is not None
    assert a.total.strength.total == total
    assert a.total.cases_per_100 == round(a.total.cases * 100 / total, 2)

    client.force_login(User.objects.get(username="supervisor"))
    body = client.get("/analysis/", {"unit": "330100", "year": 2026}).content.decode()
    units = cells(body, "units")
    xihu = units["Xihu District Branch (330106)"]  # in English, by the English name
    assert xihu[0] == str(rows["330106"].cases)
    assert xihu[5:7] == [str(sum(strengths[("330106", 2026)])), f"{rows['330106'].cases_per_100:.2f}"]
    assert units["Total"][5] == f"{total:,}"  # 1,082: grouped by thousands in English
