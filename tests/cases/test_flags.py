"""The flag scans through the services: raising, resolving, idempotency, digests, locks and the read model."""

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import flagging, notifications, outbox, services, tasks
from cases.choices import (
    CaseStatus,
    Disposition,
    EventKind,
    FlagKind,
    IncidentKind,
    InjuryGrade,
    NoSuspectReason,
    Track,
)
from cases.flagging import apply, scan
from cases.flagging.plan import plan_for
from cases.flagging.snapshot import load_snapshots
from cases.models import Case, CaseEvent, Flag, Notification
from cases.rules.presentation import describe_flag
from tests.factories import case_in

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))
DAY = timedelta(days=1)


@pytest.fixture
def clock(monkeypatch):
    """Freeze the services' clock at ``T0``; ``clock(at)`` moves it."""

    def set_clock(at: datetime) -> datetime:
        monkeypatch.setattr("django.utils.timezone.now", lambda: at)
        return at

    set_clock(T0)
    return set_clock


def downgraded(world, **details) -> Case:
    """A violent attack on an officer on duty (slight injury) handled with a fine: R1 flags it."""
    case = case_in(world, CaseStatus.SUPERVISION, **details)
    services.update_involved_officer(officer=case.officers.get(), by=world.supervisor, injury=InjuryGrade.SLIGHT)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(
        suspect=suspect, by=world.supervisor, disposition=Disposition.ADMIN_FINE, lenient_reason="forgiveness"
    )
    return Case.objects.get(pk=case.pk)


def digests() -> list:
    return [m for m in mail.outbox if "need your attention" in m.subject or "needs your attention" in m.subject]


def flag_events(case: Case) -> list[tuple[str, str]]:
    return list(
        CaseEvent.objects.filter(case=case, kind__in=[EventKind.FLAG_RAISED, EventKind.FLAG_RESOLVED])
        .order_by("at", "id")
        .values_list("kind", "data__rule")
    )


