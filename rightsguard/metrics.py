"""Prometheus metrics at ``/metrics``, for the operations team's monitoring (docs/operations.md lists each metric and
what its alert means).

Two kinds:

- **Counted as things happen**, in the process that does them: HTTP requests by view and status with their latency
  and database statements (``MetricsMiddleware``), Celery task runs by outcome with their duration and the runs in
  progress (the worker's signals, ``rightsguard/celery.py``). With several processes (gunicorn's workers, Celery's
  pool) each process writes its counts to files under ``PROMETHEUS_MULTIPROC_DIR`` and the scrape adds them up
  (prometheus_client's multiprocess mode): set it, to an empty directory of its own per host and service start, for
  every gunicorn and Celery process; gunicorn's ``child_exit`` hook (``deploy/gunicorn.conf.py``) drops a dead
  worker's gauges. Without it (one process: the development server, the tests) the counts stay in memory.
- **Read from the record at scrape time** (``RecordCollector``): the outbox's backlog and the age of its oldest job
  not yet published, or published and not done; the broker's queue length; whether a worker beats; open flags by
  kind and every flag ever raised; notifications whose e-mail failed for good or waits; whether the database and the
  broker answer; on PostgreSQL, the rows in the timeline's and the access log's DEFAULT partitions and how many months
  ahead their partitions reach. These hold in the database, so every web node reports the same, and a restarted
  process loses none.

Who may read it: the callers ``/readyz`` tells its details to (``health.may_see_details``: loopback, or the
monitoring token as a bearer token); anyone else gets a 404, as for a page that does not exist. Labels are views,
tasks, kinds, tables, status codes and the methods HTTP defines (any other method is "other"), never a user, a case
or anything typed: the metrics hold no personal data, and a caller cannot add time series at will.
"""

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
# A request no URL pattern took (a static file, a 404): one label for all of them, never the path.
UNMATCHED = "unmatched"
# The methods HTTP defines (RFC 9110, and PATCH) keep their names; any other (a client may send "PROBE1", "PROBE2",
# ...) is "other": each label value is a time series every process keeps for its life.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "other"

REQUESTS = Counter(
    "rightsguard_http_requests",
    "HTTP requests answered, by method, view and status code.",
    ["method", "view", "status"],
)
LATENCY = Histogram(
    "rightsguard_http_request_duration_seconds",
    "Time to answer an HTTP request, in the application, by view.",
    ["view"],
    buckets=LATENCY_BUCKETS,
)
DB_STATEMENTS = Counter("rightsguard_db_statements", "Database statements run to answer requests, by view.", ["view"])
DB_SECONDS = Counter(
    "rightsguard_db_seconds", "Time requests spent in database statements, in seconds, by view.", ["view"]
)
TASK_RUNS = Counter(
    "rightsguard_celery_task_runs",
    "Celery task runs ended, by task and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "rightsguard_celery_task_duration_seconds", "Time a Celery task run took, by task.", ["task"], buckets=TASK_BUCKETS
)
TASKS_RUNNING = Gauge(
    "rightsguard_celery_tasks_running", "Celery task runs in progress, by task.", ["task"], multiprocess_mode="livesum"
)


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else UNMATCHED


