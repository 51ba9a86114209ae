"""The ministry's and provinces' reports add up the report summaries (cases/summaries.py); they must equal the live
computation figure by figure: on the hand-built two-year dataset, and on random populations told through the
services (PostgreSQL, as CI runs it: the summaries are read there only)."""

import threading
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services, summaries
from cases.choices import (
    Channel,
    Disposition,
    IncidentKind,
    InjuryGrade,
    NoSuspectReason,
    OfficerType,
    SuspectStatus,
    Track,
)
from cases.models import SpreadMeasure
from cases.reports import yearly
from cases.reports.yearly import reads_summaries, yearly_report
from tests.factories import World, build_world
from tests.reports.dataset import SH, Story, at, clock


def figures(unit, year: int, source: str) -> dict[str, Any]:
    report = asdict(yearly_report(unit=unit, year=year, source=source))
    report.pop("generated_at")
    return report


def assert_equal_both_ways(units, years) -> None:
    for unit in units:
        for year in years:
            live, summed = figures(unit, year, "live"), figures(unit, year, "summaries")
            for section in live:  # section by section, so a failure names the section
                assert summed[section] == live[section], (unit.code, year, section)


def test_the_ministry_and_the_provinces_read_the_summaries_the_rest_live(postgres_only, dataset):
    world = dataset.world
    assert reads_summaries(world.ministry) is True
    assert reads_summaries(world.province) is True
    assert reads_summaries(world.city) is False
    assert reads_summaries(world.county) is False
    assert reads_summaries(world.ministry, "live") is False
    with pytest.raises(ValueError, match="no finer than by city"):
        reads_summaries(world.city, "summaries")


def test_the_hand_built_dataset_gives_the_same_figures_both_ways(postgres_only, dataset):
    w = dataset.world
    assert summaries.reconcile().mismatches == []
    assert_equal_both_ways([w.ministry, w.province, w.sibling_province], [2024, 2025, 2026])
    # Not an empty comparison: the figures the hand-built tests expect are there.
    r = yearly_report(unit=w.ministry, year=2025)
    assert r.cases.total.current == 6
    assert r.intake_to_referral.count.current == 4
    assert r.intake_to_closure.count.current == 3


# --- Random populations --------------------------------------------------------------------------------------------

START = datetime(2023, 12, 31, 12, 0, tzinfo=SH)  # the edges of both years are inside the range
SPAN_SECONDS = int((datetime(2026, 1, 1, 12, 0, tzinfo=SH) - START).total_seconds())

gaps = st.builds(
    lambda days, micro: timedelta(days=days, microseconds=micro),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=1, max_value=86_400 * 1_000_000 - 1),
)
cases_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "place": st.sampled_from(["station", "other_station", "city", "sibling_station"]),
            "created": st.integers(min_value=0, max_value=SPAN_SECONDS),
            "micro": st.integers(min_value=0, max_value=999_999),
            "kind": st.sampled_from([IncidentKind.VIOLENT_ATTACK, IncidentKind.THREAT, IncidentKind.DOXXING]),
            "channel": st.sampled_from([Channel.WEB, Channel.MOBILE_APP, Channel.DISPATCH_110]),
            "injury": st.sampled_from([InjuryGrade.NONE, InjuryGrade.SLIGHT, InjuryGrade.DEATH]),
            "auxiliary": st.booleans(),
            # How far the case goes: 0 draft, 1 withdrawn draft, 2 submitted, 3 rejected, 4 referred,
            # 5 acknowledged, 6 concluded, 7 closed, 8 closed and recalled, 9 reopened after conclusion.
            "path": st.integers(min_value=0, max_value=9),
            "suspect": st.sampled_from(
                [
                    None,
                    (SuspectStatus.ARRESTED, Disposition.CRIMINAL_FILED),
                    (SuspectStatus.AT_LARGE, Disposition.AT_LARGE),
                    (SuspectStatus.RELEASED, Disposition.MEDIATION),
                ]
            ),
            "steps": st.lists(gaps, min_size=11, max_size=11),
        }
    ),
    min_size=1,
    max_size=6,
)


