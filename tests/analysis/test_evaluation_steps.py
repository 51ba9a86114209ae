"""The steps of a case analysis and evaluation report (analysis/services.py): started, written, submitted, returned,
approved by a second supervisor (four eyes), its figures frozen at approval; the notices; and the invariants the
database holds whatever the door (analysis/models.py). Every refusal leaves the report exactly as it was."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import actor_for
from analysis import evaluation, policy, services
from analysis.choices import EvaluationState
from analysis.models import LESSONS_MAX, EvaluationReport
from cases.exceptions import IllegalTransition, StaleVersion
from cases.models import Notification
from cases.notices import render
from tests.analysis.dataset import at, filed
from tests.analysis.evaluation_dataset import evaluation_dataset
from tests.factories import member
from tests.reports.dataset import clock

NOW = at(2026, 1, 20, 9)
LESSONS = "一、110接处警现场袭警占比较高。\n二、加强执法记录仪全程记录。"


def state_of(report: EvaluationReport) -> tuple:
    """Everything a step writes."""
    return tuple(
        EvaluationReport.objects.filter(pk=report.pk).values_list(
            "state",
            "version",
            "lessons",
            "written_by",
            "updated_at",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "returned_by",
            "returned_at",
            "return_note",
            "figures",
        )[0]
    )


def started(world, who=None, year=2025, quarter=2) -> EvaluationReport:
    with clock(NOW):
        report, _created = services.start_evaluation(
            unit=world.county, year=year, quarter=quarter, by=who or world.county_supervisor
        )
    return report


def written(report, by, text=LESSONS) -> EvaluationReport:
    with clock(NOW):
        return services.save_lessons(report=report, by=by, lessons=text, expected_version=report.version)


def submitted(report, by) -> EvaluationReport:
    with clock(NOW):
        return services.submit_evaluation(report=report, by=by, expected_version=report.version)


@pytest.fixture
def report(world):
    return started(world)


@pytest.fixture
def waiting(world, report):
    return submitted(written(report, world.county_supervisor), world.county_supervisor)


def test_a_supervisor_of_the_unit_starts_it_once_per_period(world):
    report = started(world)
    assert (report.state, report.version, report.lessons, report.created_by, report.written_by) == (
        EvaluationState.DRAFT,
        1,
        "",
        world.county_supervisor,
        world.county_supervisor,
    )
    # Starting it again, by anyone who may, leads to the same report.
    with clock(NOW):
        again, created = services.start_evaluation(unit=world.county, year=2025, quarter=2, by=world.supervisor)
    assert (again.pk, created) == (report.pk, False)
    assert EvaluationReport.objects.count() == 1


@pytest.mark.parametrize(
    ("year", "quarter", "field", "message"),
    [
        (2014, 0, "year", "Choose a year from 2015 to 2026."),
        (2027, 0, "year", "Choose a year from 2015 to 2026."),
        (2026, 2, "quarter", "This quarter has not begun yet."),
        (2025, 5, "quarter", "Choose the whole year or a quarter from 1 to 4."),
    ],
)
def test_a_period_out_of_range_is_refused(world, year, quarter, field, message):
    with clock(NOW), pytest.raises(ValidationError) as refused:
        services.start_evaluation(unit=world.county, year=year, quarter=quarter, by=world.county_supervisor)
    assert refused.value.message_dict == {field: [message]}
    assert EvaluationReport.objects.count() == 0


@pytest.mark.parametrize("who", ["admin", "sibling_supervisor", "officer"])
def test_only_supervisors_start_one(world, who):
    with clock(NOW), pytest.raises(PermissionDenied, match="Only a supervisor of the report's unit"):
        services.start_evaluation(unit=world.county, year=2025, quarter=2, by=getattr(world, who))
    assert EvaluationReport.objects.count() == 0


def test_a_supervisor_of_a_unit_below_does_not_start_the_units_report(world):
    with clock(NOW), pytest.raises(PermissionDenied):
        services.start_evaluation(unit=world.city, year=2025, quarter=2, by=world.county_supervisor)
    assert EvaluationReport.objects.count() == 0


def test_writing_the_lessons_keeps_who_wrote_them(world, report):
    done = written(report, world.supervisor, f"  {LESSONS}  ")
    assert state_of(done)[:5] == (EvaluationState.DRAFT, 2, LESSONS, world.supervisor.pk, NOW)


def test_lessons_too_long_are_refused_with_how_long_they_are(world, report):
    before = state_of(report)
    with pytest.raises(ValidationError) as refused:
        written(report, world.county_supervisor, "字" * (LESSONS_MAX + 1))
    assert refused.value.message_dict == {
        "lessons": ["Keep the lessons and measures to 20000 characters; this text has 20001."]
    }
    assert state_of(report) == before
    assert written(report, world.county_supervisor, "字" * LESSONS_MAX).lessons == "字" * LESSONS_MAX


def test_a_stale_version_is_refused_and_nothing_is_written(world, report):
    written(report, world.county_supervisor)
    before = state_of(report)
    with pytest.raises(StaleVersion, match="changed after you opened it"):
        services.save_lessons(report=report, by=world.supervisor, lessons="覆盖", expected_version=1)
    assert state_of(report) == before


@pytest.mark.parametrize("who", ["admin", "sibling_supervisor", "officer"])
def test_nobody_else_writes_or_submits(world, report, who):
    written(report, world.county_supervisor)
    before = state_of(report)
    with pytest.raises(PermissionDenied):
        services.save_lessons(report=report, by=getattr(world, who), lessons="改", expected_version=2)
    with pytest.raises(PermissionDenied):
        services.submit_evaluation(report=report, by=getattr(world, who), expected_version=2)
    assert state_of(report) == before


def test_submitting_needs_the_lessons_and_the_period_over(world, report):
    before = state_of(report)
    with clock(NOW), pytest.raises(ValidationError) as refused:
        services.submit_evaluation(report=report, by=world.county_supervisor, lessons=" \u200b ")
    assert refused.value.message_dict == {"lessons": ["Write the lessons and measures before you submit the report."]}
    current = started(world, year=2026, quarter=1)
    written(current, world.county_supervisor)
    with clock(NOW), pytest.raises(ValidationError) as refused:
        services.submit_evaluation(report=current, by=world.county_supervisor)
    assert refused.value.messages == ["The period ends on 31 Mar 2026: submit the report once it is over."]
    assert state_of(report) == before
    assert EvaluationReport.objects.get(pk=current.pk).state == EvaluationState.DRAFT


def test_submitting_with_the_lessons_saves_them_and_tells_the_supervisors_who_may_approve(world, report):
    second = member(world.county, Role.SUPERVISOR)
    with clock(NOW):
        done = services.submit_evaluation(
            report=report, by=world.county_supervisor, expected_version=1, lessons=LESSONS
        )
    assert state_of(done)[:7] == (
        EvaluationState.SUBMITTED,
        2,
        LESSONS,
        world.county_supervisor.pk,
        NOW,
        world.county_supervisor.pk,
        NOW,
    )
    # The county's other supervisor, not the submitter: the nearest office with someone else who may approve.
    notes = Notification.objects.filter(unit=world.county)
    assert [(n.recipient_id, n.link) for n in notes] == [(second.pk, f"/analysis/evaluations/{report.pk}/")]
    assert render(notes[0].params) == (
        "The case analysis and evaluation report of 西湖区分局 for Q2 2025 was submitted by "
        f"{world.county_supervisor.full_name or world.county_supervisor.username} and waits for the approval of "
        "another supervisor."
    )


def test_a_sole_supervisor_s_report_goes_to_the_office_above(world, report):
    written(report, world.county_supervisor)
    submitted(EvaluationReport.objects.get(pk=report.pk), world.county_supervisor)
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [world.supervisor.pk]
    assert policy.approvers_to_tell(world.county, [world.supervisor.pk]) == [world.county_supervisor.pk]


def test_a_second_supervisor_approves_it_and_its_figures_are_frozen(world, waiting):
    data = evaluation_dataset(world)
    with clock(NOW):
        done = services.approve_evaluation(report=waiting, by=world.supervisor, expected_version=waiting.version)
    assert (done.state, done.version, done.approved_by, done.approved_at) == (
        EvaluationState.APPROVED,
        4,
        world.supervisor,
        NOW,
    )
    assert done.figures["cases"] == {"current": 5, "previous": 1}
    assert done.figures["generated_at"] == NOW.isoformat()
    told = Notification.objects.filter(unit=world.county).exclude(recipient=world.supervisor)
    assert [(n.recipient_id, render(n.params)) for n in told] == [
        (
            world.county_supervisor.pk,
            "The case analysis and evaluation report of 西湖区分局 for Q2 2025 was approved by "
            f"{world.supervisor.full_name or world.supervisor.username}.",
        )
    ]
    # A case submitted in the quarter after the approval (a late entry) does not change the approved report.
    filed(world, world.station, world.officer, at(2025, 6, 20), occurred=at(2025, 6, 19))
    frozen = EvaluationReport.objects.get(pk=waiting.pk).figures
    assert frozen["cases"] == {"current": 5, "previous": 1}
    assert evaluation.compute(unit=world.county, year=2025, quarter=2)["cases"] == {"current": 6, "previous": 1}
    assert data.a1.pk in [r["case"] for r in frozen["repeat_attackers"]]


def test_the_submitter_may_not_approve_or_return_it(world, waiting):
    before = state_of(waiting)
    assert policy.can_approve_evaluation(actor_for(world.county_supervisor), waiting) is False
    with pytest.raises(PermissionDenied, match="You wrote or submitted this report"):
        services.approve_evaluation(report=waiting, by=world.county_supervisor, expected_version=waiting.version)
    with pytest.raises(PermissionDenied, match="You wrote or submitted this report"):
        services.return_evaluation(report=waiting, by=world.county_supervisor, note="自己退回")
    assert state_of(waiting) == before


@pytest.mark.parametrize("who", ["admin", "sibling_supervisor", "officer"])
def test_nobody_else_approves_or_returns(world, waiting, who):
    before = state_of(waiting)
    with pytest.raises(PermissionDenied, match="Only a supervisor of the report's unit"):
        services.approve_evaluation(report=waiting, by=getattr(world, who))
    with pytest.raises(PermissionDenied, match="Only a supervisor of the report's unit"):
        services.return_evaluation(report=waiting, by=getattr(world, who), note="退回")
    assert state_of(waiting) == before


def test_a_submitted_report_is_not_edited(world, waiting):
    before = state_of(waiting)
    with pytest.raises(IllegalTransition, match="changes only if it is returned"):
        services.save_lessons(report=waiting, by=world.supervisor, lessons="改", expected_version=waiting.version)
    with pytest.raises(IllegalTransition):
        services.submit_evaluation(report=waiting, by=world.supervisor, expected_version=waiting.version)
    assert state_of(waiting) == before


def test_a_return_needs_a_note_and_sends_it_back_as_a_draft(world, waiting):
    before = state_of(waiting)
    with pytest.raises(ValidationError) as refused:
        services.return_evaluation(report=waiting, by=world.supervisor, note=" \n ")
    assert refused.value.message_dict == {"note": ["Say what should change: a return needs a note."]}
    assert state_of(waiting) == before
    with clock(NOW):
        back = services.return_evaluation(
            report=waiting, by=world.supervisor, note=" 请补充整改措施 ", expected_version=waiting.version
        )
    assert state_of(back)[:12] == (
        EvaluationState.DRAFT,
        4,
        LESSONS,
        world.county_supervisor.pk,
        NOW,
        None,
        None,
        None,
        None,
        world.supervisor.pk,
        NOW,
        "请补充整改措施",
    )
    notes = Notification.objects.filter(unit=world.county, recipient=world.county_supervisor)
    assert [render(n.params) for n in notes] == [
        "The case analysis and evaluation report of 西湖区分局 for Q2 2025 was returned by "
        f"{world.supervisor.full_name or world.supervisor.username}; its note says what to change."
    ]
    # Written again and submitted again, it may now be approved; the last return stays on record.
    again = submitted(written(back, world.county_supervisor, LESSONS + "\n三、"), world.county_supervisor)
    with clock(NOW):
        done = services.approve_evaluation(report=again, by=world.ministry_supervisor, expected_version=again.version)
    assert (done.state, done.return_note, done.returned_by) == (
        EvaluationState.APPROVED,
        "请补充整改措施",
        world.supervisor,
    )


def test_an_approved_report_is_final(world, waiting):
    with clock(NOW):
        done = services.approve_evaluation(report=waiting, by=world.supervisor)
    before = state_of(done)
    for step in (
        lambda: services.save_lessons(report=done, by=world.supervisor, lessons="改"),
        lambda: services.submit_evaluation(report=done, by=world.supervisor),
        lambda: services.return_evaluation(report=done, by=world.ministry_supervisor, note="退回"),
        lambda: services.approve_evaluation(report=done, by=world.ministry_supervisor),
    ):
        with pytest.raises(IllegalTransition):
            step()
    assert state_of(done) == before


def test_a_draft_is_neither_approved_nor_returned(world, report):
    before = state_of(report)
    with pytest.raises(IllegalTransition, match="not submitted for approval"):
        services.approve_evaluation(report=report, by=world.supervisor)
    assert state_of(report) == before


def test_the_database_holds_the_invariants(world, report):
    bad = [
        {"quarter": 5},
        {"state": "published"},
        {"state": EvaluationState.SUBMITTED},  # no submitter
        {"lessons": "x" * (LESSONS_MAX + 1)},
        {"return_note": "退回"},  # a note without who and when
        {"version": 0},
    ]
    for change in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            EvaluationReport.objects.filter(pk=report.pk).update(**change)
    now = timezone.now()
    approved = {
        "state": EvaluationState.APPROVED,
        "lessons": LESSONS,
        "submitted_by": world.county_supervisor,
        "submitted_at": now,
        "approved_at": now,
        "figures": {"cases": 1},
        "authors": [world.supervisor.pk, world.county_supervisor.pk],
    }
    with pytest.raises(IntegrityError), transaction.atomic():  # four eyes
        EvaluationReport.objects.filter(pk=report.pk).update(**approved, approved_by=world.county_supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():  # nor one who wrote it before
        EvaluationReport.objects.filter(pk=report.pk).update(**approved, approved_by=world.supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():  # the submitter is one of its authors
        EvaluationReport.objects.filter(pk=report.pk).update(
            **{**approved, "authors": []}, approved_by=world.ministry_supervisor
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # approved without its figures
        EvaluationReport.objects.filter(pk=report.pk).update(
            **{**approved, "figures": {}}, approved_by=world.ministry_supervisor
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # one report per unit and period
        EvaluationReport.objects.create(
            unit=world.county,
            year=2025,
            quarter=2,
            created_by=world.supervisor,
            created_at=now,
            written_by=world.supervisor,
            updated_at=now,
        )
    assert EvaluationReport.objects.filter(pk=report.pk).update(**approved, approved_by=world.ministry_supervisor) == 1


def test_the_period_names_itself():
    assert (evaluation.Period(2025, 2).label(), evaluation.Period(2025).label()) == ("Q2 2025", "Year 2025")
    assert evaluation.Period(2025, 2).last_day == date(2025, 6, 30)
