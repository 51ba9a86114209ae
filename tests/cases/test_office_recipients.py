"""Who receives the office's notices about a case (``policy.office_recipients``): its assignee while they still
supervise its unit, otherwise the unit's supervisors, as for an unassigned case. A former supervisor (membership
revoked, moved to another unit, or deactivated) gets nothing: not the event notifications, not the flags the scan
raises, not the stalled-stage flag or the 75 % warning, and not a digest e-mail of what was written for them before."""

from datetime import timedelta

import pytest
from django.core import mail

from accounts import services as account_services
from accounts.models import Membership, Role
from accounts.selectors import actor_for
from cases import flagging, messages, notifications, policy, services
from cases.choices import CaseStatus, EventKind, FindingProblem, FlagKind, NotificationDelivery, Track
from cases.models import Case, CaseEvent, Notification
from cases.services.inbox import set_notification_preferences
from tests.cases.test_flags import digests, downgraded
from tests.factories import case_in

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def assigned_to_city_supervisor(world, case: Case) -> Case:
    """The city supervisor handles the station's case; without an assignee, its notices go to the county office."""
    return services.assign_case(case=case, by=world.county_supervisor, expected_version=None, assignee=world.supervisor)


def leave(world, how: str) -> None:
    """The city supervisor stops supervising the case's unit."""
    membership = Membership.objects.get(user=world.supervisor, role=Role.SUPERVISOR)
    if how == "deactivated":
        account_services.deactivate_user(user=world.supervisor)
        return
    account_services.revoke_membership(membership=membership)
    if how == "moved":
        account_services.grant_membership(user=world.supervisor, unit=world.sibling_province, role=Role.SUPERVISOR)
    elif how == "now_an_administrator":
        # Still reads the case (an administrator above it), but no longer supervises it.
        account_services.grant_membership(user=world.supervisor, unit=world.province, role=Role.ADMIN)


LEAVINGS = ["revoked", "moved", "deactivated", "now_an_administrator"]


def recipients(case: Case, **filters) -> list[int]:
    return sorted(Notification.objects.filter(case=case, **filters).values_list("recipient_id", flat=True))


# --- the rule ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", LEAVINGS)
def test_the_rule_hands_a_former_supervisors_case_back_to_the_unit(world, how):
    path = world.station.path
    assert policy.office_recipients(unit_path=path, assignee=actor_for(world.supervisor)) == [world.supervisor.pk]
    assert policy.office_recipients(unit_path=path, assignee=None) == [world.county_supervisor.pk]
    assert policy.handler_of(unit_path=path, assignee=actor_for(world.supervisor)) == [world.supervisor.pk]
    leave(world, how)
    world.supervisor.refresh_from_db()
    former = actor_for(world.supervisor)
    assert policy.in_charge_of(former, path) is False
    assert policy.office_recipients(unit_path=path, assignee=former) == [world.county_supervisor.pk]
    assert policy.handler_of(unit_path=path, assignee=former) == []
    # The same question that let them be assigned the case.
    assert policy.can_be_assigned(former, case_in(world, CaseStatus.INTAKE)) is False


# --- event notifications -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", LEAVINGS)
def test_a_withdrawal_goes_to_the_units_supervisors_not_the_former_assignee(
    world, how, django_capture_on_commit_callbacks
):
    case = assigned_to_city_supervisor(world, case_in(world, CaseStatus.INTAKE))
    leave(world, how)
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_case(case=case, by=world.officer, expected_version=None, reason="Filed twice")
    assert recipients(case, event__action="withdraw") == [world.county_supervisor.pk]


def test_a_finding_goes_to_the_units_supervisors_once_the_assignee_moved(world, django_capture_on_commit_callbacks):
    case = assigned_to_city_supervisor(world, case_in(world, CaseStatus.SUPERVISION))
    leave(world, "moved")
    with django_capture_on_commit_callbacks(execute=True):
        services.raise_finding(
            case=case, by=world.ministry_supervisor, problem=FindingProblem.PROTRACTED, detail="久拖"
        )
    event = CaseEvent.objects.get(case=case, kind=EventKind.FINDING)
    assert notifications.recipients_for(event) == {world.county_supervisor.pk}
    assert recipients(case, event=event) == [world.county_supervisor.pk]


def test_a_move_no_longer_tells_the_former_handler(world, django_capture_on_commit_callbacks):
    case = assigned_to_city_supervisor(world, case_in(world, CaseStatus.INTAKE))
    leave(world, "revoked")
    with django_capture_on_commit_callbacks(execute=True):
        services.refer_case(
            case=case,
            by=world.county_supervisor,
            expected_version=None,
            track=Track.CRIMINAL,
            to_unit=world.county,
        )
    # The officers hear of it; there is no handler left to tell.
    assert recipients(case, event__action="refer") == [world.officer.pk]


