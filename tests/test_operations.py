"""What the operations team reads: the Prometheus metrics at /metrics (rightsguard/metrics.py) and the JSON log lines
(rightsguard/logs.py). Who may read the metrics, that each request and task run is counted once with its labels, the
record's figures exactly, and that a log line carries the request's ids and nothing else of the request."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY

from cases.choices import CaseStatus, FlagKind, NotificationDelivery
from cases.models import Flag, Notification, OutboxMessage
from cases.tasks import check_case_flags
from rightsguard import logs
from rightsguard.celery import app as celery_app
from tests.factories import case_in
from tests.reports.dataset import clock

pytestmark = pytest.mark.django_db

REMOTE = {"REMOTE_ADDR": "10.20.30.40"}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: Client, **extra: str) -> dict[str, float]:
    """The exposition's samples, name{labels} -> value (the record's figures, and the counted ones)."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response["Cache-Control"].startswith("max-age=0")
    found = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def test_the_metrics_are_told_to_the_machine_itself_and_to_the_monitoring_token_only(client, settings):
    settings.RIGHTSGUARD_MONITORING_TOKEN = "monitor-secret-1"
    assert scrape(client)['rightsguard_dependency_up{dependency="database"}'] == 1.0
    # From another address: as if there were no such page, with a wrong token too.
    assert client.get("/metrics", **REMOTE).status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer monitor-secret-2", **REMOTE).status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token monitor-secret-1", **REMOTE).status_code == 404
    assert scrape(client, HTTP_AUTHORIZATION="Bearer monitor-secret-1", **REMOTE)
    # Only GET; and switched off, not even the machine itself reads it.
    assert client.post("/metrics").status_code == 405
    settings.RIGHTSGUARD_METRICS = False
    assert client.get("/metrics").status_code == 404


def test_each_request_is_counted_once_by_its_view_and_status_with_its_time_and_statements(client, world):
    ok = sample("rightsguard_http_requests_total", method="GET", view="healthz", status="200")
    missing = sample("rightsguard_http_requests_total", method="GET", view="unmatched", status="404")
    timed = sample("rightsguard_http_request_duration_seconds_count", view="healthz")
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/at-all")
    assert sample("rightsguard_http_requests_total", method="GET", view="healthz", status="200") == ok + 2
    assert sample("rightsguard_http_requests_total", method="GET", view="unmatched", status="404") == missing + 1
    assert sample("rightsguard_http_request_duration_seconds_count", view="healthz") == timed + 2
    # The queue reads the database: its statements are counted under its view.
    client.force_login(world.supervisor)
    statements = sample("rightsguard_db_statements_total", view="cases:queue")
    assert client.get("/queue/").status_code == 200
    assert sample("rightsguard_db_statements_total", view="cases:queue") > statements
    assert sample("rightsguard_db_seconds_total", view="cases:queue") > 0


def test_the_records_figures_are_read_at_each_scrape(client, world):
    now = timezone.now().replace(microsecond=0)
    case = case_in(world, CaseStatus.SUPERVISION)
    OutboxMessage.objects.all().delete()  # the jobs the case's making recorded
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(task="t", key="a", created_at=now - timedelta(seconds=120)),
            OutboxMessage(task="t", key="b", created_at=now - timedelta(seconds=10)),
            OutboxMessage(
                task="t", key="c", created_at=now - timedelta(seconds=900), published_at=now - timedelta(seconds=600)
            ),
            OutboxMessage(task="t", key="d", created_at=now - timedelta(seconds=900), published_at=now, done_at=now),
        ]
    )
    Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="SLA", raised_at=now)
    Flag.objects.create(case=case, kind=FlagKind.DOWNGRADED, rule_code="R1", raised_at=now)
    Flag.objects.create(
        case=case, kind=FlagKind.DOWNGRADED, rule_code="R2", raised_at=now, resolved_at=now, resolution="cleared"
    )
    base = Notification.objects.filter(emailed_at__isnull=True)
    failed_before = base.filter(email_failed_at__isnull=False).count()
    waiting_before = base.filter(email_failed_at__isnull=True, delivery=NotificationDelivery.EMAIL).count()
    note = {"recipient": world.supervisor, "case": case, "verb": "x", "created_at": now}
    Notification.objects.create(**note, email_failed_at=now)
    Notification.objects.create(**note)
    Notification.objects.create(**note, delivery=NotificationDelivery.DAILY)  # waits for the digest: not owed now
    Notification.objects.create(**note, emailed_at=now)
    with clock(now + timedelta(seconds=30)):
        found = scrape(client)
    assert found["rightsguard_outbox_unpublished"] == 2
    assert found["rightsguard_outbox_oldest_unpublished_age_seconds"] == 150
    assert found["rightsguard_outbox_unfinished"] == 1
    assert found["rightsguard_outbox_oldest_unfinished_age_seconds"] == 630
    assert (
        found['rightsguard_flags_open{kind="stalled"}']
        == Flag.objects.filter(kind=FlagKind.STALLED, resolved_at__isnull=True).count()
    )
    assert (
        found['rightsguard_flags_open{kind="downgraded"}']
        == Flag.objects.filter(kind=FlagKind.DOWNGRADED, resolved_at__isnull=True).count()
    )
    assert found["rightsguard_flags_raised_total"] == Flag.objects.count()
    assert found["rightsguard_notification_emails_failed"] == failed_before + 1
    assert found["rightsguard_notification_emails_waiting"] == waiting_before + 1
    # What waits in the broker's default queue, read from Redis itself (tasks run in-process in the tests, but a test
    # before this one may have published to the queue).
    assert found["rightsguard_broker_queue_length"] == waiting_in_broker()
    assert found['rightsguard_dependency_up{dependency="broker"}'] == 1