def test_a_disposition_change_checks_the_case_on_commit_and_a_correction_resolves_the_flag(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = downgraded(world)
    case.refresh_from_db()
    flag = Flag.objects.get(case=case)
    assert (flag.kind, flag.rule_code, flag.resolved_at) == (FlagKind.DOWNGRADED, "R1", None)
    assert flag.detail["facts"]["outcome"] == Disposition.ADMIN_FINE
    assert (case.is_downgraded, case.expected_min_rank, case.flags_checked_version) == (True, 9, case.version)
    assert flag_events(case) == [(EventKind.FLAG_RAISED, "R1")]
    (digest,) = digests()
    assert digest.to == [world.county_supervisor.email]
    assert case.reference in digest.body

    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(
            suspect=case.suspects.get(), by=world.supervisor, disposition=Disposition.CONVICTED_277_5_BASIC
        )
    flag.refresh_from_db()
    case.refresh_from_db()
    assert flag.resolved_at is not None
    assert (case.is_downgraded, case.expected_min_rank) == (False, 9)
    assert flag_events(case) == [(EventKind.FLAG_RAISED, "R1"), (EventKind.FLAG_RESOLVED, "R1")]
    assert len(digests()) == 1  # resolving tells nobody


def test_a_pending_disposition_never_flags(world, django_capture_on_commit_callbacks):
    case = case_in(world, CaseStatus.SUPERVISION)
    services.update_involved_officer(officer=case.officers.get(), by=world.supervisor, injury=InjuryGrade.SLIGHT)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(suspect=suspect, by=world.supervisor, disposition=Disposition.AWAITING_TRIAL)
    case.refresh_from_db()
    assert not Flag.objects.filter(case=case).exists()
    assert (case.is_downgraded, case.expected_min_rank) == (False, 9)


def test_scanning_twice_raises_nothing_new_and_sends_nothing_twice(world, django_capture_on_commit_callbacks):
    cases = [downgraded(world), downgraded(world), case_in(world, CaseStatus.INTAKE)]
    later = timezone.now() + 20 * DAY
    with django_capture_on_commit_callbacks(execute=True):
        first = flagging.flag_cases(now=later)
    # Two downgraded, each also stalled? No: supervision lasts 60 days. All three are idle; the intake is stalled.
    assert (first.raised, first.resolved) == (6, 0)
    state = (
        list(Flag.objects.order_by("id").values_list("id", "resolved_at")),
        CaseEvent.objects.count(),
        Notification.objects.count(),
        len(mail.outbox),
    )
    for full in (False, True):
        with django_capture_on_commit_callbacks(execute=True):
            again = flagging.flag_cases(now=later, full=full)
        assert (again.raised, again.resolved, again.warnings, again.notifications) == (0, 0, 0, 0)
        assert state == (
            list(Flag.objects.order_by("id").values_list("id", "resolved_at")),
            CaseEvent.objects.count(),
            Notification.objects.count(),
            len(mail.outbox),
        )
    assert {c.pk for c in cases} == set(Flag.objects.values_list("case_id", flat=True))


def test_one_digest_per_supervisor_per_run(world, django_capture_on_commit_callbacks):
    first, second = downgraded(world), downgraded(world)
    mine = downgraded(world)
    services.assign_case(case=mine, by=world.supervisor, expected_version=None, assignee=world.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        flagging.flag_cases()
    by_recipient = {m.to[0]: m for m in digests()}
    assert sorted(by_recipient) == sorted([world.county_supervisor.email, world.supervisor.email])
    county = by_recipient[world.county_supervisor.email]
    assert county.subject == "RightsGuard: 2 flags need your attention"
    assert first.reference in county.body
    assert second.reference in county.body
    assert mine.reference not in county.body
    assert by_recipient[world.supervisor.email].subject == "RightsGuard: 1 flag needs your attention"
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_the_digest_sweeper_mails_what_a_crashed_run_left_behind(world):
    downgraded(world)
    flagging.flag_cases()  # its on-commit digest never runs here: as if the process died after the commit
    assert digests() == []
    assert notifications.deliver_flag_digests() == 1
    assert notifications.deliver_flag_digests() == 0
    assert len(digests()) == 1


def test_stalled_resolves_when_the_stage_moves_on(world, clock):
    case = case_in(world, CaseStatus.INTAKE)
    flagging.flag_cases(now=clock(T0 + 11 * DAY))
    stalled = Flag.objects.get(case=case, kind=FlagKind.STALLED)
    assert Case.objects.get(pk=case.pk).is_stalled
    case = services.refer_case(
        case=Case.objects.get(pk=case.pk),
        by=world.supervisor,
        expected_version=None,
        track=Track.ADMINISTRATIVE,
        to_unit=world.county,
    )
    flagging.flag_cases(now=clock(T0 + 11 * DAY + timedelta(hours=1)))
    stalled.refresh_from_db()
    case.refresh_from_db()
    assert stalled.resolved_at == T0 + 11 * DAY + timedelta(hours=1)
    assert not case.is_stalled
    assert ("flag_resolved", "STALLED") in flag_events(case)


def test_idle_flag_and_its_resolution_by_activity(world, clock):
    case = case_in(world, CaseStatus.SUPERVISION)
    flagging.flag_cases(now=T0 + 14 * DAY)
    assert not Flag.objects.filter(case=case).exists()
    flagging.flag_cases(now=T0 + 14 * DAY + timedelta(seconds=1))
    idle = Flag.objects.get(case=case)
    assert (idle.kind, idle.rule_code) == (FlagKind.IDLE, "IDLE")
    clock(T0 + 15 * DAY)
    services.add_note(case=case, by=world.supervisor, text="Called the handling unit")
    flagging.flag_cases(now=T0 + 15 * DAY)
    idle.refresh_from_db()
    assert idle.resolved_at == T0 + 15 * DAY
    assert not Case.objects.get(pk=case.pk).is_idle


def test_idle_days_is_a_setting(world, clock, settings):
    settings.RIGHTSGUARD_IDLE_DAYS = 3
    case = case_in(world, CaseStatus.SUPERVISION)
    flagging.flag_cases(now=T0 + 3 * DAY + timedelta(seconds=1))
    assert Flag.objects.get(case=case).detail["days"] == 3


def test_overdue_referral_and_its_resolution_by_acknowledgement(world, clock):
    case = case_in(world, CaseStatus.REFERRED)  # due in 7 days
    flagging.flag_cases(now=T0 + 7 * DAY + timedelta(seconds=1))
    open_kinds = set(Flag.objects.filter(case=case, resolved_at__isnull=True).values_list("kind", flat=True))
    assert open_kinds == {FlagKind.OVERDUE_REFERRAL, FlagKind.STALLED}
    overdue = Flag.objects.get(case=case, kind=FlagKind.OVERDUE_REFERRAL)
    assert overdue.detail == {
        "referrals": [{"id": case.referrals.get().pk, "due_at": (T0 + 7 * DAY).astimezone(UTC).isoformat()}]
    }
    assert Case.objects.get(pk=case.pk).has_overdue_referral
    clock(T0 + 8 * DAY)
    services.acknowledge_referral(
        case=Case.objects.get(pk=case.pk), by=world.supervisor, expected_version=None, external_reference="X"
    )
    flagging.flag_cases(now=T0 + 8 * DAY)
    assert not Flag.objects.filter(case=case, resolved_at__isnull=True).exists()
    case.refresh_from_db()
    assert (case.has_overdue_referral, case.is_stalled) == (False, False)


def test_a_scan_with_nothing_to_do_runs_the_same_queries_however_many_cases(world):
    def idle_scan_queries() -> int:
        flagging.flag_cases()
        with CaptureQueriesContext(connection) as ctx:
            result = flagging.flag_cases()
        assert result.candidates == 0
        return len(ctx.captured_queries)

    downgraded(world)
    few = idle_scan_queries()
    for _ in range(4):
        downgraded(world)
        case_in(world, CaseStatus.REFERRED)
    assert idle_scan_queries() == few


def test_only_changed_cases_are_evaluated(world):
    cases = [downgraded(world) for _ in range(3)]
    assert flagging.flag_cases().evaluated == 3
    services.add_note(case=cases[1], by=world.supervisor, text="Spoke to the officer")
    result = flagging.flag_cases()
    assert (result.candidates, result.evaluated, result.raised) == (1, 1, 0)
    assert flagging.flag_cases().evaluated == 0


def test_evaluating_a_batch_takes_a_fixed_number_of_queries(world):
    downgraded(world)
    with CaptureQueriesContext(connection) as one:
        load_snapshots(list(Case.objects.values_list("pk", flat=True)), timezone.now())
    for _ in range(3):
        downgraded(world)
    with CaptureQueriesContext(connection) as four:
        load_snapshots(list(Case.objects.values_list("pk", flat=True)), timezone.now())
    assert len(four.captured_queries) == len(one.captured_queries)


def test_a_duplicate_flag_is_stopped_by_the_constraint_and_the_case_left_for_the_next_run(world, monkeypatch):
    case = downgraded(world)
    flagging.flag_cases()
    services.add_note(case=case, by=world.supervisor, text="New information")
    real = apply.diff_for
    # A writer that does not see the open flag (as a scan without the case lock would not).
    blind = lambda open_flags, desired: real({}, desired)  # noqa: E731
    monkeypatch.setattr(scan, "diff_for", blind)
    monkeypatch.setattr(apply, "diff_for", blind)
    result = flagging.flag_cases()
    assert (result.failed, result.raised) == (1, 0)
    assert Flag.objects.filter(case=case, resolved_at__isnull=True).count() == 1
    assert flag_events(case) == [(EventKind.FLAG_RAISED, "R1")]
    monkeypatch.setattr(scan, "diff_for", real)
    monkeypatch.setattr(apply, "diff_for", real)
    assert flagging.flag_cases().evaluated == 1  # still unchecked: the next run settles it


@pytest.mark.django_db(transaction=True)
def test_a_case_a_user_holds_locked_is_skipped_and_taken_next_time(postgres_only, world, monkeypatch):
    # Real commits here: keep the services' on-commit check from flagging the cases before the scan does, and the
    # check the scan asks for the skipped case from running (eagerly, in this thread) while the lock is held.
    monkeypatch.setattr(outbox, "check_flags_on_commit", lambda case: None)
    monkeypatch.setattr(outbox, "check_case_flags_on_commit", lambda case_id: None)
    case = downgraded(world)
    other = downgraded(world)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case.pk)
                locked.set()
                release.wait(timeout=300)  # released as soon as the scan below is done
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=60)
        result = flagging.flag_cases()
        assert (result.skipped_locked, result.raised) == (1, 1)
        assert list(Flag.objects.values_list("case_id", flat=True)) == [other.pk]
    finally:
        release.set()
        holder.join(timeout=60)
    assert not holder.is_alive()
    assert flagging.flag_cases().raised == 1
    assert set(Flag.objects.values_list("case_id", flat=True)) == {case.pk, other.pk}


