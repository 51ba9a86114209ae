"""Stage clocks: limits, major security periods, pauses (also across stage changes) and the 75 % / breach notices.

The clock is frozen by patching ``django.utils.timezone.now`` (the services read it); the scans get ``now``
explicitly.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from cases import flagging, services
from cases.choices import CaseStatus, FlagKind, PauseReason, Track
from cases.flagging.snapshot import load_snapshots
from cases.models import Case, CaseEvent, Flag, Notification, StageLimit
from cases.rules import StageClock
from tests.factories import case_in, draft

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))
DAY = timedelta(days=1)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.now = T0

    def set(self, at: datetime) -> datetime:
        self.now = at
        self.monkeypatch.setattr("django.utils.timezone.now", lambda: at)
        return at


@pytest.fixture
def clock(monkeypatch):
    c = Clock(monkeypatch)
    c.set(T0)
    return c


def stage_clock(case: Case, now: datetime) -> StageClock:
    return load_snapshots([case.pk], now)[case.pk].clock


def warnings_sent() -> int:
    """Stage-clock warnings are the flag notifications without an event."""
    return Notification.objects.filter(event__isnull=True).count()


def test_stage_clock_arithmetic():
    start = T0
    running = StageClock(started_at=start, due_at=start + 10 * DAY)
    assert running.allowed == 10 * DAY
    assert running.used(start + 4 * DAY) == 4 * DAY
    assert running.fraction_used(start + 4 * DAY) == pytest.approx(0.4)
    assert running.warn_at() == start + 7.5 * DAY
    assert not running.is_breached(start + 10 * DAY)
    assert running.is_breached(start + 10 * DAY + timedelta(seconds=1))

    # Paused 3 days and resumed: the deadline moved 3 days, the allowance did not.
    resumed = StageClock(started_at=start, due_at=start + 13 * DAY, paused_before=3 * DAY)
    assert resumed.allowed == 10 * DAY
    assert resumed.used(start + 9 * DAY) == 6 * DAY
    assert resumed.warn_at() == start + 10.5 * DAY

    # Paused now: the count stops where the pause began, and no warning instant exists.
    paused = StageClock(started_at=start, due_at=start + 10 * DAY, paused_at=start + 8 * DAY)
    assert paused.used(start + 30 * DAY) == 8 * DAY
    assert paused.fraction_used(start + 30 * DAY) == pytest.approx(0.8)
    assert paused.warn_at() is None
    assert not paused.is_breached(start + 30 * DAY)


@pytest.mark.parametrize(
    ("major", "intake_days", "referral_days"),
    [(False, 10, 7), (True, 5, 3.5)],
)
def test_major_security_period_halves_intake_and_referral_only(world, clock, major, intake_days, referral_days):
    case = case_in(world, CaseStatus.INTAKE, major_security_period=major)
    assert case.stage_due_at == T0 + intake_days * DAY
    clock.set(T0 + DAY)
    case = services.refer_case(
        case=case, by=world.supervisor, expected_version=case.version, track=Track.ADMINISTRATIVE, to_unit=world.county
    )
    assert case.stage_due_at == T0 + DAY + referral_days * DAY
    clock.set(T0 + 2 * DAY)
    case = services.acknowledge_referral(
        case=case, by=world.supervisor, expected_version=case.version, external_reference="XH-1"
    )
    assert case.stage_due_at == T0 + 2 * DAY + 30 * DAY


def test_admin_stage_limits_override_the_defaults(world, clock):
    assert StageLimit.objects.filter(stage=CaseStatus.INTAKE, track="").update(days=3) == 1
    assert case_in(world, CaseStatus.INTAKE).stage_due_at == T0 + 3 * DAY
    assert case_in(world, CaseStatus.INTAKE, major_security_period=True).stage_due_at == T0 + 1.5 * DAY


def test_pauses_across_stage_changes_and_the_notices_they_cause(world, clock):
    case = case_in(world, CaseStatus.REFERRED)  # criminal track, referral due in 7 days
    assert case.stage_due_at == T0 + 7 * DAY

    clock.set(T0 + 2 * DAY)
    case = services.pause_clock(
        case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.APPRAISAL_PENDING
    )
    clock.set(T0 + 5 * DAY)
    case = services.resume_clock(case=case, by=world.supervisor, expected_version=case.version)
    assert case.stage_due_at == T0 + 10 * DAY
    running = stage_clock(case, T0 + 6 * DAY)
    assert (running.allowed, running.paused_before, running.used(T0 + 6 * DAY)) == (7 * DAY, 3 * DAY, 3 * DAY)

    # 75 % of 7 running days is 5.25 days: with 3 days paused that is day 8.25.
    flagging.flag_cases(now=T0 + 8 * DAY)
    assert Case.objects.get(pk=case.pk).sla_warn_at == T0 + 8.25 * DAY
    assert warnings_sent() == 0
    flagging.flag_cases(now=T0 + 8.3 * DAY)
    assert warnings_sent() == 1
    flagging.flag_cases(now=T0 + 8.4 * DAY)
    assert warnings_sent() == 1
    assert Case.objects.get(pk=case.pk).sla_warn_at is None

    # Breach: the stalled flag, announced once.
    flagging.flag_cases(now=T0 + 10 * DAY + timedelta(minutes=1))
    stalled = Flag.objects.get(case=case, kind=FlagKind.STALLED)
    assert stalled.resolved_at is None
    assert Notification.objects.filter(event__data__flag=stalled.pk).count() == 1

    # Pausing a stalled stage resolves the flag; resuming past the new deadline raises it again, quietly.
    clock.set(T0 + 10.5 * DAY)
    case = services.pause_clock(
        case=Case.objects.get(pk=case.pk),
        by=world.supervisor,
        expected_version=None,
        reason=PauseReason.SUSPECT_AT_LARGE,
    )
    flagging.flag_cases(now=T0 + 10.5 * DAY)
    assert Flag.objects.get(pk=stalled.pk).resolved_at == T0 + 10.5 * DAY
    clock.set(T0 + 11 * DAY)
    case = services.resume_clock(case=case, by=world.supervisor, expected_version=case.version)
    assert case.stage_due_at == T0 + 10.5 * DAY
    flagging.flag_cases(now=T0 + 11 * DAY)
    again = Flag.objects.get(case=case, kind=FlagKind.STALLED, resolved_at__isnull=True)
    assert again.pk != stalled.pk
    assert Notification.objects.filter(event__data__flag=again.pk).count() == 0
    kinds = list(
        CaseEvent.objects.filter(case=case, kind__in=["flag_raised", "flag_resolved"], data__kind=FlagKind.STALLED)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["flag_raised", "flag_resolved", "flag_raised"]

    # The next stage: a fresh clock; the previous stage's pauses do not count, its flag resolves, and its
    # 75 % warning can be sent again.
    clock.set(T0 + 12 * DAY)
    case = services.acknowledge_referral(
        case=case, by=world.supervisor, expected_version=case.version, external_reference="XH-9"
    )
    assert case.stage_due_at == T0 + 72 * DAY
    fresh = stage_clock(case, T0 + 12 * DAY)
    assert (fresh.allowed, fresh.paused_before) == (60 * DAY, timedelta(0))
    flagging.flag_cases(now=T0 + 12 * DAY)
    assert Flag.objects.get(pk=again.pk).resolved_at == T0 + 12 * DAY
    assert Case.objects.get(pk=case.pk).sla_warn_at == T0 + 57 * DAY
    flagging.flag_cases(now=T0 + 57 * DAY)
    assert warnings_sent() == 2


def test_a_pause_does_not_survive_a_stage_change(world, clock):
    case = case_in(world, CaseStatus.REFERRED)
    clock.set(T0 + DAY)
    case = services.pause_clock(case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.OTHER)
    clock.set(T0 + 3 * DAY)
    case = services.acknowledge_referral(
        case=case, by=world.supervisor, expected_version=case.version, external_reference="XH-2"
    )
    assert (case.paused_at, case.stage_due_at) == (None, T0 + 63 * DAY)
    flagging.flag_cases(now=T0 + 63 * DAY + timedelta(seconds=1))
    assert Case.objects.get(pk=case.pk).is_stalled


def test_paused_cases_are_never_stalled(world, clock):
    case = case_in(world, CaseStatus.INTAKE)
    case = services.pause_clock(case=case, by=world.supervisor, expected_version=case.version, reason=PauseReason.OTHER)
    result = flagging.flag_cases(now=T0 + 30 * DAY)
    case.refresh_from_db()
    assert (case.is_stalled, case.is_idle) == (False, True)
    assert result.raised == 1


def test_a_draft_has_no_clock_and_no_flags(world, clock):
    case = draft(world)
    assert flagging.flag_cases(now=T0 + 100 * DAY).candidates == 0
    assert not Flag.objects.filter(case=case).exists()