def waiting_in_broker() -> int:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return 0
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        return int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
    finally:
        client.close()


def test_the_exposition_names_no_person_no_case_and_nothing_typed(client, world):
    client.force_login(world.supervisor)
    client.get("/queue/?q=张三")
    body = Client().get("/metrics").content.decode()
    assert "张三" not in body
    assert world.supervisor.username not in body
    # Views by their URL names, never a path (with an id in it).
    views = set(re.findall(r'view="([^"]*)"', body))
    assert "cases:queue" in views
    assert [view for view in views if "/" in view or re.fullmatch(r"[\d-]+", view)] == []


def test_each_task_run_is_counted_by_its_outcome(world):
    case = case_in(world, CaseStatus.INTAKE)
    name = "cases.check_case_flags"
    succeeded = sample("rightsguard_celery_task_runs_total", task=name, outcome="succeeded")
    ran = sample("rightsguard_celery_task_duration_seconds_count", task=name)
    check_case_flags.apply(args=[case.pk])
    assert sample("rightsguard_celery_task_runs_total", task=name, outcome="succeeded") == succeeded + 1
    assert sample("rightsguard_celery_task_duration_seconds_count", task=name) == ran + 1
    assert sample("rightsguard_celery_tasks_running", task=name) == 0


@pytest.fixture
def json_lines():
    """The JSON lines the root logger writes while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_log_line_carries_the_requests_ids_and_nothing_else_of_it(client, world, json_lines):
    client.force_login(world.supervisor)
    response = client.get("/cases/987654321/?q=张三", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert set(line) == {"time", "level", "logger", "message", "request_id", "user_id", "case_id"}
    assert (line["level"], line["message"]) == ("WARNING", "Not Found: /cases/987654321/")
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["user_id"], line["case_id"]) == (world.supervisor.pk, 987654321)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    # After the request, none of them is left on the thread.
    logging.getLogger("rightsguard.test").warning("between requests")
    assert set(json_lines()[-1]) == {"time", "level", "logger", "message"}


def test_an_api_request_is_logged_with_the_tokens_user(world, json_lines):
    from accounts import tokens

    _token, key = tokens.issue_token(user=world.supervisor, name="logs", mfa_verified=True)
    response = Client().get("/api/v1/cases/987654321/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert (line["user_id"], line["case_id"], line["request_id"]) == (
        world.supervisor.pk,
        987654321,
        response["X-Request-ID"],
    )


@celery_app.task(name="tests.operations.log_a_line")
def log_a_line() -> str:
    logging.getLogger("rightsguard.test").warning("inside the task")
    try:
        raise ValueError("kept for the traceback")
    except ValueError:
        logging.getLogger("rightsguard.test").exception("it failed")
    return "done"


def test_a_task_run_is_logged_with_its_name_and_id_and_an_exception_with_its_traceback(json_lines):
    result = log_a_line.apply()
    inside, failed = [line for line in json_lines() if line["logger"] == "rightsguard.test"]
    assert (inside["task"], inside["task_id"], inside["message"]) == (
        "tests.operations.log_a_line",
        result.id,
        "inside the task",
    )
    assert set(inside) == {"time", "level", "logger", "message", "task", "task_id"}
    assert (failed["exception"]["type"], failed["task_id"]) == ("ValueError", result.id)
    assert "kept for the traceback" in failed["exception"]["traceback"]
    # The run's ids end with it.
    assert logs.context() == {}
    assert sample("rightsguard_celery_task_runs_total", task="tests.operations.log_a_line", outcome="succeeded") >= 1