def test_acknowledging_records_who_and_when_and_nothing_else(world, clock):
    case = downgraded(world)
    flagging.flag_cases(now=T0)
    flag = Flag.objects.get(case=case)
    version = Case.objects.get(pk=case.pk).version
    clock(T0 + DAY)
    acknowledged = services.acknowledge_flag(flag=flag, by=world.county_supervisor)
    assert (acknowledged.acknowledged_by, acknowledged.acknowledged_at) == (world.county_supervisor, T0 + DAY)
    clock(T0 + 2 * DAY)
    again = services.acknowledge_flag(flag=flag, by=world.supervisor)
    assert (again.acknowledged_by, again.acknowledged_at) == (world.county_supervisor, T0 + DAY)
    assert again.resolved_at is None
    case = Case.objects.get(pk=case.pk)
    assert (case.version, case.last_activity_at) == (version, T0)
    for outsider in (world.sibling_supervisor, world.officer, world.admin):
        with pytest.raises(PermissionDenied):
            services.acknowledge_flag(flag=flag, by=outsider)


def test_flags_read_with_their_rule_basis_and_facts(world):
    case = downgraded(world)
    flagging.flag_cases()
    view = describe_flag(Flag.objects.get(case=case))
    assert (view.rule_code, view.rule_version, view.kind_label) == ("R1", "2025-01-18", "Downgraded")
    assert view.title == "Violent attack on an officer on duty"
    assert "Art. 1(1)" in view.basis
    assert (view.basis_is_law, view.caveat) == (True, "")
    assert view.expected == "Criminal case filed"
    assert view.problems == ("The recorded outcome ranks below the minimum the facts call for.",)
    assert ("Worst injury", "Slight injury") in view.facts
    assert ("Outcome recorded", "Administrative fine") in view.facts

    obstruction = case_in(world, CaseStatus.SUPERVISION, kind="obstruction")
    suspect = services.add_suspect(case=obstruction, by=world.supervisor, name="李某")
    services.record_disposition(
        suspect=suspect, by=world.supervisor, disposition=Disposition.NO_ACTION, lenient_reason="insufficient_evidence"
    )
    flagging.flag_cases()
    unverified = describe_flag(Flag.objects.get(case=obstruction, rule_code="R7"))
    # Resting partly on an inference, R7 is a review prompt, never a downgrade.
    assert (unverified.kind, unverified.kind_label) == (FlagKind.REVIEW_PROMPT, "Review prompt")
    assert not unverified.basis_is_law
    assert unverified.caveat
    assert (
        "Minimum outcome set at an administrative punishment (a warning or more)",
        "I",
        "the office's inference",
    ) in unverified.sources


