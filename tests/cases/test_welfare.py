"""Welfare prompts (issue 21): an officer attacked three or more times within twelve months is pointed out to the
rights-protection supervisors of their unit, once per twelve months, through the outbox after the change commits."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation

from cases import services, welfare
from cases.choices import CaseStatus, NotificationDelivery, NotificationKind
from cases.models import Case, Notification, WelfarePrompt
from cases.services.inbox import notification_preference_errors
from cases.tasks import check_officer_welfare
from tests.factories import World, case_in, complete_details

pytestmark = pytest.mark.django_db


def attack(world: World, days_ago: int, run, **details) -> Case:
    """A case the officer files about an attack ``days_ago`` days ago, submitted; its jobs run on commit."""
    with run(execute=True):
        return case_in(world, CaseStatus.INTAKE, occurred_at=timezone.now() - timedelta(days=days_ago), **details)


def welfare_notes() -> list[tuple[str, str, str, str]]:
    return list(
        Notification.objects.filter(kind=NotificationKind.WELFARE)
        .order_by("id")
        .values_list("recipient__username", "message", "delivery", "verb")
    )


def test_the_third_attack_within_twelve_months_prompts_the_units_supervisors_once(
    world, django_capture_on_commit_callbacks
):
    officer = world.officer
    attack(world, 300, django_capture_on_commit_callbacks)
    attack(world, 100, django_capture_on_commit_callbacks)
    assert WelfarePrompt.objects.count() == 0
    assert welfare_notes() == []
    mail.outbox.clear()

    third = attack(world, 1, django_capture_on_commit_callbacks)

    prompt = WelfarePrompt.objects.get()
    assert (prompt.officer_key, prompt.officer_name, prompt.case_id, prompt.attacks) == (
        f"user:{officer.pk}",
        officer.full_name,
        third.pk,
        3,
    )
    sentence = (
        f"{officer.full_name} (badge {officer.badge_number}) was attacked 3 times within twelve months, most "
        f"recently in {third.reference} — offer them psychological support."
    )
    # The supervisors of the officer's unit: the nearest office above the station (the county's), in-app only.
    assert welfare_notes() == [("county_supervisor", "welfare", NotificationDelivery.IN_APP, sentence)]
    note = Notification.objects.get(kind=NotificationKind.WELFARE)
    assert note.case_id == third.pk
    assert note.emailed_at is not None
    assert [m.subject for m in mail.outbox if "psychological" in m.subject] == []
    with translation.override("en"):
        assert note.text == sentence

    # A rerun of the job (a redelivery) and a fourth attack in the same twelve months raise nothing more.
    assert check_officer_welfare(third.pk) == 0
    assert welfare.check_case(case_id=third.pk) == 0
    attack(world, 0, django_capture_on_commit_callbacks)
    assert WelfarePrompt.objects.count() == 1
    assert len(welfare_notes()) == 1


def test_two_attacks_prompt_nothing(world, django_capture_on_commit_callbacks):
    attack(world, 20, django_capture_on_commit_callbacks)
    second = attack(world, 1, django_capture_on_commit_callbacks)
    assert welfare.check_case(case_id=second.pk) == 0
    assert WelfarePrompt.objects.count() == 0
    assert welfare_notes() == []


def test_attacks_spread_over_more_than_twelve_months_prompt_nothing(world, django_capture_on_commit_callbacks):
    attack(world, 400, django_capture_on_commit_callbacks)
    attack(world, 200, django_capture_on_commit_callbacks)
    last = attack(world, 1, django_capture_on_commit_callbacks)
    assert welfare.attacks_within(welfare.officer_of(last.officers.get()), until=last.occurred_at) == 2
    assert WelfarePrompt.objects.count() == 0
    assert welfare_notes() == []


def test_drafts_withdrawn_and_rejected_cases_are_no_attacks_on_record(world, django_capture_on_commit_callbacks):
    attack(world, 50, django_capture_on_commit_callbacks)
    services.create_draft_case(by=world.officer, unit=world.station, details=complete_details())
    with django_capture_on_commit_callbacks(execute=True):
        case_in(world, CaseStatus.REJECTED, occurred_at=timezone.now() - timedelta(days=30))
    last = attack(world, 1, django_capture_on_commit_callbacks)
    assert (
        welfare.attacks_within(welfare.officer_of(last.officers.get(user=world.officer)), until=last.occurred_at) == 2
    )
    assert WelfarePrompt.objects.count() == 0


def test_an_officer_without_an_account_is_known_by_badge_number_in_either_case(
    world, django_capture_on_commit_callbacks
):
    for days_ago, badge in ((200, "F30217"), (90, "f30217"), (2, "F30217")):
        case = services.create_draft_case(
            by=world.officer,
            unit=world.station,
            details=complete_details(occurred_at=timezone.now() - timedelta(days=days_ago)),
            add_filer_as_officer=False,
        )
        services.add_involved_officer(case=case, by=world.officer, name="何志强", badge_number=badge)
        with django_capture_on_commit_callbacks(execute=True):
            services.submit_case(case=case, by=world.officer, expected_version=None)

    prompt = WelfarePrompt.objects.get()
    assert (prompt.officer_key, prompt.attacks, prompt.case_id) == ("badge:F30217", 3, case.pk)
    assert welfare_notes() == [
        (
            "county_supervisor",
            "welfare",
            NotificationDelivery.IN_APP,
            f"何志强 (badge F30217) was attacked 3 times within twelve months, most recently in {case.reference} — "
            "offer them psychological support.",
        )
    ]


def test_welfare_prompts_are_not_a_kind_one_chooses_e_mail_for():
    assert notification_preference_errors({"welfare": "email"}, complete=False) == {
        "welfare": "Welfare prompts are told in the notification list only: they are not sent by e-mail."
    }
