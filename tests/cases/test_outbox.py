"""Transactional outbox and once-per-period jobs: jobs commit with the change, are published after it, and the
relay publishes what a failed publish left behind."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases import outbox, periodic, services, tasks
from cases.choices import CaseStatus
from cases.models import CaseEvent, IdempotencyRecord, JobRun, Notification, OutboxMessage
from tests.factories import case_in, draft

pytestmark = pytest.mark.django_db


def test_a_submission_records_its_notification_job_and_publishes_it_on_commit(
    world, django_capture_on_commit_callbacks
):
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.submit_case(case=case, by=world.officer, expected_version=case.version)
    event = CaseEvent.objects.get(case=case, action="submit")
    message = OutboxMessage.objects.get(key=f"notify:{event.pk}")
    assert (message.task, message.args, message.attempts, message.last_error) == (
        "cases.deliver_event_notifications",
        [event.pk],
        1,
        "",
    )
    assert message.published_at is not None
    assert message.done_at is not None  # the task ran (eagerly) and said so
    # The job ran (eagerly here): the supervisors of the nearest office above the station were notified.
    assert list(Notification.objects.filter(event=event).values_list("recipient__username", flat=True)) == [
        "county_supervisor"
    ]

    # A new suspect asks for a flag check of the case through the outbox as well.
    with django_capture_on_commit_callbacks(execute=True):
        services.add_suspect(case=case, by=world.county_supervisor, name="张某")
    check = OutboxMessage.objects.get(task="cases.check_case_flags", args=[case.pk])
    assert check.key.startswith(f"flags:{case.pk}:")
    assert check.published_at is not None


def test_a_rolled_back_change_leaves_no_job(world, django_capture_on_commit_callbacks):
    case = draft(world)
    before = OutboxMessage.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.submit_case(case=case, by=world.officer, expected_version=case.version)
                raise RuntimeError("the request failed after the change")
        except RuntimeError:
            pass
    assert callbacks == []
    assert OutboxMessage.objects.count() == before
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


def test_the_same_job_key_is_stored_once(db):
    with transaction.atomic():
        outbox.enqueue("cases.send_flag_digests", [], key="digests:one")
        outbox.enqueue("cases.send_flag_digests", [], key="digests:one")
    assert OutboxMessage.objects.filter(key="digests:one").count() == 1


def _message(key: str, task: str, age: timedelta, now: datetime) -> OutboxMessage:
    return OutboxMessage.objects.create(task=task, args=[], key=key, created_at=now - age)


def test_a_failed_publish_is_kept_with_its_error_and_the_relay_publishes_old_messages_only(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    now = timezone.now()
    broken = _message("broken", "cases.no_such_task", timedelta(minutes=5), now)
    assert outbox.publish_keys(["broken"]) == 0
    broken.refresh_from_db()
    assert (broken.published_at, broken.attempts, broken.last_error) == (None, 1, "NotRegistered: 'cases.no_such_task'")

    old = _message("old", "cases.send_flag_digests", timedelta(minutes=2), now)
    young = _message("young", "cases.send_flag_digests", timedelta(seconds=10), now)
    # The broken message stops the batch (a broker failure would fail the rest the same way): oldest first.
    result = outbox.relay(now=now)
    assert result == {"published": 0, "pending": 3, "purged": 0}
    broken.delete()
    result = outbox.relay(now=now)
    # The old one was published (and, the Celery app being eager in tests, ran and is done); the young one waits.
    assert result == {"published": 1, "pending": 1, "purged": 0}
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.published_at is not None
    assert old.attempts == 1
    assert young.published_at is None
    assert young.attempts == 0


def test_the_relay_drops_done_messages_after_a_week(db):
    now = timezone.now()
    for key, days in (("a", 8), ("b", 2)):
        at = now - timedelta(days=days)
        OutboxMessage.objects.create(task="t", args=[], key=key, created_at=at, published_at=at, done_at=at)
    assert outbox.relay(now=now) == {"published": 0, "pending": 0, "purged": 1}
    assert list(OutboxMessage.objects.values_list("key", flat=True)) == ["b"]


def test_a_job_the_broker_lost_is_published_again_until_its_task_has_run(db, settings, world):
    """Published but never run (Redis killed inside its AOF second, a flushed queue): published again after
    RIGHTSGUARD_OUTBOX_REDELIVER_SECONDS; once the task has run (eagerly here) it is done and left alone."""
    now = timezone.now()
    case = case_in(world, CaseStatus.INTAKE)
    event = CaseEvent.objects.get(case=case, action="submit")
    # The submission wrote its notification job; say it was published 16 minutes ago and then lost.
    lost = OutboxMessage.objects.get(key=f"notify:{event.pk}")
    OutboxMessage.objects.filter(pk=lost.pk).update(
        created_at=now - timedelta(minutes=20), published_at=now - timedelta(minutes=16), attempts=1
    )
    recent = OutboxMessage.objects.create(
        task="cases.send_flag_digests",
        args=[],
        key="digests:recent",
        created_at=now - timedelta(minutes=5),
        published_at=now - timedelta(minutes=5),
        attempts=1,
    )
    assert Notification.objects.filter(event=event).count() == 0
    # Pending: the recent digest, and the submission's welfare check (young, left to its own publish).
    assert outbox.relay(now=now) == {"published": 1, "pending": 2, "purged": 0}
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.attempts == 2
    assert lost.done_at is not None
    assert list(Notification.objects.filter(event=event).values_list("recipient__username", flat=True)) == [
        "county_supervisor"
    ]
    assert (recent.attempts, recent.done_at) == (1, None)  # not overdue yet
    assert outbox.relay(now=now) == {"published": 0, "pending": 2, "purged": 0}


def test_a_periodic_job_claims_its_period_once():
    assert periodic.period_start(datetime(2026, 11, 28, 4, 7, 31, tzinfo=UTC), 60) == datetime(
        2026, 11, 28, 4, 7, tzinfo=UTC
    )
    assert periodic.period_start(datetime(2026, 11, 28, 4, 7, 31, tzinfo=UTC), 900) == datetime(
        2026, 11, 28, 4, 0, tzinfo=UTC
    )


def test_two_ticks_in_one_period_run_the_job_once(world, monkeypatch):
    at = datetime(2026, 11, 28, 4, 7, 1, tzinfo=UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    first = tasks.flag_cases(period=900)
    second = tasks.flag_cases(period=900)
    assert first["ran"] is True
    assert second == {"ran": False, "skipped": "period already run"}
    assert list(JobRun.objects.values_list("job", "period_start")) == [
        ("flag_cases", datetime(2026, 11, 28, 4, 0, tzinfo=UTC))
    ]
    # The next period runs again; a call without a period (manage.py, on demand) is never held back.
    monkeypatch.setattr("django.utils.timezone.now", lambda: at + timedelta(minutes=15))
    assert tasks.flag_cases(period=900)["ran"] is True
    assert tasks.flag_cases()["ran"] is True
    assert JobRun.objects.count() == 2


def test_the_relay_task_purges_old_runs_and_idempotency_records(world):
    now = timezone.now()
    JobRun.objects.create(job="flag_cases", period_start=now - timedelta(days=8), started_at=now - timedelta(days=8))
    for key, hours in (("old", 25), ("new", 23)):
        IdempotencyRecord.objects.create(
            user=world.officer,
            key=key,
            method="POST",
            path="/api/v1/cases/",
            request_hash="0" * 64,
            response_status=201,
            created_at=now - timedelta(hours=hours),
        )
    result = tasks.relay_outbox(period=60)
    assert result == {
        "published": 0,
        "pending": 0,
        "purged": 0,
        "job_runs_purged": 1,
        "idempotency_records_purged": 1,
    }
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert tasks.relay_outbox(period=60) == {"skipped": 1}


def test_a_background_export_is_an_outbox_job(world, django_capture_on_commit_callbacks, settings, tmp_path):
    from cases.reports.services import request_export

    settings.MEDIA_ROOT = tmp_path
    case_in(world, CaseStatus.INTAKE)
    with django_capture_on_commit_callbacks(execute=True):
        export = request_export(
            user=world.admin, unit=world.province, year=timezone.now().year, fmt="csv", language="en", source_ip=None
        )
    message = OutboxMessage.objects.get(key=f"export:{export.pk}")
    assert (message.task, message.args) == ("cases.reports.export_yearly_report", [export.pk, "en"])
    export.refresh_from_db()
    assert export.status == "done"
