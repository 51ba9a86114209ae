"""Celery tasks: thin, take ids, safe to run twice."""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from cases import flagging, notifications, outbox, partitions, periodic, services, welfare
from cases.evidence import sweep
from cases.models import IdempotencyRecord
from cases.services import retention as retention_services


@shared_task(name="cases.deliver_event_notifications", acks_late=True, max_retries=5, default_retry_delay=30)
def deliver_event_notifications(event_id: int, outbox_key: str | None = None) -> int:
    """Create the in-app notifications for a case event and e-mail them; returns how many were new."""
    delivered = notifications.deliver_for_event(event_id)
    outbox.done(outbox_key)
    return delivered


# Below the broker's visibility timeout (an hour), so a long first run is never handed to a second worker while
# it still runs; a run cut short leaves the rest unchecked for the next one, which carries on where it stopped.
@shared_task(name="cases.flag_cases", acks_late=True, soft_time_limit=45 * 60, time_limit=50 * 60)
def flag_cases(period: float | None = None) -> dict[str, Any]:
    """The periodic scan (Celery beat). Idempotent: a repeated or overlapping run finds nothing left to do."""
    if period and not periodic.claim("flag_cases", period):
        return {"ran": False, "skipped": "period already run"}

    result = flagging.flag_cases()
    return {"ran": result.ran, "raised": result.raised, "resolved": result.resolved, "seconds": result.seconds}


@shared_task(name="cases.check_case_flags", acks_late=True)
def check_case_flags(case_id: int, outbox_key: str | None = None) -> int:
    """Re-evaluate one case after a change; keyed by the case, so a redelivery only re-checks it."""
    result = flagging.check_case_flags(case_id=case_id)
    outbox.done(outbox_key)
    return result.raised + result.resolved


@shared_task(name="cases.check_officer_welfare", acks_late=True)
def check_officer_welfare(case_id: int, outbox_key: str | None = None) -> int:
    """Raise the welfare prompts a case's attack calls for; idempotent (one per officer per twelve months)."""
    raised = welfare.check_case(case_id=case_id)
    outbox.done(outbox_key)
    return raised


@shared_task(name="cases.rederive_repeat_suspects", acks_late=True)
def rederive_repeat_suspects(id_number_index: str, changed_case: int, outbox_key: str | None = None) -> int:
    """Match again the open cases listing this ID number after a punishment of it changed (cases/services/repeats.py);
    idempotent."""
    changed = services.rederive_later_cases(id_number_index, changed_case=changed_case)
    outbox.done(outbox_key)
    return changed


@shared_task(name="cases.send_flag_digests", acks_late=True, max_retries=5, default_retry_delay=60)
def send_flag_digests(period: float | None = None, outbox_key: str | None = None) -> int:
    """One e-mail per supervisor with the flags not yet e-mailed; also the beat's sweeper for missed runs."""
    if period and not periodic.claim("send_flag_digests", period):
        return 0
    sent = notifications.deliver_flag_digests()
    outbox.done(outbox_key)
    return sent


@shared_task(name="cases.send_daily_digests", acks_late=True)
def send_daily_digests(period: float | None = None) -> int:
    """One e-mail per user who chose the daily digest, with their notifications of those kinds not yet e-mailed."""
    if period and not periodic.claim("send_daily_digests", period):
        return 0
    return notifications.deliver_daily_digests()


@shared_task(name="cases.retry_notification_emails", acks_late=True)
def retry_notification_emails(period: float | None = None) -> dict[str, int]:
    """E-mail the notifications whose last attempt failed (after their backoff) or that a delivery left unsent."""
    if period and not periodic.claim("retry_notification_emails", period):
        return {"skipped": 1}
    return notifications.retry_unsent_emails()


@shared_task(name="cases.relay_outbox", acks_late=True)
def relay_outbox(period: float | None = None) -> dict[str, int]:
    """Publish the background jobs a broker outage or a crash left in the outbox (beat, every minute)."""
    if period and not periodic.claim("relay_outbox", period):
        return {"skipped": 1}
    result = outbox.relay()
    result["job_runs_purged"] = periodic.purge()
    result["idempotency_records_purged"] = purge_idempotency_records()
    return result


@shared_task(name="cases.sweep_evidence", acks_late=True)
def sweep_evidence(period: float | None = None) -> dict[str, int]:
    """Remove evidence files crashed uploads left: received but never recorded, or without an attachment row."""
    if period and not periodic.claim("sweep_evidence", period):
        return {"skipped": 1}
    return sweep()


@shared_task(name="cases.maintain_partitions", acks_late=True)
def maintain_partitions(period: float | None = None) -> dict[str, object]:
    """Monthly partitions ahead, DEFAULT emptied, the access log's expired months dropped (cases/partitions.py)."""
    if period and not periodic.claim("maintain_partitions", period):
        return {"skipped": 1}
    return partitions.apply().as_dict()


@shared_task(name="cases.apply_retention", acks_late=True)
def apply_retention(period: float | None = None) -> dict[str, Any]:
    """Seal and anonymise the closed cases whose retention periods are over (cases/services/retention.py)."""
    if period and not periodic.claim("apply_retention", period):
        return {"skipped": 1}
    return retention_services.apply_retention().as_dict()


def purge_idempotency_records() -> int:
    """Replays of an ``Idempotency-Key`` are honoured for a day; older records are deleted."""
    cutoff = timezone.now() - timedelta(hours=settings.RIGHTSGUARD_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
