"""How the cases were handled, by sub-unit (cases/breakdowns.py ``handling``, analysis/figures.py), on the reports'
hand-built dataset (tests/reports/dataset.py): exact for the county, and the summaries agree with the cases."""

from collections import Counter

import pytest

from analysis import figures
from cases import breakdowns
from cases.models import Flag, FlagOverride

STATION = "/000000/330000/330100/330106/330106001/"
OTHER = "/000000/330000/330100/330106/330106002/"


def test_the_countys_handling_in_2025(dataset):
    w = dataset.world
    h = breakdowns.handling(unit=w.county, year=2025)
    # First referrals in 2025: C1 (submitted 1 January 00:30, referred 3 January 00:30: 2 days) and P1 (submitted
    # 31 December 2024 23:59, referred 2 January 23:59: 2 days) at the station; C2 (15 → 19 March: 4 days).
    assert h.referral_days == {STATION: Counter({2: 2}), OTHER: Counter({4: 1})}
    # C2's downgraded flag (raised in May); C1's and C3's flags are review prompts and others.
    assert h.downgraded == Counter({OTHER: 1})
    assert h.overridden == Counter()
    # The 2025 campaign's look-back reviews: C1 twice (deficient, reopened, then upheld) and P1 (upheld).
    assert h.verdicts == {STATION: Counter({"upheld": 2, "deficient": 1})}
    a = figures.analyse(unit=w.county, year=2025)
    rows = {r.unit.code: r for r in a.handling}
    station, other, total = rows[w.station.code], rows[w.other_station.code], a.handling_total
    assert (station.referred, station.median_days_to_referral, station.downgraded, station.reviews) == (2, 2, 0, 3)
    assert (other.referred, other.median_days_to_referral, other.downgraded, other.downgraded_share) == (1, 4, 1, 100.0)
    # The county's 2025 cases: C1, C6 at the station, C2 at the other station, C3 at the county itself.
    assert rows[w.county.code].own
    assert (total.cases, total.referred, total.median_days_to_referral, total.downgraded) == (4, 3, 2, 1)
    assert total.downgraded_share == 25.0


def test_an_override_counts_in_its_year(dataset):
    w = dataset.world
    flag = Flag.objects.get(case=dataset.cases["C2"], kind="downgraded")
    FlagOverride.objects.create(
        flag=flag, action="keep", reason="other", explanation="维持原处理", by=w.supervisor, at="2025-06-01T02:00:00Z"
    )
    assert breakdowns.handling(unit=w.county, year=2025).overridden == Counter({OTHER: 1})
    assert breakdowns.handling(unit=w.county, year=2024).overridden == Counter()


@pytest.mark.parametrize("unit", ["ministry", "province"])
def test_the_summaries_give_what_the_cases_give(dataset, postgres_only, monkeypatch, unit):
    org = getattr(dataset.world, unit)
    for year in (2024, 2025):
        from_summaries = breakdowns.handling(unit=org, year=year)
        monkeypatch.setattr(breakdowns, "reads_summaries", lambda _unit: False)
        live = breakdowns.handling(unit=org, year=year)
        monkeypatch.undo()
        assert from_summaries == live
        assert sum(sum(c.values()) for c in live.referral_days.values()) > 0


@pytest.mark.parametrize("unit", ["ministry", "county", "station"])
def test_the_referrals_in_sql_and_in_python_agree(dataset, postgres_only, unit):
    org = getattr(dataset.world, unit)
    for year in (2024, 2025):
        start, end = breakdowns._year_window(year)
        assert breakdowns._referrals_sql(org, start, end) == breakdowns._referrals_python(org, start, end)
    assert breakdowns._referrals_sql(org, *breakdowns._year_window(2025)) != {}