def test_open_flags_of_visible_cases(world):
    from cases.selectors import cases_visible_to

    case = downgraded(world)
    flagging.flag_cases()
    visible = flagging.open_flags_of(cases_visible_to(world.supervisor))
    assert list(visible.values_list("case_id", flat=True)) == [case.pk]
    assert not flagging.open_flags_of(cases_visible_to(world.sibling_supervisor)).exists()


def test_the_management_command_and_the_tasks_run_the_same_scan(world):
    case = downgraded(world)
    out = io.StringIO()
    call_command("flag_cases", stdout=out)
    assert "raised=1" in out.getvalue()
    assert tasks.flag_cases.delay().get() == {
        "ran": True,
        "raised": 0,
        "resolved": 0,
        "seconds": pytest.approx(0, abs=5),
    }
    services.record_disposition(
        suspect=case.suspects.get(), by=world.supervisor, disposition=Disposition.CONVICTED_277_5_BASIC
    )
    assert tasks.check_case_flags.delay(case.pk).get() == 1
    out = io.StringIO()
    call_command("flag_cases", "--case", str(case.pk), "--now", "2026-12-01T09:00:00+08:00", stdout=out)
    assert "evaluated=1" in out.getvalue()


def test_a_disposition_lowered_through_a_pending_state_without_a_reason_is_flagged(world):
    case = case_in(world, CaseStatus.SUPERVISION, kind="other")
    suspect = services.add_suspect(case=case, by=world.supervisor, name="王某")
    for disposition in (Disposition.CONVICTED_277_1, Disposition.APPEAL_PENDING, Disposition.ADMIN_FINE):
        services.record_disposition(
            suspect=suspect, by=world.supervisor, disposition=disposition, lenient_reason="insufficient_evidence"
        )
    flagging.flag_cases()
    flag = Flag.objects.get(case=case)
    assert (flag.kind, flag.rule_code, flag.detail["problems"]) == (
        FlagKind.REVIEW_PROMPT,
        "LOWERED",
        ["lowered_without_reason"],
    )
    assert flag.detail["facts"]["details"] == [
        {"suspect": suspect.pk, "from": Disposition.CONVICTED_277_1, "to": Disposition.ADMIN_FINE}
    ]
    services.record_disposition(
        suspect=suspect, by=world.supervisor, disposition=Disposition.ADMIN_FINE, lowered_reason="Acquitted on appeal"
    )
    flagging.flag_cases()
    flag.refresh_from_db()
    assert flag.resolved_at is not None