def test_a_handler_still_in_charge_hears_of_a_move_and_of_the_offices_news(world, django_capture_on_commit_callbacks):
    case = assigned_to_city_supervisor(world, case_in(world, CaseStatus.INTAKE))
    with django_capture_on_commit_callbacks(execute=True):
        case = services.refer_case(
            case=case,
            by=world.county_supervisor,
            expected_version=None,
            track=Track.CRIMINAL,
            to_unit=world.county,
        )
    assert recipients(case, event__action="refer") == sorted([world.officer.pk, world.supervisor.pk])


# --- the flag scan: flags, stalled stages, 75 % warnings ---------------------------------------------------------


@pytest.mark.parametrize("how", LEAVINGS)
def test_a_flag_on_a_former_supervisors_case_goes_to_the_units_supervisors(
    world, how, django_capture_on_commit_callbacks
):
    case = assigned_to_city_supervisor(world, downgraded(world))
    leave(world, how)
    with django_capture_on_commit_callbacks(execute=True):
        result = flagging.flag_cases()
    assert result.raised == 1
    assert recipients(case, event__kind=EventKind.FLAG_RAISED) == [world.county_supervisor.pk]
    (digest,) = digests()
    assert digest.to == [world.county_supervisor.email]
    assert case.reference in digest.body


def test_a_flag_on_a_case_whose_assignee_still_supervises_it_goes_to_the_assignee_alone(world):
    case = assigned_to_city_supervisor(world, downgraded(world))
    flagging.flag_cases()
    assert recipients(case, event__kind=EventKind.FLAG_RAISED) == [world.supervisor.pk]


@pytest.mark.parametrize("how", LEAVINGS)
def test_the_75_percent_warning_and_the_stalled_flag_go_to_the_units_supervisors(world, how):
    case = assigned_to_city_supervisor(world, case_in(world, CaseStatus.INTAKE))  # ten days to review it
    leave(world, how)
    due = case.stage_due_at
    result = flagging.flag_cases(now=due - 2 * timedelta(days=1))
    assert result.warnings == 1
    assert recipients(case, message=messages.STAGE_WARNING) == [world.county_supervisor.pk]
    flagging.flag_cases(now=due + HOUR)
    assert recipients(case, message=messages.FLAG, params__kind=FlagKind.STALLED) == [world.county_supervisor.pk]
    assert not Notification.objects.filter(recipient=world.supervisor).exists()


# --- the digests, at send time -----------------------------------------------------------------------------------


@pytest.mark.parametrize("delivery", [NotificationDelivery.EMAIL, NotificationDelivery.DAILY])
def test_a_digest_does_not_mail_a_prompt_to_someone_who_stopped_supervising_the_case_after_it_was_written(
    world, delivery
):
    """The scan wrote the flag and the warning for the assignee; before the digest went out (the on-commit digest
    failed, or they chose the daily one) they stopped supervising the unit, though they still read its cases as an
    administrator above it. Their prompts are left in-app, unsent; the case's own supervisors had theirs."""
    set_notification_preferences(user=world.supervisor, deliveries={"flags": delivery, "stage_warnings": delivery})
    flagged = assigned_to_city_supervisor(world, downgraded(world))
    warned = assigned_to_city_supervisor(world, case_in(world, CaseStatus.INTAKE))
    flagging.flag_cases(now=warned.stage_due_at - 2 * timedelta(days=1))
    mine = list(Notification.objects.filter(recipient=world.supervisor).values_list("message", "case_id"))
    assert sorted(mine) == sorted([(messages.FLAG, flagged.pk), (messages.STAGE_WARNING, warned.pk)])
    leave(world, "now_an_administrator")
    assert notifications.deliver_flag_digests() == 0
    assert notifications.deliver_daily_digests() == 0
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=world.supervisor, emailed_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=world.supervisor, email_attempts__gt=0).count() == 0


def test_a_digest_still_mails_the_prompts_of_a_supervisor_in_charge(world):
    set_notification_preferences(user=world.supervisor, deliveries={"flags": NotificationDelivery.DAILY})
    case = assigned_to_city_supervisor(world, downgraded(world))
    flagging.flag_cases()
    assert notifications.deliver_daily_digests() == 1
    (sent,) = mail.outbox
    assert sent.to == [world.supervisor.email]
    assert case.reference in sent.body
