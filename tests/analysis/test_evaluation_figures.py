"""The figures of the case analysis and evaluation report (analysis/evaluation.py), exactly, on the hand-built dataset
of tests/analysis/evaluation_dataset.py: a quarter and a year against the same period of 2024, the top duty scenarios
and places, the repeat attackers (masked) and the warnings; and what each reader is told of them."""

import pytest

from accounts.selectors import actor_for
from analysis import evaluation
from analysis.choices import WarningKind
from analysis.evaluation import Period
from tests.analysis.evaluation_dataset import evaluation_dataset


@pytest.fixture
def data(world):
    return evaluation_dataset(world)


def test_periods_are_whole_local_months():
    q2 = Period(2025, 2)
    assert (q2.start.isoformat(), q2.end.isoformat(), q2.last_day.isoformat()) == (
        "2025-04-01",
        "2025-07-01",
        "2025-06-30",
    )
    assert [m.month for m in q2.months] == [4, 5, 6]
    assert (Period(2025, 4).end.isoformat(), Period(2025).end.isoformat()) == ("2026-01-01", "2026-01-01")
    assert Period(2025, 2).previous() == Period(2024, 2)
    start, end = Period(2025, 1).bounds()
    assert (start.isoformat(), end.isoformat()) == ("2025-01-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00")


def test_the_quarter_against_the_same_quarter_a_year_earlier(world, data):
    f = evaluation.compute(unit=world.county, year=2025, quarter=2)
    assert (f["year"], f["quarter"], f["unit"]["code"]) == (2025, 2, "330106")
    assert f["cases"] == {"current": 5, "previous": 1}
    assert f["injured"] == {"current": 1, "previous": 1}
    assert f["officers"] == {"current": 200, "previous": 100}
    assert f["months"] == [
        {"month": 4, "cases": 2, "previous": 0},
        {"month": 5, "cases": 1, "previous": 1},
        {"month": 6, "cases": 2, "previous": 0},
    ]
    assert f["scenarios"] == {
        "top": [{"code": "call_110", "cases": 3}, {"code": "patrol", "cases": 1}],
        "other": 0,
        "not_recorded": 1,
        "total": 5,
    }
    assert f["places"] == {
        "top": [{"code": "road", "cases": 2}, {"code": "residential", "cases": 1}],
        "other": 0,
        "not_recorded": 2,
        "total": 5,
    }
    # The earlier cases of the same subtree only: the sibling province's case with ID N1 is not counted. The names are
    # masked before they are kept, as case documents write them: "张三丰" as "张某", "Li Sisi" by its initials.
    assert f["repeat_attackers"] == [
        {"case": data.a1.pk, "reference": data.a1.reference, "suspect": "张某", "earlier": 2},
        {"case": data.a3.pk, "reference": data.a3.reference, "suspect": "L. S.", "earlier": 1},
    ]
    assert [(w["id"], w["kind"], w["acknowledged"], w["resolved"]) for w in f["warnings"]] == [
        (data.unit_rise.pk, WarningKind.UNIT_RISE, True, False),
        (data.repeat.pk, WarningKind.REPEAT_ATTACKER, False, False),
    ]
    kept = str(f)
    assert "张三丰" not in kept
    assert "Sisi" not in kept
    assert data.a1.suspects.get().id_number not in kept


def test_the_year_and_its_rates(world, data):
    f = evaluation.compute(unit=world.county, year=2025, quarter=0)
    assert f["cases"] == {"current": 7, "previous": 2}
    assert f["injured"] == {"current": 1, "previous": 1}
    assert [m["cases"] for m in f["months"]] == [0, 1, 0, 2, 1, 2, 0, 1, 0, 0, 0, 0]
    assert [m["previous"] for m in f["months"]] == [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert f["scenarios"]["top"] == [
        {"code": "call_110", "cases": 3},
        {"code": "dispute", "cases": 1},
        {"code": "patrol", "cases": 1},
    ]
    assert (f["scenarios"]["not_recorded"], f["places"]["not_recorded"]) == (2, 3)
    assert [(r["case"], r["suspect"], r["earlier"]) for r in f["repeat_attackers"]] == [
        (data.z1.pk, "张某", 1),
        (data.a1.pk, "张某", 2),
        (data.a3.pk, "L. S.", 1),
    ]
    assert [w["id"] for w in f["warnings"]] == [data.unit_rise.pk, data.repeat.pk, data.summer.pk]


def test_the_top_five_keep_the_rest_apart(world, data):
    from tests.analysis.dataset import at, filed

    for day, scenario in enumerate(["traffic", "arrest", "investigation", "event_security", "eviction"], start=1):
        filed(
            world,
            world.station,
            world.officer,
            at(2025, 5, day + 10),
            occurred=at(2025, 5, day),
            duty_scenario=scenario,
        )
    f = evaluation.compute(unit=world.county, year=2025, quarter=2)
    # call_110 3, patrol 1, then the five of one each: ties in the choices' order, eviction and patrol past the top.
    assert f["scenarios"] == {
        "top": [
            {"code": "call_110", "cases": 3},
            {"code": "traffic", "cases": 1},
            {"code": "arrest", "cases": 1},
            {"code": "investigation", "cases": 1},
            {"code": "event_security", "cases": 1},
        ],
        "other": 2,
        "not_recorded": 1,
        "total": 10,
    }


def test_a_supervisor_of_the_unit_is_told_of_every_suspect_and_warning(world, data):
    f = evaluation.compute(unit=world.county, year=2025, quarter=2)
    reading = evaluation.read(f, actor_for(world.county_supervisor), world.county)
    assert [r["case"] for r in reading.repeat_rows] == [data.a1.pk, data.a3.pk]
    assert (reading.repeat_cases, reading.repeat_suspects, reading.repeat_listed) == (2, 2, True)
    assert [w["id"] for w in reading.warnings] == [data.unit_rise.pk, data.repeat.pk]
    assert reading.warnings_hidden == 0


def test_an_administrator_is_told_the_counts_only(world, data):
    """The administrator of the province reads the report, not a suspect's earlier cases (their ID numbers), nor the
    warning about them, which they could not open."""
    f = evaluation.compute(unit=world.county, year=2025, quarter=2)
    reading = evaluation.read(f, actor_for(world.admin), world.county)
    assert (reading.repeat_rows, reading.repeat_cases, reading.repeat_suspects) == ((), 2, 2)
    assert reading.repeat_listed is False
    assert [w["id"] for w in reading.warnings] == [data.unit_rise.pk]
    assert reading.warnings_hidden == 1