def test_a_first_run_over_existing_cases_can_stay_quiet(world):
    case = downgraded(world)
    out = io.StringIO()
    call_command("flag_cases", "--no-notify", stdout=out)
    assert "raised=1 resolved=0 warnings=0 notifications=0" in out.getvalue()
    assert Flag.objects.filter(case=case, resolved_at__isnull=True).count() == 1
    assert flag_events(case) == [(EventKind.FLAG_RAISED, "R1")]
    assert not Notification.objects.exists()


def test_concluding_checks_the_case_at_once(world, django_capture_on_commit_callbacks):
    """R19 judges how an untrue complaint ended: it is raised when the case is concluded without a clarification
    notice, not only at the next scan."""
    case = case_in(world, CaseStatus.SUPERVISION, kind=IncidentKind.UNTRUE_COMPLAINT)
    assert not Flag.objects.filter(case=case).exists()
    with django_capture_on_commit_callbacks(execute=True):
        case = services.conclude_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            reason="举报失实，无人需要处理",
            no_suspect_reason=NoSuspectReason.NOT_AN_OFFENCE,
        )
    flag = Flag.objects.get(case=case, resolved_at__isnull=True)
    assert (case.status, flag.kind, flag.rule_code) == (CaseStatus.LOOK_BACK, FlagKind.REVIEW_PROMPT, "R19")


def stage_warnings() -> list[tuple[int, int]]:
    """The stage-clock warnings sent (the flag notifications without an event), as (case, recipient)."""
    return sorted(Notification.objects.filter(event__isnull=True).values_list("case_id", "recipient_id"))


