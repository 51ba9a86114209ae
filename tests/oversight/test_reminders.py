"""The campaigns' reminders: the periodic job runs once per period, reminds the right people (reviewers with cases
still to review near the deadline; for an overdue rectification, the case's reviewers and the campaign's organiser,
as long as the policy still lets them act), nobody twice, and says so in a sentence, e-mailed in the reader's
language."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role, User
from cases.choices import CaseStatus
from cases.models import JobRun
from oversight import reminders, services, tasks
from oversight.choices import CHECKLISTS, CampaignKind, ProblemType, ReminderReason
from oversight.models import Campaign, CampaignCase, Problem, Reminder
from tests.factories import member
from tests.oversight.conftest import Camp, build_camp, case_at, new_campaign

R = ReminderReason


@dataclass
class World:
    camp: Camp
    campaign: Campaign  # deadline in 30 days; two west cases (one reviewed), one east case
    problem: Problem  # on the reviewed west case, to be rectified tomorrow
    moved: User  # assigned to the west county, then no longer a supervisor there


def build(camp: Camp) -> World:
    w = camp.world
    west = [case_at(camp, CaseStatus.CLOSED), case_at(camp, CaseStatus.CLOSED)]
    case_at(camp, CaseStatus.CLOSED, east=True)
    campaign = new_campaign(camp)
    moved = member(w.county, Role.SUPERVISOR, username="moved", email="moved@example.org")
    for sub_unit, reviewer in ((w.county, w.county_supervisor), (w.county, moved), (camp.east, camp.east_supervisor)):
        services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=sub_unit, reviewer=reviewer)
    campaign = services.start_campaign(campaign=campaign, by=w.supervisor)
    moved.memberships.all().delete()
    item = CampaignCase.objects.get(campaign=campaign, case=west[0])
    services.record_review(
        item=item,
        by=w.county_supervisor,
        answers=dict.fromkeys(CHECKLISTS[CampaignKind.SPECIAL_SUPERVISION], ("pass", "")),
    )
    problem = services.raise_problem(
        item=item,
        by=w.county_supervisor,
        type=ProblemType.PROTRACTED,
        description="久拖未结",
        responsible_unit=w.county,
        rectify_by=timezone.localdate() + timedelta(days=1),
    )
    for user in (w.supervisor, w.county_supervisor, camp.east_supervisor):
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@example.org")
    return World(camp, campaign, problem, moved)


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build(build_camp())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_module_world, db) -> World:
    mail.outbox = []
    return _module_world


def at(days: int) -> datetime:
    """Noon, ``days`` days from today."""
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=days), time(12)))


def given() -> list[tuple[str, str, int, str]]:
    return sorted(Reminder.objects.values_list("recipient__username", "reason", "count", "due").order_by())  # type: ignore[arg-type]


def test_nothing_is_due_a_month_before_the_deadline(world):
    assert reminders.send_reminders(now=at(0)) == {
        "review_due": 0,
        "rectification_overdue": 0,
        "sent": 0,
        "nowhere": 0,
        "failed": 0,
    }
    assert Reminder.objects.count() == 0


def test_a_week_before_the_deadline_the_reviewers_with_cases_left_are_reminded_once(world):
    deadline = world.campaign.deadline
    counts = reminders.send_reminders(now=at(24))
    assert (counts["review_due"], counts["rectification_overdue"], counts["sent"]) == (2, 2, 4)
    assert given() == [
        ("county_supervisor", R.RECTIFICATION_OVERDUE, 0, world.problem.rectify_by),
        ("county_supervisor", R.REVIEW_DUE, 1, deadline),  # one of the two west cases is reviewed
        ("east_supervisor", R.REVIEW_DUE, 1, deadline),
        ("supervisor", R.RECTIFICATION_OVERDUE, 0, world.problem.rectify_by),  # the organiser
    ]
    sent = {m.to[0]: m.subject for m in mail.outbox}
    assert sent["east_supervisor@example.org"] == (
        f"Campaign “{world.campaign.name}”: 1 of your cases are not reviewed yet — review them by "
        f"{deadline.day} {deadline:%b} {deadline.year}."
    )
    assert "moved@example.org" not in sent  # no longer supervises the county
    # Again the same day, and days later: nobody is reminded twice, nothing e-mailed twice.
    again = reminders.send_reminders(now=at(24))
    later = reminders.send_reminders(now=at(29))
    assert (again["review_due"], again["rectification_overdue"], again["sent"]) == (0, 0, 0)
    assert (later["review_due"], later["rectification_overdue"], later["sent"]) == (0, 0, 0)
    assert len(mail.outbox) == 4
    assert Reminder.objects.count() == 4


def test_a_rectified_problem_and_a_closed_campaign_are_left_alone(world):
    services.rectify_problem(
        problem=world.problem, by=world.camp.world.supervisor, rectification="已办结", rectified_on=timezone.localdate()
    )
    assert reminders.send_reminders(now=at(3))["rectification_overdue"] == 0
    services.close_campaign(campaign=world.campaign, by=world.camp.world.supervisor)
    assert reminders.send_reminders(now=at(29)) == {
        "review_due": 0,
        "rectification_overdue": 0,
        "sent": 0,
        "nowhere": 0,
        "failed": 0,
    }


def test_the_overdue_rectification_is_said_in_a_sentence_in_the_readers_language(world):
    reminders.send_reminders(now=at(3))
    reminder = Reminder.objects.get(recipient=world.camp.world.supervisor)
    day = world.problem.rectify_by
    ref = world.problem.campaign_case.case.reference
    with translation.override("en"):
        assert reminders.reminder_text(reminder) == (
            f"Campaign “{world.campaign.name}”: the problem “Protracted delay” in {ref} was to be rectified by "
            f"{day.day} {day:%b} {day.year} and is not yet — have it rectified and record what was done."
        )
    client_page = _list_page(world.camp.world.supervisor)
    assert "the problem “Protracted delay”" in client_page


def _list_page(user: User) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    with translation.override("en"):
        return client.get(reverse("oversight:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_email_that_fails_is_tried_again_on_the_next_run(world, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(reminders, "send_mail", refuse)
    first = reminders.send_reminders(now=at(3))
    assert (first["rectification_overdue"], first["sent"], first["failed"]) == (2, 0, 2)
    assert Reminder.objects.filter(emailed_at__isnull=True).count() == 2
    monkeypatch.undo()
    second = reminders.send_reminders(now=at(3))
    assert (second["rectification_overdue"], second["sent"], second["failed"]) == (0, 2, 0)
    assert len(mail.outbox) == 2


def test_the_task_runs_once_per_period(world):
    assert JobRun.objects.filter(job="send_campaign_reminders").count() == 0
    first = tasks.send_campaign_reminders(period=3600.0)
    assert "skipped" not in first
    assert tasks.send_campaign_reminders(period=3600.0) == {"skipped": 1}
    assert JobRun.objects.filter(job="send_campaign_reminders").count() == 1


@pytest.mark.parametrize(
    "values",
    [
        {"reason": R.REVIEW_DUE, "problem": "problem"},
        {"reason": R.RECTIFICATION_OVERDUE},
        {"reason": "later"},
    ],
)
def test_the_database_keeps_the_reminder_invariants(world, values):
    fields = {
        "campaign": world.campaign,
        "recipient": world.camp.world.supervisor,
        "due": timezone.localdate(),
        "created_at": timezone.now(),
        **values,
    }
    if fields.get("problem") == "problem":
        fields["problem"] = world.problem
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(**fields)


def test_the_same_reminder_cannot_be_written_twice(world):
    w = world.camp.world
    fields = {
        "campaign": world.campaign,
        "recipient": w.supervisor,
        "due": timezone.localdate(),
        "created_at": timezone.now(),
    }
    Reminder.objects.create(reason=R.REVIEW_DUE, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(reason=R.REVIEW_DUE, **fields)
    Reminder.objects.create(reason=R.RECTIFICATION_OVERDUE, problem=world.problem, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(reason=R.RECTIFICATION_OVERDUE, problem=world.problem, **fields)
