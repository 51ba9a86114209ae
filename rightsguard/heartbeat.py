"""The Celery worker's heartbeat: proof that a worker is running and connected to the broker.

While its consumer is connected, the worker (``WorkerHeartbeat`` in rightsguard/celery.py) beats every
``RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS`` from its main process's event loop, so a dead process, a blocked loop or a
consumer that cannot reach Redis all stop the beat. Each beat is written twice, for two readers:

- the modification time of ``RIGHTSGUARD_WORKER_HEARTBEAT_FILE``, read by ``manage.py worker_alive`` on the
  worker's own machine or container (the compose health check);
- a Redis key in the broker's database with a time to live, read by ``/readyz`` in the web process, which cannot see
  the worker's files. Any live worker keeps it: it answers "is background work being done?", not "which worker".

A heartbeat older than four beats is stale: one late beat (a slow disk, a busy loop) is not a dead worker.
"""

import logging
import math
import time
from pathlib import Path

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "rightsguard:worker:heartbeat"
MISSED_BEATS = 4
# The web asks Redis only when a monitor reads the details; a Redis that does not answer is "unknown" within this.
TIMEOUT_SECONDS = 2.0


def stale_after() -> float:
    return MISSED_BEATS * settings.RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS


def broker_redis() -> redis.Redis | None:
    """A client for the broker's Redis, or None when the broker is not Redis (tasks run in-process)."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)


def beat(*, hostname: str, client: redis.Redis | None) -> None:
    """Record one beat; a failure is logged and the next beat tries again."""
    try:
        Path(settings.RIGHTSGUARD_WORKER_HEARTBEAT_FILE).touch()
    except OSError as exc:
        logger.warning("Cannot write the worker heartbeat file %s: %s", settings.RIGHTSGUARD_WORKER_HEARTBEAT_FILE, exc)
    if client is None:
        return
    try:
        client.set(KEY, hostname, ex=math.ceil(stale_after()))
    except redis.RedisError as exc:
        logger.warning("Cannot write the worker heartbeat to Redis: %s", exc)


def file_age() -> float | None:
    """Seconds since the last beat this machine's worker wrote, or None when it never wrote one."""
    try:
        return max(0.0, time.time() - Path(settings.RIGHTSGUARD_WORKER_HEARTBEAT_FILE).stat().st_mtime)
    except FileNotFoundError:
        return None


def worker_state() -> str:
    """For /readyz: "ok" while some worker's beat is fresh, "stale" when none is, "unknown" when Redis does not
    answer, "inline" when there is no worker because tasks run in the web process."""
    client = broker_redis()
    if client is None:
        return "inline"
    try:
        with client:
            return "ok" if client.exists(KEY) else "stale"
    except redis.RedisError:
        return "unknown"
