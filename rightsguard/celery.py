"""Celery application: configuration comes from Django settings (namespace CELERY_).

The worker's shape is fixed here rather than on its command line, so compose, systemd and a shell all start the same
worker with ``celery -A rightsguard worker``:

- Gossip, mingle and heartbeat events are always off. They exist for workers that watch each other; nothing here
  reads them, and each is one more broker channel to tear down when Redis goes away.
- A worker survives Redis being killed (``_RedisChannel``).
- A connected worker beats (``WorkerHeartbeat``, rightsguard/heartbeat.py) for ``manage.py worker_alive`` and
  ``/readyz``.
- Each task run is counted for the metrics (rightsguard/metrics.py) and its log lines carry the task's name and id
  (rightsguard/logs.py). ``RIGHTSGUARD_WORKER_METRICS_PORT`` (with ``PROMETHEUS_MULTIPROC_DIR``) serves the worker's
  counts, its pool's processes added up, on ``RIGHTSGUARD_WORKER_METRICS_ADDRESS`` (default 127.0.0.1).

Remote control (the pidbox) stays on on purpose: its subscription is the socket on which a worker whose task
prefetch is full (both processes busy, or their acknowledgements lost with the connection) notices that Redis went
away. With it switched off, such a worker was seen to outlive Redis being killed yet never consume again; the
Redis fault test (tests/faults/test_faults.py) fails if a worker stops consuming.
"""

import os
from functools import cached_property
from typing import Any

from celery import Celery, bootsteps, signals
from celery.apps.worker import Worker as CeleryWorker
from django.conf import settings
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from rightsguard import heartbeat, logs, metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rightsguard.settings")

WORKER_FEATURES_OFF = {"without_gossip": True, "without_mingle": True, "without_heartbeat": True}


class _RedisChannel(kombu_redis.Channel):
    """kombu 5.7's Redis channel, which cannot turn a closed connection into an AttributeError.

    When the worker loses Redis it first collects the broken connection, which detaches the transport
    (``transport.client = None``), and then closes it. If, while collecting, closing another channel (the pidbox,
    or gossip) failed because Redis was gone, the task channel is still open at the second close; it then restores
    its unacknowledged messages, builds a new connection pool from the detached transport and fails in
    ``_connparams`` with ``AttributeError: 'NoneType' object has no attribute 'hostname'``. That is not a connection
    error, so it escapes the worker's reconnect loop and the worker exits ("Unrecoverable error"). Raising the
    connection error it really is lets the worker reconnect as it does for any other lost connection; the
    unacknowledged messages stay in Redis and come back after the visibility timeout, and the outbox republishes
    any job that Redis lost (cases/outbox.py). Same failure as celery/kombu#582, by another path.
    """

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("The broker connection is closed.")
        return super()._connparams(asynchronous=asynchronous)


kombu_redis.Transport.Channel = _RedisChannel


class RightsGuardWorker(CeleryWorker):
    """``celery worker`` with gossip, mingle and heartbeat events off, whatever the command line says."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, **WORKER_FEATURES_OFF})


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Beats while the consumer is connected: started after each (re)connection once tasks are being consumed,
    stopped when the connection is lost. The timer runs in the main process's event loop."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c: Any, **kwargs: Any) -> None:
        self.timer_entry: Any = None
        self.client: Any = None
        super().__init__(c, **kwargs)

    def start(self, c: Any) -> None:
        self.client = heartbeat.broker_redis()
        self.beat(c)
        self.timer_entry = c.timer.call_repeatedly(settings.RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS, self.beat, (c,))

    def stop(self, c: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        if self.client is not None:
            self.client.close()
            self.client = None

    shutdown = stop

    def beat(self, c: Any) -> None:
        heartbeat.beat(hostname=c.hostname, client=self.client)


class RightsGuardCelery(Celery):
    @cached_property
    def Worker(self) -> type[CeleryWorker]:  # Celery's name
        return self.subclass_with_self(RightsGuardWorker, reverse="Worker")


app = RightsGuardCelery("rightsguard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["consumer"].add(WorkerHeartbeat)
app.autodiscover_tasks()


# --- each task run: the metrics' counts and the log lines' ids -------------------------------------------------------

_log_tokens: dict[str, list[Any]] = {}
_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}


@signals.task_prerun.connect
def _task_started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    name = getattr(task, "name", "") or "unknown"
    metrics.task_started(task_id, name)
    _log_tokens[task_id] = [logs.task_name.set(name), logs.task_id.set(task_id)]


@signals.task_postrun.connect
def _task_ended(task_id: str = "", task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    metrics.task_ended(task_id, getattr(task, "name", "") or "unknown", _OUTCOMES.get(state or "", "failed"))
    for token in reversed(_log_tokens.pop(task_id, [])):
        token.var.reset(token)


@signals.worker_ready.connect
def _serve_worker_metrics(**kwargs: Any) -> None:
    port = os.environ.get("RIGHTSGUARD_WORKER_METRICS_PORT", "")
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not port or not directory:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    start_http_server(
        int(port), addr=os.environ.get("RIGHTSGUARD_WORKER_METRICS_ADDRESS", "127.0.0.1"), registry=registry
    )


def refuse_transaction_pooling(**kwargs: Any) -> None:
    """The worker and beat keep state on their database session (the flag scan's advisory lock, its settings and
    temporary tables), which PgBouncer's transaction mode would hand to another client between transactions: they
    connect to PostgreSQL directly (docs/operations.md, "Connection pooling")."""
    if getattr(settings, "DB_POOL", "") == "pgbouncer":
        # SystemExit, not an exception: Celery logs and swallows what a signal handler raises.
        raise SystemExit(
            "The Celery worker and beat must connect to PostgreSQL directly, not through PgBouncer in transaction "
            "mode: give them a DATABASE_URL of the server itself and leave RIGHTSGUARD_DB_POOL empty or 'psycopg'."
        )


signals.worker_init.connect(refuse_transaction_pooling)
signals.beat_init.connect(refuse_transaction_pooling)
