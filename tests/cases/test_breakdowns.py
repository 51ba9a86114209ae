"""Counts by sub-unit, month and dimension for the analysis (cases/breakdowns.py): exact on a small hand-built set,
and the three ways of counting — the summaries, live SQL, live Python — agree."""

from collections import Counter
from datetime import date

import pytest

from cases import breakdowns
from cases.choices import IncidentKind, InjuryGrade, OfficerType
from cases.models import InvolvedOfficer
from tests.analysis.dataset import analysis_dataset

PROVINCE, SIBLING = "/000000/330000/", "/000000/420000/"
CITY = "/000000/330000/330100/"
COUNTY = CITY + "330106/"
STATION, OTHER = COUNTY + "330106001/", COUNTY + "330106002/"
VIOLENT, THREAT = IncidentKind.VIOLENT_ATTACK.value, IncidentKind.THREAT.value


@pytest.fixture
def dataset(world):
    return analysis_dataset(world)


MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)


def test_a_county_counts_its_stations_cases_by_month_and_dimension(world, dataset):
    got = breakdowns.breakdown(unit=world.county, start=MARCH, end=date(2025, 5, 1), dims=breakdowns.ALL_DIMENSIONS)
    cases = got.cases
    assert cases[(STATION, MARCH, "kind", VIOLENT)] == 1
    assert cases[(STATION, APRIL, "kind", THREAT)] == 1
    assert cases[(OTHER, APRIL, "kind", VIOLENT)] == 1
    assert cases[(STATION, MARCH, "scenario", f"{VIOLENT}:call_110")] == 1
    assert cases[(STATION, APRIL, "scenario", f"{THREAT}:")] == 1
    assert cases[(STATION, MARCH, "place", "road")] == 1
    assert cases[(OTHER, APRIL, "place", "hospital")] == 1
    assert cases[(STATION, MARCH, "weekhour", "7:22")] == 1
    assert cases[(STATION, APRIL, "weekhour", "2:0")] == 1
    assert cases[(OTHER, APRIL, "weekhour", "5:14")] == 1
    assert cases[(STATION, MARCH, "intox", "yes")] == 1
    assert cases[(STATION, MARCH, "crowd", "few")] == 1
    assert cases[(OTHER, APRIL, "crowd", "organised")] == 1
    assert cases[(STATION, APRIL, "crowd", "")] == 1
    # Each case once per dimension; the draft and the sibling province's case nowhere.
    per_dimension = Counter()
    for (_child, _month, dimension, _code), n in cases.items():
        per_dimension[dimension] += n
    assert per_dimension == dict.fromkeys(breakdowns.ALL_DIMENSIONS, 3)
    # The officers as stored: each filer, listed when the case was filed, and S1's auxiliary with a minor injury.
    stored = Counter(
        (STATION if o.case.unit_path == STATION else OTHER, o.officer_type, o.injury)
        for o in InvolvedOfficer.objects.filter(case__in=dataset[:3]).select_related("case")
    )
    officers: Counter = Counter()
    for (child, _month, officer_type, injury), n in got.officers.items():
        officers[(child, officer_type, injury)] += n
    assert (
        officers
        == stored
        == {
            (STATION, OfficerType.REGULAR.value, InjuryGrade.NONE.value): 2,
            (STATION, OfficerType.AUXILIARY.value, InjuryGrade.MINOR_2.value): 1,
            (OTHER, OfficerType.REGULAR.value, InjuryGrade.NONE.value): 1,
        }
    )


def test_a_window_keeps_to_its_months(world, dataset):
    got = breakdowns.breakdown(unit=world.county, start=APRIL, end=date(2025, 5, 1), dims=["status"])
    assert sum(got.cases.values()) == 2
    assert {k[1] for k in got.cases} == {APRIL}
    assert breakdowns.breakdown(unit=world.county, start=date(2025, 5, 1), end=date(2025, 6, 1), dims=["status"]) == (
        breakdowns.Breakdown(Counter(), Counter())
    )


def test_the_ministry_and_a_province_break_down_by_their_direct_sub_units(world, dataset):
    ministry = breakdowns.breakdown(unit=world.ministry, start=MARCH, end=date(2025, 5, 1), dims=["kind"])
    assert +ministry.cases == Counter(
        {
            (PROVINCE, MARCH, "kind", VIOLENT): 1,
            (PROVINCE, APRIL, "kind", THREAT): 1,
            (PROVINCE, APRIL, "kind", VIOLENT): 1,
            (SIBLING, APRIL, "kind", THREAT): 1,
        }
    )
    province = breakdowns.breakdown(unit=world.province, start=MARCH, end=date(2025, 5, 1), dims=["kind"])
    assert {k[0] for k in province.cases} == {CITY}
    assert sum(province.cases.values()) == 3


@pytest.mark.parametrize("unit", ["ministry", "province", "city", "county", "station"])
def test_the_summaries_live_sql_and_live_python_agree(world, dataset, postgres_only, unit):
    org = getattr(world, unit)
    args = (org, date(2025, 1, 1), date(2026, 1, 1), list(breakdowns.ALL_DIMENSIONS))
    live = breakdowns._live_sql(*args)
    python = breakdowns._live_python(*args)
    assert +live.cases == +python.cases
    assert +live.officers == +python.officers
    assert sum(live.cases.values()) > 0
    if org.depth < 2:
        summaries = breakdowns._from_summaries(*args)
        assert +summaries.cases == +live.cases
        assert +summaries.officers == +live.officers


def test_an_unknown_dimension_is_refused(world):
    with pytest.raises(ValueError, match="unknown dimensions"):
        breakdowns.breakdown(unit=world.county, start=MARCH, end=APRIL, dims=["kind", "colour"])
