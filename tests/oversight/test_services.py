"""The campaign services: every transition and every refusal (a refused call leaves everything as it was), the
frozen selection, the reproducible sample and the steps on the cases' timelines."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import CampaignStep, CaseStatus, EventKind, FindingProblem
from cases.models import CaseEvent, SupervisionFinding
from oversight import services
from oversight.choices import Answer, CampaignState, ChecklistItem, LogStep, Measure, ProblemType, SelectionMode
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    Review,
    ReviewAnswer,
    ReviewerAssignment,
)
from oversight.scope import Scope
from tests.oversight.conftest import Camp, case_at, new_campaign

S = CaseStatus
SPECIAL = (
    ChecklistItem.NON_HANDLING,
    ChecklistItem.DOWNGRADED,
    ChecklistItem.PROTRACTED,
    ChecklistItem.INTERFERENCE,
    ChecklistItem.EVIDENCE,
    ChecklistItem.TIME_LIMITS,
    ChecklistItem.SUPPORT,
)


def all_pass(**changes: tuple[str, str]) -> dict[str, tuple[str, str]]:
    answers = dict.fromkeys(SPECIAL, (Answer.PASS, ""))
    answers.update(changes)
    return answers


def snapshot() -> dict[str, int]:
    """How many rows each campaign table holds and how many campaign steps the timelines hold."""
    return {
        "campaigns": Campaign.objects.count(),
        "cases": CampaignCase.objects.count(),
        "log": CampaignEvent.objects.count(),
        "reviewers": ReviewerAssignment.objects.count(),
        "reviews": Review.objects.count(),
        "answers": ReviewAnswer.objects.count(),
        "problems": Problem.objects.count(),
        "accountability": Accountability.objects.count(),
        "timeline": CaseEvent.objects.filter(kind=EventKind.CAMPAIGN).count(),
    }


def running(camp: Camp, **kwargs: object) -> Campaign:
    campaign = new_campaign(camp, **kwargs)  # type: ignore[arg-type]
    return services.start_campaign(campaign=campaign, by=camp.world.supervisor)


def item_of(campaign: Campaign, case_id: int) -> CampaignCase:
    return CampaignCase.objects.get(campaign=campaign, case_id=case_id)


def with_reviewer(camp: Camp, campaign: Campaign) -> None:
    services.assign_reviewer(
        campaign=campaign, by=camp.world.supervisor, sub_unit=camp.world.county, reviewer=camp.world.county_supervisor
    )


# --- creating and starting -------------------------------------------------------------------------------------------


def test_a_supervisor_of_the_owner_unit_creates_a_draft_and_the_log_says_so(camp):
    campaign = new_campaign(camp, selection=SelectionMode.SAMPLE, sample_size=2, seed="abc")
    assert campaign.state == CampaignState.DRAFT
    assert campaign.scope == {"statuses": ["closed"]}
    assert (campaign.selection, campaign.sample_size, campaign.seed) == (SelectionMode.SAMPLE, 2, "abc")
    assert list(CampaignEvent.objects.values_list("step", "actor_id")) == [(LogStep.CREATED, camp.world.supervisor.pk)]


@pytest.mark.parametrize("who", ["officer", "county_supervisor", "sibling_supervisor"])
def test_creating_is_refused_below_or_beside_the_owner_unit(camp, who):
    with pytest.raises(PermissionDenied):
        new_campaign(camp, by=getattr(camp.world, who))
    assert snapshot()["campaigns"] == 0
    assert snapshot()["log"] == 0


def test_the_provinces_administrator_creates_a_campaign_of_the_city(camp):
    assert new_campaign(camp, by=camp.world.admin).owner_unit == camp.city


def test_an_invalid_campaign_is_refused_with_every_reason(camp):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        services.create_campaign(
            by=camp.world.supervisor,
            name="  ",
            kind="party",
            owner_unit=camp.city,
            period_start=today,
            period_end=today - timedelta(days=1),
            deadline=today - timedelta(days=1),
            scope=Scope(statuses=(S.DRAFT,), unit_path=camp.world.sibling_station.path),
            selection=SelectionMode.SAMPLE,
        )
    assert set(refused.value.message_dict) == {
        "name",
        "kind",
        "period_end",
        "deadline",
        "statuses",
        "unit",
        "sample_size",
    }
    assert snapshot()["campaigns"] == 0


def test_starting_selects_every_case_in_scope_once_with_its_sub_unit_and_tells_their_timelines(camp):
    west = case_at(camp, S.CLOSED)
    east = case_at(camp, S.CLOSED, east=True)
    case_at(camp, S.INTAKE)  # out of scope: not closed
    campaign = running(camp)
    assert campaign.state == CampaignState.RUNNING
    assert campaign.selected_count == 2
    assert campaign.seed == ""
    assert set(CampaignCase.objects.values_list("case_id", "sub_unit_id")) == {
        (west.pk, camp.world.county.pk),
        (east.pk, camp.east.pk),
    }
    for case in (west, east):
        event = CaseEvent.objects.get(case=case, kind=EventKind.CAMPAIGN)
        assert event.data == {"campaign": campaign.pk, "name": campaign.name, "step": CampaignStep.SELECTED}
        assert event.actor_id == camp.world.supervisor.pk
    log = CampaignEvent.objects.filter(campaign=campaign).order_by("id")
    assert [(e.step, e.data) for e in log][-1] == (LogStep.STARTED, {"selected": 2, "seed": ""})


def test_the_selection_is_frozen_a_case_closed_later_is_not_included(camp):
    first = case_at(camp, S.CLOSED)
    campaign = running(camp)
    case_at(camp, S.CLOSED)
    assert list(CampaignCase.objects.filter(campaign=campaign).values_list("case_id", flat=True)) == [first.pk]
    assert Campaign.objects.get(pk=campaign.pk).selected_count == 1


def test_a_case_appears_once_per_campaign_in_the_database(camp):
    case = case_at(camp, S.CLOSED)
    campaign = running(camp)
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignCase.objects.create(campaign=campaign, case=case, sub_unit=camp.world.county)


def test_the_scope_filters_like_the_queue_unit_and_incident_type(camp):
    wanted = case_at(camp, S.CLOSED, east=True, kind="threat")
    case_at(camp, S.CLOSED, east=True)  # another incident type
    case_at(camp, S.CLOSED, kind="threat")  # the other county
    campaign = running(camp, scope=Scope(statuses=(S.CLOSED,), kinds=("threat",), unit_path=camp.east.path))
    assert list(CampaignCase.objects.filter(campaign=campaign).values_list("case_id", flat=True)) == [wanted.pk]


def test_a_sample_is_reproducible_from_its_seed(camp):
    cases = [case_at(camp, S.CLOSED, east=i % 2 == 0).pk for i in range(5)]
    first = running(camp, selection=SelectionMode.SAMPLE, sample_size=3, seed="2026-look")
    again = running(camp, selection=SelectionMode.SAMPLE, sample_size=3, seed="2026-look")
    expected = sorted(cases, key=lambda pk: (services.sample_key("2026-look", pk), pk))[:3]
    chosen = set(CampaignCase.objects.filter(campaign=first).values_list("case_id", flat=True))
    assert chosen == set(expected)
    assert set(CampaignCase.objects.filter(campaign=again).values_list("case_id", flat=True)) == chosen


def test_a_sample_without_a_seed_records_the_one_it_drew_with(camp):
    cases = [case_at(camp, S.CLOSED).pk for _ in range(3)]
    campaign = running(camp, selection=SelectionMode.SAMPLE, sample_size=2)
    assert len(campaign.seed) == 16
    expected = sorted(cases, key=lambda pk: (services.sample_key(campaign.seed, pk), pk))[:2]
    assert set(CampaignCase.objects.filter(campaign=campaign).values_list("case_id", flat=True)) == set(expected)


def test_a_stratified_sample_draws_up_to_n_from_each_sub_unit(camp):
    west = [case_at(camp, S.CLOSED).pk for _ in range(3)]
    east = [case_at(camp, S.CLOSED, east=True).pk]
    campaign = running(camp, selection=SelectionMode.STRATIFIED, sample_size=2, seed="s")
    chosen = set(CampaignCase.objects.filter(campaign=campaign).values_list("case_id", flat=True))
    assert chosen == set(sorted(west, key=lambda pk: (services.sample_key("s", pk), pk))[:2]) | set(east)
    assert campaign.selected_count == 3


def test_starting_is_refused_to_a_county_supervisor_and_twice(camp):
    case_at(camp, S.CLOSED)
    campaign = new_campaign(camp)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.start_campaign(campaign=campaign, by=camp.world.county_supervisor)
    assert snapshot() == before
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.DRAFT
    services.start_campaign(campaign=campaign, by=camp.world.supervisor)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.start_campaign(campaign=campaign, by=camp.world.supervisor)
    assert snapshot() == before


def test_the_scope_changes_only_in_draft(camp):
    campaign = new_campaign(camp)
    services.set_scope(
        campaign=campaign, by=camp.world.admin, scope=Scope(kinds=("threat",)), selection=SelectionMode.ALL
    )
    assert Campaign.objects.get(pk=campaign.pk).scope == {"kinds": ["threat"]}
    services.start_campaign(campaign=campaign, by=camp.world.supervisor)
    with pytest.raises(ValidationError):
        services.set_scope(campaign=campaign, by=camp.world.supervisor, scope=Scope(), selection=SelectionMode.ALL)
    assert Campaign.objects.get(pk=campaign.pk).scope == {"kinds": ["threat"]}


# --- reviewers -------------------------------------------------------------------------------------------------------


def test_a_reviewer_is_a_supervisor_of_the_sub_unit(camp):
    campaign = new_campaign(camp)
    with_reviewer(camp, campaign)
    assert list(ReviewerAssignment.objects.values_list("sub_unit_id", "reviewer_id")) == [
        (camp.world.county.pk, camp.world.county_supervisor.pk)
    ]
    before = snapshot()
    for sub_unit, reviewer in (
        (camp.east, camp.world.county_supervisor),  # supervises the other county
        (camp.world.county, camp.world.sibling_supervisor),
        (camp.world.county, camp.world.officer),
        (camp.world.station, camp.world.county_supervisor),  # not a sub-unit: below one
        (camp.world.county, camp.world.county_supervisor),  # already assigned
    ):
        with pytest.raises(ValidationError):
            services.assign_reviewer(campaign=campaign, by=camp.world.supervisor, sub_unit=sub_unit, reviewer=reviewer)
    with pytest.raises(PermissionDenied):
        services.assign_reviewer(
            campaign=campaign, by=camp.world.county_supervisor, sub_unit=camp.east, reviewer=camp.east_supervisor
        )
    assert snapshot() == before


# --- reviewing ------------------------------------------------------------------------------------------------------


@pytest.fixture
def reviewing(camp):
    """A running campaign over one closed case of the west county, its county supervisor assigned."""
    case = case_at(camp, S.CLOSED)
    campaign = running(camp)
    with_reviewer(camp, campaign)
    return campaign, item_of(campaign, case.pk)


def test_the_assigned_reviewer_records_the_checklist_and_the_timeline_says_so(camp, reviewing):
    campaign, item = reviewing
    note = "立案后三个月未开展调查"
    review = services.record_review(
        item=item, by=camp.world.county_supervisor, answers=all_pass(protracted=(Answer.PROBLEM, note)), summary="ok"
    )
    assert review.reviewer == camp.world.county_supervisor
    assert dict(review.answers.values_list("item", "answer")) == {
        **dict.fromkeys(SPECIAL, Answer.PASS),
        "protracted": Answer.PROBLEM,
    }
    assert review.answers.get(item="protracted").note == note
    steps = list(CaseEvent.objects.filter(case=item.case, kind=EventKind.CAMPAIGN).values_list("data__step", flat=True))
    assert steps == [CampaignStep.SELECTED, CampaignStep.REVIEWED]
    assert CampaignEvent.objects.filter(campaign=campaign).last().data == {"problems": 1, "again": False}
    # Recording again replaces the answers.
    services.record_review(item=item, by=camp.world.county_supervisor, answers=all_pass())
    assert ReviewAnswer.objects.filter(review=review, answer=Answer.PROBLEM).count() == 0
    assert ReviewAnswer.objects.filter(review=review).count() == len(SPECIAL)


@pytest.mark.parametrize("who", ["supervisor", "admin", "officer", "sibling_supervisor"])
def test_only_an_assigned_reviewer_reviews(camp, reviewing, who):
    _campaign, item = reviewing
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.record_review(item=item, by=getattr(camp.world, who), answers=all_pass())
    assert snapshot() == before


def test_a_reviewer_of_another_sub_unit_does_not_review_this_one(camp, reviewing):
    campaign, item = reviewing
    services.assign_reviewer(
        campaign=campaign, by=camp.world.supervisor, sub_unit=camp.east, reviewer=camp.east_supervisor
    )
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.record_review(item=item, by=camp.east_supervisor, answers=all_pass())
    assert snapshot() == before


def test_an_incomplete_checklist_is_refused_item_by_item(camp, reviewing):
    _campaign, item = reviewing
    answers = all_pass(protracted=(Answer.PROBLEM, " "), evidence=("maybe", ""), look_back=(Answer.PASS, ""))
    del answers["support"]
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.record_review(item=item, by=camp.world.county_supervisor, answers=answers)
    assert set(refused.value.message_dict) == {"protracted", "evidence", "look_back", "support"}
    assert snapshot() == before


def test_a_problem_is_rectified_once_and_the_timeline_gets_both(camp, reviewing):
    campaign, item = reviewing
    today = timezone.localdate()
    problem = services.raise_problem(
        item=item,
        by=camp.world.county_supervisor,
        type=ProblemType.PROTRACTED,
        description="超期未结",
        responsible_unit=camp.world.station,
        rectify_by=today + timedelta(days=10),
    )
    services.rectify_problem(problem=problem, by=camp.world.supervisor, rectification="已补充侦查", rectified_on=today)
    problem.refresh_from_db()
    assert (problem.rectification, problem.rectified_on, problem.rectification_recorded_by) == (
        "已补充侦查",
        today,
        camp.world.supervisor,
    )
    assert CampaignEvent.objects.filter(campaign=campaign).last().data == {"problem": problem.pk, "on_time": True}
    before = snapshot()
    with pytest.raises(ValidationError):
        services.rectify_problem(problem=problem, by=camp.world.supervisor, rectification="again", rectified_on=today)
    assert snapshot() == before
    steps = list(CaseEvent.objects.filter(case=item.case, kind=EventKind.CAMPAIGN).values_list("data__step", flat=True))
    assert steps == [CampaignStep.SELECTED, CampaignStep.PROBLEM, CampaignStep.RECTIFIED]


def test_a_problem_is_refused_outside_the_owner_unit_or_late_and_a_rectification_in_the_future(camp, reviewing):
    _campaign, item = reviewing
    today = timezone.localdate()
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.raise_problem(
            item=item,
            by=camp.world.county_supervisor,
            type="bribery",
            description="",
            responsible_unit=camp.world.sibling_station,
            rectify_by=today - timedelta(days=1),
        )
    assert set(refused.value.message_dict) == {"type", "description", "responsible_unit", "rectify_by"}
    assert snapshot() == before
    problem = services.raise_problem(
        item=item,
        by=camp.world.county_supervisor,
        type=ProblemType.EVIDENCE,
        description="未调取执法记录仪",
        responsible_unit=camp.world.station,
        rectify_by=today,
    )
    with pytest.raises(ValidationError) as refused:
        services.rectify_problem(
            problem=problem, by=camp.world.county_supervisor, rectification="", rectified_on=today + timedelta(days=1)
        )
    assert set(refused.value.message_dict) == {"rectification", "rectified_on"}
    problem.refresh_from_db()
    assert problem.rectified_on is None


def test_making_up_a_closed_case_recalls_and_reopens_it_through_the_workflow(camp, reviewing):
    _campaign, item = reviewing
    problem = services.raise_problem(
        item=item,
        by=camp.world.county_supervisor,
        type=ProblemType.DOWNGRADED,
        description="以罚代刑",
        responsible_unit=camp.world.station,
        rectify_by=timezone.localdate() + timedelta(days=20),
    )
    services.make_up_case(item=item, by=camp.world.county_supervisor, problem=problem)
    item.refresh_from_db()
    item.case.refresh_from_db()
    assert item.case.status == S.SUPERVISION
    assert (item.made_up_by, item.made_up_problem) == (camp.world.county_supervisor, problem)
    moves = list(
        CaseEvent.objects.filter(case=item.case, kind=EventKind.TRANSITION)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert moves[-2:] == ["recall", "reopen"]
    finding = SupervisionFinding.objects.get(case=item.case)
    assert (finding.problem, finding.detail, finding.rectify_by) == (
        FindingProblem.DOWNGRADED,
        "以罚代刑",
        problem.rectify_by,
    )
    assert CaseEvent.objects.filter(case=item.case, kind=EventKind.CAMPAIGN).last().data["step"] == CampaignStep.MADE_UP
    before = snapshot()
    with pytest.raises(ValidationError):
        services.make_up_case(item=item, by=camp.world.county_supervisor, problem=problem)
    assert snapshot() == before


def test_a_case_still_being_handled_is_not_made_up(camp):
    case = case_at(camp, S.SUPERVISION)
    campaign = running(camp, scope=Scope(statuses=(S.SUPERVISION,)))
    with_reviewer(camp, campaign)
    item = item_of(campaign, case.pk)
    problem = services.raise_problem(
        item=item,
        by=camp.world.county_supervisor,
        type=ProblemType.PROTRACTED,
        description="拖延",
        responsible_unit=camp.world.station,
        rectify_by=timezone.localdate(),
    )
    before = snapshot()
    version = case.version
    with pytest.raises(ValidationError):
        services.make_up_case(item=item, by=camp.world.county_supervisor, problem=problem)
    assert snapshot() == before
    case.refresh_from_db()
    assert (case.status, case.version) == (S.SUPERVISION, version)
    assert CampaignCase.objects.get(pk=item.pk).made_up_at is None


def test_accountability_is_recorded_with_its_document(camp, reviewing):
    _campaign, item = reviewing
    record = services.record_accountability(
        item=item,
        by=camp.world.supervisor,
        officer_name="李某",
        officer_badge="330123",
        unit=camp.world.station,
        measure=Measure.ADMONISHMENT,
        document_reference="杭公督〔2026〕12号",
        decided_on=timezone.localdate(),
    )
    assert (record.officer_name, record.measure, record.unit) == ("李某", Measure.ADMONISHMENT, camp.world.station)
    assert CaseEvent.objects.filter(case=item.case, kind=EventKind.CAMPAIGN).last().data["step"] == (
        CampaignStep.ACCOUNTABILITY
    )
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.record_accountability(
            item=item,
            by=camp.world.supervisor,
            officer_name="",
            unit=camp.world.sibling_station,
            measure="fine",
            document_reference="",
            decided_on=timezone.localdate() + timedelta(days=1),
        )
    assert set(refused.value.message_dict) == {"officer_name", "unit", "measure", "document_reference", "decided_on"}
    with pytest.raises(PermissionDenied):
        services.record_accountability(
            item=item,
            by=camp.world.officer,
            officer_name="李某",
            unit=camp.world.station,
            measure=Measure.ADMONISHMENT,
            document_reference="x",
            decided_on=timezone.localdate(),
        )
    assert snapshot() == before


def test_closing_ends_the_reviews(camp, reviewing):
    campaign, item = reviewing
    with pytest.raises(PermissionDenied):
        services.close_campaign(campaign=campaign, by=camp.world.county_supervisor)
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.RUNNING
    closed = services.close_campaign(campaign=campaign, by=camp.world.admin)
    assert closed.state == CampaignState.CLOSED
    assert CampaignEvent.objects.filter(campaign=campaign).last().data == {"selected": 1, "reviewed": 0}
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.record_review(item=item, by=camp.world.county_supervisor, answers=all_pass())
    with pytest.raises(ValidationError):
        services.close_campaign(campaign=campaign, by=camp.world.supervisor)
    with pytest.raises(ValidationError):
        services.assign_reviewer(
            campaign=campaign, by=camp.world.supervisor, sub_unit=camp.east, reviewer=camp.east_supervisor
        )
    assert snapshot() == before


@pytest.mark.parametrize(("threshold", "analysed"), [(2, True), (3, False)])
def test_a_large_start_refreshes_the_planners_statistics_of_the_selected_cases(
    camp, postgres_only, monkeypatch, threshold, analysed
):
    """From ``ANALYZE_AFTER`` selected cases on (two here), the start analyses the table, so the campaign page's
    first visits are planned for the campaign's real size; below it, nothing."""
    case_at(camp, S.CLOSED)
    case_at(camp, S.CLOSED, east=True)
    monkeypatch.setattr(services, "ANALYZE_AFTER", threshold)
    with CaptureQueriesContext(connection) as queries:
        campaign = running(camp)
    assert campaign.selected_count == 2
    assert [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")] == (
        ["ANALYZE oversight_campaigncase"] if analysed else []
    )
