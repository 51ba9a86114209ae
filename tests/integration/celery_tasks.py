"""A task for the worker integration tests only, loaded with ``celery worker -I tests.integration.celery_tasks``.

It runs the single-case flag check inside a transaction and, on its first delivery only, stays in that
transaction long enough for the test to kill the worker: the check's writes are then uncommitted and must be
rolled back, and the redelivered task must produce them exactly once.
"""

import time

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

from cases import flagging


@shared_task(name="tests.integration.slow_check_case_flags", acks_late=True)
def slow_check_case_flags(case_id: int, marker: str, sleep_seconds: float) -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    attempt = client.incr(f"{marker}:attempts")
    with transaction.atomic():
        result = flagging.check_case_flags(case_id=case_id)
        if attempt == 1:
            client.set(f"{marker}:written", 1)
            time.sleep(sleep_seconds)
    return result.raised
