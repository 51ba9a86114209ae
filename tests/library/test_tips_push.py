"""The push of a published tip runs out of the approver's request (library/notices.py ``push_tip``, ``deliver_push``;
library/tasks.py): publishing records the push and its job in the outbox, in the publishing transaction, and tells no
officer; the task, once the publication commits, tells each officer of the subtree once, in chunks; run again (a
retry, a redelivery, a second worker) it tells no one twice; a tip withdrawn before it runs, or while it runs, is
pushed to no one more."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from accounts import services as account_services
from accounts.models import Role
from cases import outbox
from cases import services as case_services
from cases.choices import NotificationKind
from cases.models import Notification, OutboxMessage
from library import notices, tasks
from library.guidance import services
from library.guidance.models import Tip, TipPush
from tests.factories import build_world, member
from tests.library.tipkit import submitted_tip

# Who a tip published to the city is pushed to in the world of tests/factories.py: every active account with a role in
# the city's subtree, but the administrator who approved it (a province administrator, outside it anyway).
CITY_OFFICERS = ["county_supervisor", "officer", "other_officer", "supervisor"]


def told() -> list[str]:
    """Who was told of a tip, by username, as often as they were told."""
    notes = Notification.objects.filter(kind=NotificationKind.GUIDANCE).select_related("recipient")
    return sorted(note.recipient.username for note in notes)


def publish(world, tip: Tip, scope=None) -> Tip:
    return services.publish_tip(tip=tip, by=world.admin, scope_unit=scope or world.city, expected_version=tip.version)


def browser(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_publishing_tells_no_officer_in_the_request_and_leaves_the_push_to_its_job(
    world, django_capture_on_commit_callbacks
):
    tip = submitted_tip(world)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = browser(world.admin).post(
            f"/library/tips/manage/{tip.pk}/publish/", {"version": tip.version, "scope_unit": world.city.code}
        )
    assert (response.status_code, Tip.objects.get(pk=tip.pk).state) == (302, "published")
    # The request wrote the push and its job, and told no officer.
    assert told() == []
    push = TipPush.objects.get()
    assert (push.tip_id, push.version, push.told_through, push.told, push.finished_at) == (tip.pk, 3, 0, 0, None)
    job = OutboxMessage.objects.get(task="library.push_tip")
    assert (job.args, job.key, job.published_at, job.done_at) == ([push.pk], f"tip-push:{push.pk}", None, None)
    # Once the publication commits the job is published, and the task (in-process here) tells each officer once.
    for callback in after_commit:
        callback()
    assert told() == CITY_OFFICERS
    push.refresh_from_db()
    assert (push.told, push.finished_at is not None) == (4, True)
    assert OutboxMessage.objects.get(pk=job.pk).done_at is not None


@pytest.mark.django_db
def test_the_task_tells_each_officer_of_the_subtree_exactly_once(world):
    # Two roles in the subtree, and an account switched off: still one notification, and none for the inactive one.
    member(world.county, Role.SUPERVISOR, username="county_deputy")
    account_services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR)
    gone = member(world.station, Role.OFFICER, username="retired")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    tip = publish(world, submitted_tip(world), scope=world.county)
    push = TipPush.objects.get(tip=tip)
    assert tasks.push_tip(push.pk) == 4
    assert told() == ["county_deputy", "county_supervisor", "officer", "other_officer"]
    note = Notification.objects.get(kind=NotificationKind.GUIDANCE, recipient=world.officer)
    assert (note.unit, note.link, note.params["tip"]) == (world.county, f"/library/tips/{tip.pk}/", tip.pk)


@pytest.mark.django_db
def test_running_the_task_again_tells_no_one_twice(world):
    tip = publish(world, submitted_tip(world))
    push = TipPush.objects.get(tip=tip)
    assert tasks.push_tip(push.pk) == 4
    assert tasks.push_tip(push.pk) == 0
    assert tasks.push_tip.apply(args=[push.pk]).get() == 0
    assert told() == CITY_OFFICERS


@pytest.mark.django_db
def test_a_run_cut_short_is_carried_on_by_the_next_without_telling_anyone_twice(world, monkeypatch):
    for n in range(3):
        member(world.station, Role.OFFICER, username=f"patrol{n}")
    tip = publish(world, submitted_tip(world))
    push = TipPush.objects.get(tip=tip)
    monkeypatch.setattr(notices, "PUSH_CHUNK", 3)
    real = case_services.notify_members
    calls = []

    def fails_on_the_second_chunk(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            real(**kwargs)  # its rows are written, then the worker dies: the chunk's transaction rolls back
            raise ConnectionError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(case_services, "notify_members", fails_on_the_second_chunk)
    with pytest.raises(ConnectionError):
        tasks.push_tip(push.pk)
    # The first chunk (the three lowest ids) was told and marked; the second left no trace.
    first = told()
    assert len(first) == 3
    push.refresh_from_db()
    assert (push.told, push.finished_at) == (3, None)
    assert tasks.push_tip(push.pk) == 4
    assert told() == sorted([*CITY_OFFICERS, "patrol0", "patrol1", "patrol2"])


@pytest.mark.django_db
def test_a_tip_withdrawn_before_the_task_runs_is_pushed_to_no_one(world):
    tip = publish(world, submitted_tip(world))
    push = TipPush.objects.get(tip=tip)
    services.withdraw_tip(tip=tip, by=world.supervisor, note="发错了", expected_version=tip.version)
    assert tasks.push_tip(push.pk) == 0
    assert told() == []
    push.refresh_from_db()
    assert (push.told, push.finished_at is not None) == (0, True)


@pytest.mark.django_db
def test_a_tip_withdrawn_while_it_is_pushed_is_pushed_to_no_one_more(world, monkeypatch):
    tip = publish(world, submitted_tip(world))
    push = TipPush.objects.get(tip=tip)
    monkeypatch.setattr(notices, "PUSH_CHUNK", 2)
    real = case_services.notify_members

    def withdrawn_after_the_first_chunk(**kwargs):
        told_now = real(**kwargs)
        if not Tip.objects.filter(pk=tip.pk, state="withdrawn").exists():
            services.withdraw_tip(
                tip=Tip.objects.get(pk=tip.pk), by=world.supervisor, note="撤回", expected_version=None
            )
        return told_now

    monkeypatch.setattr(case_services, "notify_members", withdrawn_after_the_first_chunk)
    assert tasks.push_tip(push.pk) == 2
    assert len(told()) == 2
    assert TipPush.objects.get(pk=push.pk).finished_at is not None


@pytest.mark.django_db
def test_a_published_tip_replacing_another_pushes_only_itself(world):
    old = publish(world, submitted_tip(world))
    new = services.copy_tip(tip=old, by=world.supervisor)
    new = services.submit_tip(tip=new, by=world.supervisor, expected_version=new.version)
    publish(world, new)
    assert list(TipPush.objects.order_by("pk").values_list("tip_id", "version")) == [(old.pk, 3), (new.pk, 3)]
    # The old one was withdrawn by the new one's publication before its push ran: only the new one is told.
    for push in TipPush.objects.order_by("pk"):
        tasks.push_tip(push.pk)
    assert set(Notification.objects.filter(kind=NotificationKind.GUIDANCE).values_list("params__tip", flat=True)) == {
        new.pk
    }
    assert told() == CITY_OFFICERS


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_push_tell_each_officer_once(postgres_only, monkeypatch):
    world = build_world()
    for n in range(9):
        member(world.station, Role.OFFICER, username=f"patrol{n}")
    tip = submitted_tip(world)
    # The broker is down: the job waits in the outbox (for the relay), and the two workers below take it.
    monkeypatch.setattr(outbox, "_publish_after_commit", lambda keys: None)
    with transaction.atomic():
        publish(world, tip)
    push = TipPush.objects.get(tip=tip)
    monkeypatch.setattr(notices, "PUSH_CHUNK", 2)
    counts: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            counts.append(notices.deliver_push(push.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(counts) == 13
    recipients = list(Notification.objects.filter(kind=NotificationKind.GUIDANCE).values_list("recipient", flat=True))
    assert len(recipients) == len(set(recipients)) == 13
