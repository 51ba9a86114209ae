"""Periodic jobs run once per period, however many beat processes send them.

Beat is meant to run once (README), but a second one started by mistake, or an old one still running during a
deployment, would send every periodic task again. Each beat entry passes its period; the task first claims the
period in ``JobRun`` (unique per job and period start, aligned to the epoch), and a tick that finds the period
already claimed does nothing. Calls without a period (on-demand runs, ``manage.py``) are not guarded.
"""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import JobRun

KEEP_RUNS = timedelta(days=7)


def period_start(now: datetime, period_seconds: float) -> datetime:
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % period_seconds, tz=UTC)


def claim(job: str, period_seconds: float, *, now: datetime | None = None) -> bool:
    """True if this call is the first for ``job`` in the current period (and records it)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            JobRun.objects.create(job=job, period_start=period_start(now, period_seconds), started_at=now)
    except IntegrityError:
        return False
    return True


def purge(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = JobRun.objects.filter(started_at__lt=now - KEEP_RUNS).delete()
    return deleted