class MetricsMiddleware:
    """Counts each request with its view, status code, time and database statements. Near the top of the stack, so
    the answers other middleware gives (a refused second factor, a CSRF failure) are counted too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        statements = [0, 0.0]

        def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements[0] += 1
                statements[1] += time.perf_counter() - started

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = self.get_response(request)
        view = view_label(request)
        LATENCY.labels(view).observe(time.perf_counter() - started)
        method = request.method if request.method in METHODS else OTHER_METHOD
        REQUESTS.labels(method, view, str(response.status_code)).inc()
        if statements[0]:
            DB_STATEMENTS.labels(view).inc(statements[0])
            DB_SECONDS.labels(view).inc(statements[1])
        return response


# --- the worker's counts (connected in rightsguard/celery.py) --------------------------------------------------------

_task_started: dict[str, float] = {}


def task_started(task_id: str, task: str) -> None:
    _task_started[task_id] = time.perf_counter()
    TASKS_RUNNING.labels(task).inc()


def task_ended(task_id: str, task: str, outcome: str) -> None:
    """``outcome``: succeeded, failed or retried (a retry ends this run; the next is counted on its own)."""
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASKS_RUNNING.labels(task).dec()
        TASK_SECONDS.labels(task).observe(time.perf_counter() - started)
    TASK_RUNS.labels(task, outcome).inc()


# --- read from the record at scrape time ----------------------------------------------------------------------------


class RecordCollector(Collector):
    """What the database and the broker hold, read at each scrape (see the module doc). A dependency that does not
    answer is reported down, and the figures that need it are left out rather than reported as zero."""

    def collect(self) -> Iterable[Any]:
        from cases import partitions, selectors  # the record's figures are read through the cases' modules
        from rightsguard import health, heartbeat

        up = GaugeMetricFamily(
            "rightsguard_dependency_up", "Whether a dependency answers (1) or not (0).", labels=["dependency"]
        )
        database = health.database_answers()
        up.add_metric(["database"], 1 if database else 0)
        queued = health.broker_queue_length()
        up.add_metric(["broker"], 0 if queued is None else 1)
        yield up
        if queued is not None:
            yield GaugeMetricFamily(
                "rightsguard_broker_queue_length", "Jobs waiting in the broker's default queue.", value=queued
            )
            worker = GaugeMetricFamily(
                "rightsguard_worker_up", "Whether some Celery worker beat within its staleness limit (1) or not (0)."
            )
            worker.add_metric([], 1 if heartbeat.worker_state() == "ok" else 0)
            yield worker
        if not database:
            return
        now = timezone.now()
        figures = selectors.operations_figures()
        yield GaugeMetricFamily(
            "rightsguard_outbox_unpublished",
            "Jobs recorded and not yet handed to the broker.",
            value=figures.unpublished,
        )
        yield GaugeMetricFamily(
            "rightsguard_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest job not yet handed to the broker (0: none).",
            value=_age(now, figures.oldest_unpublished),
        )
        yield GaugeMetricFamily(
            "rightsguard_outbox_unfinished",
            "Jobs handed to the broker and not yet done (running, queued or lost with a worker).",
            value=figures.unfinished,
        )
        yield GaugeMetricFamily(
            "rightsguard_outbox_oldest_unfinished_age_seconds",
            "Age of the oldest job handed to the broker and not yet done (0: none).",
            value=_age(now, figures.oldest_unfinished),
        )
        open_flags = GaugeMetricFamily("rightsguard_flags_open", "Open flags, by kind.", labels=["kind"])
        for kind, count in sorted(figures.open_flags.items()):
            open_flags.add_metric([kind], count)
        yield open_flags
        yield CounterMetricFamily(
            "rightsguard_flags_raised", "Flags raised since the record began.", value=figures.flags_raised
        )
        yield GaugeMetricFamily(
            "rightsguard_notification_emails_failed",
            "Notifications whose e-mail failed for good and was not sent since.",
            value=figures.emails_failed,
        )
        yield GaugeMetricFamily(
            "rightsguard_notification_emails_waiting",
            "Notifications due to be e-mailed at once and not yet sent (nor failed for good).",
            value=figures.emails_waiting,
        )
        # The timeline's and the access log's monthly partitions (PostgreSQL; cases/partitions.py).
        partitioned = partitions.status(now=now)
        if partitioned:
            default = GaugeMetricFamily(
                "rightsguard_partition_default_rows",
                "Rows in a partitioned table's DEFAULT partition (0: every row is in its month's partition).",
                labels=["table"],
            )
            ahead = GaugeMetricFamily(
                "rightsguard_partition_months_ahead",
                "Whole months after the current one a partitioned table has partitions for.",
                labels=["table"],
            )
            for table, (rows, months) in sorted(partitioned.items()):
                default.add_metric([table], rows)
                ahead.add_metric([table], months)
            yield default
            yield ahead


def _age(now: Any, since: Any) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def _exposition(encode: Callable[[Any], bytes]) -> Iterator[bytes]:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted, path=directory)
        yield encode(counted)
    else:
        yield encode(REGISTRY)
    record = CollectorRegistry()
    record.register(RecordCollector())
    yield encode(record)


@login_not_required
@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """The exposition in the text format the scraper asks for (``Accept``; Prometheus' 0.0.4 text format when it
    asks for none), for the monitoring's callers only (a 404 for anyone else)."""
    from rightsguard.health import may_see_details

    if not settings.RIGHTSGUARD_METRICS or not may_see_details(request):
        raise Http404
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(b"".join(_exposition(encode)), content_type=content_type)