@pytest.mark.parametrize("cases", [1, 2])
def test_a_warning_sent_by_the_case_check_while_the_scan_runs_is_not_sent_again(
    world, clock, monkeypatch, request, cases
):
    """The on-commit check of one case (a worker) warns it between the scan's read of its batch and the scan's lock:
    the case's version did not move (a check bumps none), but the warning is on record, so the scan sends none. One
    case goes through ``apply_locked``, two through ``apply_batch`` (PostgreSQL)."""
    if cases == 2:
        request.getfixturevalue("postgres_only")  # several cases are written together on PostgreSQL only
    referred = [case_in(world, CaseStatus.REFERRED) for _ in range(cases)]  # referral due in 7 days: warned at 5.25
    now = T0 + 5.5 * DAY
    loaded = scan.load_snapshots
    checked: list[int] = []

    def load_then_the_check_runs(case_ids, at):
        snapshots = loaded(case_ids, at)
        monkeypatch.setattr(scan, "load_snapshots", loaded)
        checked.append(flagging.check_case_flags(case_id=referred[0].pk, now=now).warnings)
        return snapshots

    monkeypatch.setattr(scan, "load_snapshots", load_then_the_check_runs)
    result = flagging.flag_cases(now=now)
    assert checked == [1]
    recipients = sorted({uid for _case, uid in stage_warnings()})
    assert recipients == [world.county_supervisor.pk]  # the supervisors nearest the station
    assert stage_warnings() == [(case.pk, world.county_supervisor.pk) for case in referred]  # each case warned once
    assert result.warnings == cases - 1
    assert {c.sla_warned_at for c in Case.objects.filter(pk__in=[c.pk for c in referred])} <= {now}


def test_a_case_marked_evaluated_keeps_a_warning_the_case_check_sent_meanwhile(world, clock, monkeypatch):
    """The scan began just before the 75 % point (no warning due by its clock, nothing to write but the read model);
    the case's own check, a moment later, warns it. Marking the case evaluated must not put back the read model the
    scan read, "not warned, warn at 5.25 days", or the next run warns again."""
    case = case_in(world, CaseStatus.REFERRED)  # referral due in 7 days: warned at 5.25
    loaded = scan.load_snapshots

    def load_then_the_check_runs(case_ids, at):
        snapshots = loaded(case_ids, at)
        monkeypatch.setattr(scan, "load_snapshots", loaded)
        assert flagging.check_case_flags(case_id=case.pk, now=T0 + 5.3 * DAY).warnings == 1
        return snapshots

    monkeypatch.setattr(scan, "load_snapshots", load_then_the_check_runs)
    assert flagging.flag_cases(now=T0 + 5.2 * DAY).warnings == 0
    assert stage_warnings() == [(case.pk, world.county_supervisor.pk)]
    stored = Case.objects.get(pk=case.pk)
    assert (stored.sla_warned_at, stored.sla_warn_at) == (T0 + 5.3 * DAY, None)
    assert flagging.flag_cases(now=T0 + 5.4 * DAY).warnings == 0
    assert stage_warnings() == [(case.pk, world.county_supervisor.pk)]


