"""Every workflow action through its service: the happy path, and each refusal leaving nothing changed."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services as account_services
from cases import services
from cases.choices import (
    CaseStatus,
    Disposition,
    EventKind,
    FindingProblem,
    InjuryGrade,
    PauseReason,
    ReferralTarget,
    ReviewVerdict,
    SupportKind,
    SupportStatus,
    Track,
)
from cases.exceptions import IllegalTransition, StaleVersion
from cases.models import Case, CaseEvent, LookBackReview, Notification, OutboxMessage, Referral, SupervisionFinding
from cases.notifications import deliver_for_event
from cases.workflow import TRANSITIONS
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.factories import PATH, add_convicted_suspect, case_in, draft, due_day, resolve

S = CaseStatus

# action -> (performer attribute, a different visible user who may not take it, a status with that performer
#            where the action is illegal)
ROLES = {
    "submit": ("officer", "supervisor", S.INTAKE),
    "withdraw": ("officer", "supervisor", S.REFERRED),
    "reject": ("supervisor", "officer", S.REFERRED),
    "refer": ("supervisor", "officer", S.SUPERVISION),
    "acknowledge": ("supervisor", "officer", S.INTAKE),
    "conclude": ("supervisor", "officer", S.LOOK_BACK),
    "reopen": ("supervisor", "officer", S.SUPERVISION),
    "close": ("supervisor", "admin", S.SUPERVISION),
    "recall": ("supervisor", "officer", S.LOOK_BACK),
}
PAYLOAD = {
    "submit": {},
    "withdraw": {"reason": "Reported twice"},
    "reject": {"reason": "Not an infringement of enforcement authority"},
    "refer": {"track": Track.ADMINISTRATIVE, "to_unit": "county"},
    "acknowledge": {"external_reference": "XH-2026-001"},
    "conclude": {"reason": "Attacker not identified despite investigation", "no_suspect_reason": "unknown_pursuing"},
    "reopen": {"problem": FindingProblem.DOWNGRADED, "detail": "Mediation used for an attack on duty"},
    "close": {"officer_informed": True, "disposition_consistent": True},
    "recall": {"reason": "Annual look-back campaign"},
}


def snapshot(case: Case) -> tuple:
    """Everything a refused action must leave untouched."""
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.version,
        case.stage_due_at,
        case.last_activity_at,
        case.track,
        case.closed_at,
        CaseEvent.objects.filter(case=case).count(),
        Referral.objects.filter(case=case).count(),
        LookBackReview.objects.filter(case=case).count(),
        SupervisionFinding.objects.filter(case=case).count(),
    )


def source_of(action: str) -> str:
    return min(TRANSITIONS[action].sources)


def run(world, action: str, case: Case, who: str, **overrides):
    payload = resolve(world, {**PAYLOAD[action], **overrides})
    expected_version = overrides.pop("expected_version", case.version)
    payload.pop("expected_version", None)
    return WORKFLOW_ACTIONS[action].service(
        case=case, by=getattr(world, who), expected_version=expected_version, **payload
    )


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_action_happy_path(world, action):
    case = case_in(world, source_of(action))
    who = ROLES[action][0]
    version, events = case.version, CaseEvent.objects.filter(case=case).count()
    result = run(world, action, case, who)
    result.refresh_from_db()
    assert result.status == TRANSITIONS[action].target
    assert result.version == version + 1
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.action, event.from_status, event.to_status, event.actor) == (
        EventKind.TRANSITION,
        action,
        source_of(action),
        TRANSITIONS[action].target,
        getattr(world, who),
    )
    if result.is_open:
        assert result.stage_started_at == event.at
        assert result.stage_due_at > event.at
    else:
        assert result.stage_due_at is None


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_wrong_role_is_refused_and_nothing_changes(world, action):
    case = case_in(world, source_of(action))
    before = snapshot(case)
    with pytest.raises(PermissionDenied):
        run(world, action, case, ROLES[action][1])
    assert snapshot(case) == before


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_sibling_subtree_and_deactivated_users_are_refused(world, action):
    case = case_in(world, source_of(action))
    before = snapshot(case)
    with pytest.raises(PermissionDenied):
        run(world, action, case, "sibling_supervisor")
    account_services.deactivate_user(user=getattr(world, ROLES[action][0]))
    with pytest.raises(PermissionDenied):
        run(world, action, case, ROLES[action][0])
    assert snapshot(case) == before


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_illegal_transition_is_refused_and_nothing_changes(world, action):
    case = case_in(world, ROLES[action][2])
    before = snapshot(case)
    with pytest.raises(IllegalTransition) as excinfo:
        run(world, action, case, ROLES[action][0])
    assert excinfo.value.code == "illegal_transition"
    assert snapshot(case) == before


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_stale_version_is_refused_and_nothing_changes(world, action):
    case = case_in(world, source_of(action))
    before = snapshot(case)
    with pytest.raises(StaleVersion) as excinfo:
        run(world, action, case, ROLES[action][0], expected_version=case.version - 1)
    assert excinfo.value.code == "stale_version"
    assert snapshot(case) == before


def test_full_life_cycle_reaches_closed_with_a_complete_timeline(world):
    case = case_in(world, S.CLOSED)
    transitions = list(
        CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).values_list("action", "from_status", "to_status")
    )
    assert transitions == [
        ("submit", S.DRAFT, S.INTAKE),
        ("refer", S.INTAKE, S.REFERRED),
        ("acknowledge", S.REFERRED, S.SUPERVISION),
        ("conclude", S.SUPERVISION, S.LOOK_BACK),
        ("close", S.LOOK_BACK, S.CLOSED),
    ]
    assert case.closed_at is not None
    review = LookBackReview.objects.get(case=case)
    assert (review.verdict, review.officer_informed, review.reviewer) == (ReviewVerdict.UPHELD, True, world.supervisor)


def test_reference_format_and_sequence(world, monkeypatch):
    # The year is the local one: half past midnight on 1 January 2027 in Shanghai is still 2026 in UTC. The clock is
    # fixed so both drafts are filed in the same year however close to midnight the test runs.
    at = datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    first, second = draft(world), draft(world)
    assert first.reference == "RG-2027-000001"
    assert second.reference == "RG-2027-000002"


def test_submit_requires_details_and_an_officer(world):
    case = services.create_draft_case(by=world.officer, unit=world.station, add_filer_as_officer=False)
    before = snapshot(case)
    with pytest.raises(ValidationError) as excinfo:
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    assert set(excinfo.value.message_dict) == {"occurred_at", "location", "summary", "officers"}
    assert snapshot(case) == before


def test_submit_refuses_a_future_incident(world):
    case = draft(world, occurred_at=timezone.now() + timedelta(days=2))
    with pytest.raises(ValidationError) as excinfo:
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    assert list(excinfo.value.message_dict) == ["occurred_at"]


def test_filer_is_listed_as_an_involved_officer(world):
    case = draft(world)
    assert list(case.officers.values_list("user", "name")) == [(world.officer.pk, world.officer.full_name)]


def test_removing_an_officer_from_a_draft_records_a_removal(world):
    case = draft(world)
    colleague = services.add_involved_officer(case=case, by=world.officer, name="王警官", badge_number="012345")
    version = Case.objects.get(pk=case.pk).version
    services.remove_involved_officer(officer=colleague, by=world.officer)
    assert list(case.officers.values_list("name", flat=True)) == [world.officer.full_name]
    assert Case.objects.get(pk=case.pk).version == version + 1
    event = CaseEvent.objects.filter(case=case).order_by("at", "id").last()
    removed = {"officer": colleague.pk, "removed": "王警官"}
    assert (event.kind, event.data, event.actor) == (EventKind.OFFICER_REMOVED, removed, world.officer)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.OFFICER_UPDATED).count() == 0


def test_an_officer_cannot_be_removed_once_the_case_is_submitted(world):
    case = case_in(world, S.INTAKE)
    officer = case.officers.get()
    before = snapshot(case)
    with pytest.raises(PermissionDenied):
        services.remove_involved_officer(officer=officer, by=world.officer)
    assert snapshot(case) == before
    assert list(case.officers.values_list("pk", flat=True)) == [officer.pk]


def test_officer_cannot_file_for_another_province(world):
    with pytest.raises(PermissionDenied):
        services.create_draft_case(by=world.officer, unit=world.sibling_station)
    assert Case.objects.count() == 0


def test_major_security_period_halves_the_intake_limit(world):
    normal = case_in(world, S.INTAKE)
    tight = case_in(world, S.INTAKE, major_security_period=True)
    assert normal.stage_due_at - normal.stage_started_at == timedelta(days=10)
    assert tight.stage_due_at - tight.stage_started_at == timedelta(days=5)


def test_refer_records_the_referral_and_uses_its_due_date(world):
    case = case_in(world, S.INTAKE)
    due = timezone.now() + timedelta(days=3)
    case = services.refer_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        track=Track.CRIMINAL,
        to_unit=world.county,
        due_at=due,
    )
    referral = Referral.objects.get(case=case)
    assert (referral.to_unit, referral.track, referral.due_at, referral.acknowledged_at) == (
        world.county,
        Track.CRIMINAL,
        due,
        None,
    )
    assert (case.track, case.stage_due_at) == (Track.CRIMINAL, due)


def test_refer_to_an_outside_body_needs_its_name(world):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    with pytest.raises(ValidationError) as excinfo:
        services.refer_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            track=Track.CRIMINAL,
            target=ReferralTarget.PROCURATORATE,
        )
    assert list(excinfo.value.message_dict) == ["body_name"]
    assert snapshot(case) == before
    services.refer_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        track=Track.CRIMINAL,
        target=ReferralTarget.PROCURATORATE,
        body_name="西湖区人民检察院",
    )
    assert Referral.objects.get(case=case).body_name == "西湖区人民检察院"


def test_refer_only_to_units_the_supervisor_covers(world):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    with pytest.raises(ValidationError) as excinfo:
        services.refer_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            track=Track.CRIMINAL,
            to_unit=world.sibling_station,
        )
    assert list(excinfo.value.message_dict) == ["to_unit"]
    assert snapshot(case) == before


def test_acknowledge_records_the_external_number_and_starts_supervision_on_the_track(world):
    case = case_in(world, S.SUPERVISION)
    referral = Referral.objects.get(case=case)
    assert referral.external_reference == "XH-2026-118"
    assert referral.acknowledged_at == case.stage_started_at
    assert case.stage_due_at - case.stage_started_at == timedelta(days=60)  # criminal track


def test_conclude_without_dispositions_needs_a_reason(world):
    case = case_in(world, S.SUPERVISION)
    services.add_suspect(case=case, by=world.supervisor, name="李某")
    case.refresh_from_db()
    before = snapshot(case)
    with pytest.raises(ValidationError) as excinfo:
        services.conclude_case(case=case, by=world.supervisor, expected_version=case.version)
    assert list(excinfo.value.message_dict) == ["reason"]
    assert snapshot(case) == before


def test_conclude_with_every_identified_suspect_disposed(world):
    case = case_in(world, S.SUPERVISION)
    add_convicted_suspect(world, case)
    case.refresh_from_db()
    case = services.conclude_case(case=case, by=world.supervisor, expected_version=case.version)
    assert (case.status, case.conclusion_reason, case.disposition_rank) == (S.LOOK_BACK, "", 12)
    assert LookBackReview.objects.get(case=case).verdict == ReviewVerdict.PENDING


def test_pending_disposition_blocks_conclusion_without_reason(world):
    case = case_in(world, S.SUPERVISION)
    add_convicted_suspect(world, case)
    other = services.add_suspect(case=case, by=world.supervisor, name="王某")
    services.record_disposition(suspect=other, by=world.supervisor, disposition=Disposition.AWAITING_TRIAL)
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        services.conclude_case(case=case, by=world.supervisor, expected_version=case.version)


def test_close_requires_the_officer_informed(world):
    case = case_in(world, S.LOOK_BACK)
    before = snapshot(case)
    with pytest.raises(ValidationError) as excinfo:
        services.close_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            officer_informed=False,
            disposition_consistent=True,
        )
    assert list(excinfo.value.message_dict) == ["officer_informed"]
    assert snapshot(case) == before
    assert LookBackReview.objects.get(case=case).verdict == ReviewVerdict.PENDING


def test_reopen_records_a_finding_and_a_deficient_review(world):
    case = case_in(world, S.LOOK_BACK)
    case = services.reopen_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        problem=FindingProblem.DOWNGRADED,
        detail="降格处理",
    )
    assert case.status == S.SUPERVISION
    finding = SupervisionFinding.objects.get(case=case)
    assert (finding.problem, finding.detail, finding.raised_by) == (
        FindingProblem.DOWNGRADED,
        "降格处理",
        world.supervisor,
    )
    review = LookBackReview.objects.get(case=case)
    assert (review.verdict, review.reviewer, review.finished_at) == (
        ReviewVerdict.DEFICIENT,
        world.supervisor,
        case.stage_started_at,
    )


def test_reopen_needs_a_known_problem(world):
    case = case_in(world, S.LOOK_BACK)
    before = snapshot(case)
    with pytest.raises(ValidationError):
        services.reopen_case(case=case, by=world.supervisor, expected_version=case.version, problem="bad", detail="x")
    assert snapshot(case) == before


def test_recall_by_admin_starts_a_new_review(world, monkeypatch):
    # The first review's campaign is the (local) year the case was concluded in; a fixed clock keeps the case from
    # being filed in one year and concluded in the next when the test runs around midnight on 31 December.
    at = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    case = case_in(world, S.CLOSED)
    case = services.recall_case(
        case=case, by=world.admin, expected_version=case.version, reason="2027 回头看", campaign_year=2027
    )
    assert (case.status, case.closed_at) == (S.LOOK_BACK, None)
    assert list(LookBackReview.objects.filter(case=case).values_list("campaign_year", "verdict")) == [
        (2026, ReviewVerdict.UPHELD),
        (2027, ReviewVerdict.PENDING),
    ]


def test_withdraw_and_reject_need_a_reason(world):
    for status, action, who in ((S.DRAFT, "withdraw", "officer"), (S.INTAKE, "reject", "supervisor")):
        case = case_in(world, status)
        before = snapshot(case)
        with pytest.raises(ValidationError) as excinfo:
            run(world, action, case, who, reason="  ")
        assert list(excinfo.value.message_dict) == ["reason"]
        assert snapshot(case) == before


def test_reject_as_duplicate_must_name_an_existing_case(world):
    case = case_in(world, S.INTAKE)
    with pytest.raises(ValidationError):
        services.reject_case(
            case=case, by=world.supervisor, expected_version=case.version, reason="dup", duplicate_of="RG-1999-000001"
        )
    other = case_in(world, S.INTAKE)
    case = services.reject_case(
        case=case, by=world.supervisor, expected_version=case.version, reason="dup", duplicate_of=other.reference
    )
    assert CaseEvent.objects.filter(case=case).latest("id").data == {"reason": "dup", "duplicate_of": other.reference}


def test_lowering_a_disposition_needs_a_reason(world):
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="赵某")
    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=Disposition.CRIMINAL_FILED)
    with pytest.raises(ValidationError) as excinfo:
        services.record_disposition(
            suspect=suspect, by=world.supervisor, disposition=Disposition.ADMIN_FINE, lenient_reason="forgiveness"
        )
    assert list(excinfo.value.message_dict) == ["lowered_reason"]
    suspect.refresh_from_db()
    assert suspect.disposition == Disposition.CRIMINAL_FILED
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.ADMIN_FINE,
        lowered_reason="检察院不批捕，转行政处罚",
        lenient_reason="insufficient_evidence",
    )
    event = CaseEvent.objects.filter(case=case, kind=EventKind.DISPOSITION).latest("id")
    assert event.data["lowered"] is True
    case.refresh_from_db()
    assert case.disposition_rank == 5


def test_officers_cannot_record_dispositions(world):
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="赵某")
    with pytest.raises(PermissionDenied):
        services.record_disposition(suspect=suspect, by=world.officer, disposition=Disposition.CONVICTED_277_1)
    suspect.refresh_from_db()
    assert suspect.disposition == Disposition.UNDER_INVESTIGATION


def test_worst_injury_is_kept_on_the_case(world):
    case = draft(world)
    services.add_involved_officer(
        case=case, by=world.officer, name="辅警小李", officer_type="auxiliary", injury=InjuryGrade.MINOR_2
    )
    services.add_involved_officer(case=case, by=world.officer, name="张警官", injury=InjuryGrade.PENDING_APPRAISAL)
    case.refresh_from_db()
    assert case.max_injury_rank == 2


def test_draft_details_only_by_the_filer_and_with_the_current_version(world):
    case = draft(world)
    with pytest.raises(PermissionDenied):
        services.update_case_details(
            case=case, by=world.other_officer, expected_version=case.version, changes={"summary": "x"}
        )
    with pytest.raises(StaleVersion):
        services.update_case_details(
            case=case, by=world.officer, expected_version=case.version + 1, changes={"summary": "x"}
        )
    case = services.update_case_details(
        case=case, by=world.officer, expected_version=case.version, changes={"summary": "新摘要"}
    )
    assert case.summary == "新摘要"
    assert CaseEvent.objects.filter(case=case, kind=EventKind.UPDATED).get().data == {
        "changes": {"summary": ["盘查时遭嫌疑人踢打", "新摘要"]}
    }


def test_status_cannot_be_set_through_details(world):
    case = draft(world)
    with pytest.raises(ValidationError):
        services.update_case_details(
            case=case, by=world.officer, expected_version=case.version, changes={"status": S.CLOSED}
        )
    case.refresh_from_db()
    assert case.status == S.DRAFT


def test_pause_and_resume_move_the_deadline_by_the_paused_time(world):
    case = case_in(world, S.INTAKE)
    due = case.stage_due_at
    case = services.pause_clock(
        case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.APPRAISAL_PENDING
    )
    paused_at = case.paused_at - timedelta(days=2)
    Case.objects.filter(pk=case.pk).update(paused_at=paused_at)  # as if paused two days ago
    case.refresh_from_db()
    case = services.resume_clock(case=case, by=world.supervisor, expected_version=case.version)
    resumed_at = CaseEvent.objects.filter(case=case, kind=EventKind.CLOCK_RESUMED).get().at
    assert case.stage_due_at == due + (resumed_at - paused_at)
    assert (case.paused_at, case.pause_reason) == (None, "")


def test_pause_needs_a_reason_and_cannot_double_pause(world):
    case = case_in(world, S.INTAKE)
    with pytest.raises(ValidationError):
        services.pause_clock(case=case, by=world.supervisor, expected_version=case.version, reason="")
    case = services.pause_clock(
        case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.SUSPECT_AT_LARGE
    )
    with pytest.raises(ValidationError):
        services.pause_clock(case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.OTHER)


def test_a_transition_restarts_a_paused_clock(world):
    case = case_in(world, S.INTAKE)
    case = services.pause_clock(case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.OTHER)
    case = services.refer_case(
        case=case, by=world.supervisor, expected_version=case.version, track=Track.ADMINISTRATIVE, to_unit=world.county
    )
    assert (case.paused_at, case.pause_reason) == (None, "")


def test_support_measures_and_comfort_payment(world):
    case = case_in(world, S.SUPERVISION)
    officer = case.officers.get()
    measure = services.record_support_measure(
        case=case, by=world.supervisor, kind=SupportKind.COMFORT_PAYMENT, officer=officer, amount=Decimal("2000.00")
    )
    with pytest.raises(ValidationError) as excinfo:
        services.update_support_measure(measure=measure, by=world.supervisor, status=SupportStatus.DELIVERED)
    assert list(excinfo.value.message_dict) == ["delivered_on"]
    measure = services.update_support_measure(
        measure=measure, by=world.supervisor, status=SupportStatus.DELIVERED, delivered_on=timezone.localdate()
    )
    measure.refresh_from_db()
    assert (measure.status, measure.amount) == (SupportStatus.DELIVERED, Decimal("2000.00"))


def test_assignment_only_to_a_supervisor_of_the_unit(world):
    case = case_in(world, S.INTAKE)
    with pytest.raises(ValidationError):
        services.assign_case(
            case=case, by=world.supervisor, expected_version=case.version, assignee=world.sibling_supervisor
        )
    case = services.assign_case(
        case=case, by=world.supervisor, expected_version=case.version, assignee=world.county_supervisor
    )
    assert case.assigned_to == world.county_supervisor


def test_findings_and_rectification(world):
    case = case_in(world, S.SUPERVISION)
    finding = services.raise_finding(
        case=case, by=world.supervisor, problem=FindingProblem.PROTRACTED, detail="超期未决"
    )
    finding = services.rectify_finding(
        finding=finding, by=world.supervisor, officers_held_accountable=2, accountability_note="通报批评"
    )
    assert (finding.officers_held_accountable, finding.rectified_at is not None) == (2, True)
    with pytest.raises(ValidationError):
        services.rectify_finding(finding=finding, by=world.supervisor)


def test_submission_notifies_the_nearest_supervisors_after_commit(world, django_capture_on_commit_callbacks):
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    # Two jobs: the notification, and the welfare check of the officers listed (cases/welfare.py).
    assert len(callbacks) == 2
    assert sorted(OutboxMessage.objects.values_list("task", flat=True)) == [
        "cases.check_officer_welfare",
        "cases.deliver_event_notifications",
    ]
    case.refresh_from_db()
    sentence = (
        f"{world.officer.full_name} submitted {case.reference} to the rights-protection office — review it by "
        f"{due_day(case.stage_due_at)}."
    )
    assert list(Notification.objects.values_list("recipient__username", "case", "verb")) == [
        ("county_supervisor", case.pk, sentence)
    ]
    assert [m.to for m in mail.outbox] == [[world.county_supervisor.email]]


def test_supervisor_actions_notify_the_officers_once_even_if_delivered_twice(world, django_capture_on_commit_callbacks):
    case = case_in(world, S.INTAKE)
    with django_capture_on_commit_callbacks(execute=True):
        services.refer_case(
            case=case, by=world.supervisor, expected_version=case.version, track=Track.CRIMINAL, to_unit=world.county
        )
    event = CaseEvent.objects.filter(case=case, action="refer").get()
    assert deliver_for_event(event.pk) == 0
    assert list(Notification.objects.filter(event=event).values_list("recipient__username", flat=True)) == ["officer"]
    assert len(mail.outbox) == 1


def test_nothing_is_notified_when_the_transaction_rolls_back(world, django_capture_on_commit_callbacks):
    case = draft(world, summary="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    assert callbacks == []
    assert Notification.objects.count() == 0


def test_paths_cover_every_status():
    assert set(PATH) == set(S.values)


def test_a_new_draft_counts_the_filer_in_the_read_model(world):
    case = draft(world)
    case.refresh_from_db()
    assert case.max_injury_rank == 0