def tell(world: World, spec: dict[str, Any]) -> None:
    sibling = spec["place"] == "sibling_station"
    unit = getattr(world, spec["place"])
    filer = {"other_station": world.other_officer, "sibling_station": world.sibling_officer}.get(
        spec["place"], world.officer
    )
    handler = world.sibling_supervisor if sibling else world.supervisor
    when = START + timedelta(seconds=spec["created"], microseconds=spec["micro"])
    steps = iter(spec["steps"])

    def later() -> datetime:
        nonlocal when
        when = when + next(steps)
        return when

    story = Story(world, unit=unit, filer=filer, handler=handler, created=when, kind=spec["kind"])
    with clock(later()):
        story.case = services.update_case_details(
            case=story.case, by=filer, expected_version=None, changes={"channel": spec["channel"]}
        )
    story.injure(spec["injury"], later())
    if spec["auxiliary"]:
        story.colleague("辅警", later(), officer_type=OfficerType.AUXILIARY, injury=InjuryGrade.SLIGHT)
    path = spec["path"]
    if path == 0:
        return
    if path == 1:
        story.withdraw(later())
        return
    story.submit(later())
    if spec["suspect"] is not None:
        status, disposition = spec["suspect"]
        story.suspect(later(), status, disposition, name="张三")
    if path == 2:
        return
    if path == 3:
        story.reject(later())
        return
    story.refer(later(), world.sibling_station if sibling else world.county, Track.CRIMINAL)
    if path >= 5:
        story.acknowledge(later())
    if path >= 6:
        if spec["suspect"] is None:
            story._act("conclude", later(), reason="处理完毕", no_suspect_reason=NoSuspectReason.OTHER)
        else:
            story.conclude(later())
    if path == 9:
        story.reopen(later(), "protracted")
    if path in (7, 8):
        story.close(later())
    if path == 8:
        with clock(later()):
            services.recall_case(case=story.case, by=handler, expected_version=story.case.version, reason="回头看")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(population=cases_strategy)
def test_random_populations_give_the_same_figures_both_ways(postgres_only, dataset, population):
    """Random cases added to the hand-built ones (so neither year is ever empty for long)."""
    world = dataset.world
    with transaction.atomic():
        for spec in population:
            tell(world, spec)
        assert summaries.reconcile().mismatches == []
        assert_equal_both_ways([world.ministry, world.province, world.sibling_province], [2024, 2025])
        transaction.set_rollback(True)  # each example starts from the hand-built dataset alone


# --- One snapshot ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_summed_report_reads_one_snapshot_while_a_case_changes_under_it(postgres_only, monkeypatch):
    """The summed report reads a spread's whole-day histogram, then the exact times of the cases it points at: a case
    recalled (its closure undone) and committed between the two reads must not change, or break, the report."""
    world = build_world()
    story = Story(world, unit=world.station, filer=world.officer, handler=world.supervisor, created=at(2025, 3, 1))
    story.submit(at(2025, 3, 1, 11)).refer(at(2025, 3, 3), world.county).acknowledge(at(2025, 3, 4))
    story._act("conclude", at(2025, 4, 1), reason="处理完毕", no_suspect_reason=NoSuspectReason.OTHER)
    story.close(at(2025, 4, 10, 23, 30))
    before = figures(world.ministry, 2025, "summaries")
    assert before["intake_to_closure"]["count"]["current"] == 1
    assert before["intake_to_closure"]["median"]["current"] == 40.5  # 1 March 11:00 to 10 April 23:30
    assert before == figures(world.ministry, 2025, "live")

    exact_days = yearly._exact_days
    recalled: list[BaseException | None] = []

    def recall_elsewhere() -> None:
        try:
            with clock(at(2026, 1, 5)):
                services.recall_case(case=story.case, by=world.supervisor, expected_version=None, reason="回头看")
            recalled.append(None)
        except BaseException as exc:  # reported below
            recalled.append(exc)
        finally:
            connections.close_all()

    def exact_days_after_a_recall(scope, w, measure, wanted):
        if measure == SpreadMeasure.CLOSURE and not recalled:
            # Another connection recalls the case and commits, between the histogram's read and this one.
            thread = threading.Thread(target=recall_elsewhere)
            thread.start()
            thread.join()
        return exact_days(scope, w, measure, wanted)

    monkeypatch.setattr(yearly, "_exact_days", exact_days_after_a_recall)
    during = figures(world.ministry, 2025, "summaries")
    assert recalled == [None]
    assert during == before  # the report as it stood when it began, whole
    monkeypatch.setattr(yearly, "_exact_days", exact_days)
    after = figures(world.ministry, 2025, "summaries")
    assert after["intake_to_closure"]["count"]["current"] == 0
    assert after == figures(world.ministry, 2025, "live")