@contextmanager
def held_by_a_user(case: Case) -> Iterator[None]:
    """Another connection holds the case's row lock (a user in the middle of an action) until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case.pk)
                locked.set()
                release.wait(timeout=300)  # released as soon as the block is done
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=60)
        yield
    finally:
        release.set()
        holder.join(timeout=60)
    assert not holder.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_case_a_user_holds_during_a_full_scan_is_handed_to_its_own_check(postgres_only, world, monkeypatch):
    """A full scan (after a rule changed) finds a case that needs a flag although nothing about it changed; a user
    holds it, so it is skipped. The periodic scans never look at it again (its version and clocks did not move): the
    scan hands it to the case's own check, which waits for the user."""
    monkeypatch.setattr(outbox, "check_flags_on_commit", lambda case: None)
    handed: list[int] = []
    monkeypatch.setattr(outbox, "check_case_flags_on_commit", handed.append)
    case = downgraded(world)
    # Evaluated, and found in order, under the rules before the one that flags it.
    Case.objects.filter(pk=case.pk).update(flags_checked_version=F("version"))
    with held_by_a_user(case):
        result = flagging.flag_cases(full=True)
        assert (result.skipped_locked, result.raised) == (1, 0)
    assert flagging.flag_cases().candidates == 0  # no periodic scan takes it again
    assert handed == [case.pk]
    assert tasks.check_case_flags(case.pk) == 1  # the job handed over: its flag is raised
    assert list(Flag.objects.filter(case=case).values_list("kind", "rule_code")) == [(FlagKind.DOWNGRADED, "R1")]


@pytest.mark.django_db(transaction=True)
def test_a_read_model_a_full_scan_could_not_write_is_handed_to_the_case_check(postgres_only, world, monkeypatch):
    """The same for a case whose flags stay as they are but whose read model changes (the expected minimum rank of
    a changed rule): it is marked evaluated by the batch's one UPDATE, which skips the rows users hold."""
    monkeypatch.setattr(outbox, "check_flags_on_commit", lambda case: None)
    handed: list[int] = []
    monkeypatch.setattr(outbox, "check_case_flags_on_commit", handed.append)
    case = case_in(world, CaseStatus.SUPERVISION)
    now = timezone.now()
    expected = plan_for(load_snapshots([case.pk], now)[case.pk], now).read_model["expected_min_rank"]
    Case.objects.filter(pk=case.pk).update(flags_checked_version=F("version"), expected_min_rank=99)
    with held_by_a_user(case):
        result = flagging.flag_cases(full=True)
        assert (result.skipped_locked, result.raised, result.resolved) == (1, 0, 0)
    assert Case.objects.get(pk=case.pk).expected_min_rank == 99
    assert flagging.flag_cases().candidates == 0
    assert handed == [case.pk]
    assert tasks.check_case_flags(case.pk) == 0
    assert Case.objects.get(pk=case.pk).expected_min_rank == expected


@pytest.mark.django_db(transaction=True)
def test_a_closed_case_the_sql_scan_could_not_settle_is_handed_to_the_case_check(postgres_only, world, monkeypatch):
    """The scan in SQL settles the cases whose flags stay as they are with one UPDATE per batch, which skips the rows
    users hold: such a case (a closed one, whose read model a changed rule moves) is handed to its own check too."""
    monkeypatch.setattr(outbox, "check_flags_on_commit", lambda case: None)
    handed: list[int] = []
    monkeypatch.setattr(outbox, "check_case_flags_on_commit", handed.append)
    case = case_in(world, CaseStatus.CLOSED)
    assert flagging.flag_cases(full=True, set_wise=True).evaluated == 1
    expected = Case.objects.get(pk=case.pk).expected_min_rank
    Case.objects.filter(pk=case.pk).update(expected_min_rank=99)
    with held_by_a_user(case):
        result = flagging.flag_cases(full=True, set_wise=True)
        assert (result.skipped_locked, result.evaluated, result.raised, result.resolved) == (1, 0, 0, 0)
    assert Case.objects.get(pk=case.pk).expected_min_rank == 99
    assert flagging.flag_cases().candidates == 0
    assert handed == [case.pk]
    assert tasks.check_case_flags(case.pk) == 0
    assert Case.objects.get(pk=case.pk).expected_min_rank == expected
    # Not held, the same scan settles it in SQL.
    Case.objects.filter(pk=case.pk).update(expected_min_rank=99)
    result = flagging.flag_cases(full=True, set_wise=True)
    assert (result.skipped_locked, result.evaluated) == (0, 1)
    assert Case.objects.get(pk=case.pk).expected_min_rank == expected
    assert handed == [case.pk]
