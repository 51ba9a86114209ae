"""A real Celery worker and beat on Redis, against the test's PostgreSQL database.

Proves that (1) a task a service schedules on commit runs on the worker, (2) beat schedules the flag scan,
and (3) a task whose worker is killed mid-run is delivered again after a restart and has its effect once
(late acknowledgement, a short visibility timeout, and an idempotent task).

The processes are started by the tests with their own queue name, so a developer's worker on the same Redis
never sees these tasks; every wait is bounded and every process is killed at the end. Needs PostgreSQL
(``DATABASE_URL``) and Redis (``REDIS_URL``): skipped locally without them, a failure in CI.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, Disposition, EventKind, FlagKind, InjuryGrade
from cases.models import Case, CaseEvent, Flag, Notification, Suspect
from tests.factories import case_in

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)
WAIT = 40.0  # seconds; generous for a loaded CI machine, and every wait ends early on success


def _missing() -> str | None:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        return "needs Redis: set REDIS_URL=redis://..."
    if connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at {redis_url} is not reachable: {exc}"
    return None


@dataclass
class Stack:
    tmp: Path
    redis_url: str
    queue: str
    env: dict[str, str]
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, *args: str, **extra_env: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("wb")
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "rightsguard", *args],
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole
        )
        self.procs[name] = proc
        return proc

    def worker(self, name: str = "worker") -> subprocess.Popen:
        if name in self.procs and self.procs[name].poll() is None:
            return self.procs[name]
        proc = self.start(
            name,
            "worker",
            "-P",
            "solo",
            "-Q",
            self.queue,
            "-n",
            f"{name}-{self.queue}@%h",
            "-I",
            "tests.integration.celery_tasks",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        )
        self.wait_for(lambda: b" ready." in self.log(name), f"{name} to start")
        return proc

    def beat(self) -> subprocess.Popen:
        return self.start(
            "beat", "beat", "-s", str(self.tmp / "beat-schedule"), "--loglevel=INFO", RIGHTSGUARD_FLAG_SCAN_SECONDS="2"
        )

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log(self, name: str) -> bytes:
        path = self.tmp / f"{name}.log"
        return path.read_bytes() if path.exists() else b""

    def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited ({proc.returncode}) waiting for {what}:\n{self.tail(name)}")
            time.sleep(0.2)
        logs = "\n".join(f"--- {name}\n{self.tail(name)}" for name in self.procs)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")

    def tail(self, name: str) -> str:
        return self.log(name)[-3000:].decode(errors="replace")

    def run_django(self, code: str) -> str:
        """Run ``code`` in a fresh process with the full stack's settings, as a web request would."""
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            timeout=WAIT,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done.stdout.decode()

    def publish(self, task: str, *args: Any) -> None:
        from celery import Celery

        client = Celery(broker=self.redis_url)
        try:
            client.send_task(task, args=list(args), queue=self.queue)
        finally:
            client.close()

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url)

    def forget_queue(self) -> None:
        """Drop this module's queue, its bindings, markers and any unacknowledged message routed to it."""
        client = self.redis()
        try:
            keys = client.keys(f"*{self.queue}*")
            if keys:
                client.delete(*keys)
            for tag, payload in client.hgetall("unacked").items():
                if self.queue.encode() in payload:
                    client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
        finally:
            client.close()


@pytest.fixture
def stack(transactional_db, tmp_path) -> Iterator[Stack]:
    """A queue, a log directory and the processes of one test. Set up after the test database, so it is torn
    down first: every process is dead before the database is flushed under it."""
    problem = _missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the worker integration tests: {problem}")
        pytest.skip(problem)
    db = connection.settings_dict
    database_url = "postgres://{user}{password}@{host}:{port}/{name}".format(
        user=db["USER"] or "postgres",
        password=f":{db['PASSWORD']}" if db["PASSWORD"] else "",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        name=db["NAME"],
    )
    redis_url = os.environ["REDIS_URL"]
    queue = f"rg-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": "integration-tests-only",
        "DJANGO_CONN_MAX_AGE": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        # Redeliver an unacknowledged task 3 s after its worker vanished, checking every second.
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "EMAIL_URL": "consolemail://",
        "DJANGO_LOG_LEVEL": "INFO",
    }
    s = Stack(tmp=tmp_path, redis_url=redis_url, queue=queue, env=env)
    try:
        yield s
    finally:
        for name in list(s.procs):
            s.kill(name)
        s.forget_queue()


def test_a_task_scheduled_on_commit_runs_on_the_worker(stack, world):
    case = case_in_supervision_with_a_suspect(world)
    stack.worker()
    suspect_id = case.suspects.get().pk
    supervisor_id = world.supervisor.pk
    out = stack.run_django(
        "from rightsguard.celery import app\n"
        "from accounts.models import User\n"
        "from cases import services\n"
        "from cases.models import Suspect\n"
        "print('eager', app.conf.task_always_eager)\n"
        f"services.record_disposition(suspect=Suspect.objects.get(pk={suspect_id}), "
        f"by=User.objects.get(pk={supervisor_id}), disposition='{Disposition.ADMIN_FINE}', "
        "lenient_reason='forgiveness')\n"
    )
    assert "eager False" in out  # the web process only published the task
    flag = stack.wait_for(
        lambda: Flag.objects.filter(case=case, rule_code="R1", resolved_at__isnull=True).first(),
        "the on-commit check to flag the case",
    )
    assert flag.kind == FlagKind.DOWNGRADED
    stack.wait_for(
        lambda: Notification.objects.filter(event__data__flag=flag.pk, emailed_at__isnull=False).exists(),
        "the digest the check scheduled on commit",
    )
    assert b"cases.check_case_flags" in stack.log("worker")


def test_beat_schedules_the_flag_scan(stack, world):
    case = case_in(world, CaseStatus.INTAKE)
    # Past due without any service write: only the periodic scan's candidate query can find it.
    Case.objects.filter(pk=case.pk).update(stage_due_at=timezone.now() - timedelta(hours=1))
    stack.worker()
    stack.beat()
    flag = stack.wait_for(
        lambda: Flag.objects.filter(case=case, kind=FlagKind.STALLED).first(), "beat's flag scan to flag the case"
    )
    assert flag.resolved_at is None
    assert b"cases.flag_cases" in stack.log("beat")
    assert b"cases.flag_cases" in stack.log("worker")


def test_a_task_killed_mid_run_is_redelivered_and_has_its_effect_once(stack, world):
    case = case_in_supervision_with_a_suspect(world, disposition=Disposition.ADMIN_FINE)
    assert not Flag.objects.filter(case=case).exists()
    marker = f"{stack.queue}:slow"
    client = stack.redis()

    stack.worker("first")
    stack.publish("tests.integration.slow_check_case_flags", case.pk, marker, 120)
    stack.wait_for(lambda: client.get(f"{marker}:written"), "the first delivery to write inside its transaction")
    stack.kill("first")  # SIGKILL mid-transaction: nothing is committed, nothing is acknowledged
    assert not Flag.objects.filter(case=case).exists()

    stack.worker("second")
    flag = stack.wait_for(
        lambda: Flag.objects.filter(case=case, rule_code="R1").first(), "the redelivered task to flag the case"
    )
    stack.wait_for(lambda: b"succeeded" in stack.log("second"), "the redelivered task to finish")
    assert int(client.get(f"{marker}:attempts")) == 2
    assert Flag.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_RAISED).count() == 1
    assert Notification.objects.filter(event__data__flag=flag.pk).count() == 1

    # A third delivery of the same business key changes nothing.
    stack.publish("cases.check_case_flags", case.pk)
    stack.wait_for(lambda: stack.log("second").count(b"succeeded") >= 2, "a repeated check to finish")
    assert Flag.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_RAISED).count() == 1
    client.close()


# --- Data -------------------------------------------------------------------------------------------------------


def case_in_supervision_with_a_suspect(world, disposition: str | None = None) -> Case:
    """A violent attack with a slight injury, so a fine for it is flagged by R1 (the services' on-commit check
    runs in this process, eagerly, while the case is built; nothing is final yet, so nothing is flagged)."""
    case = case_in(world, CaseStatus.SUPERVISION)
    services.update_involved_officer(officer=case.officers.get(), by=world.supervisor, injury=InjuryGrade.SLIGHT)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    if disposition is not None:
        # Written past the services, so no check is scheduled: the task under test is what must flag it.
        Suspect.objects.filter(pk=suspect.pk).update(disposition=disposition)
    return Case.objects.get(pk=case.pk)


def test_a_real_worker_counts_its_task_runs_and_serves_them_and_the_web_reads_its_queue(stack, world, tmp_path):
    """The worker's metrics (rightsguard/metrics.py) from its own process: a run that succeeded and one that failed,
    served on the worker's metrics port; the web's /metrics reads the jobs waiting in the broker's queue."""
    import socket
    import urllib.request

    with socket.socket() as probe:  # a free loopback port, for this worker alone
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tmp_path / "worker-metrics"
    directory.mkdir()
    case = case_in(world, CaseStatus.INTAKE)
    # Two jobs wait before any worker runs: the web's scrape counts them in the broker's queue.
    stack.publish("cases.check_case_flags", case.pk)
    stack.publish("cases.check_case_flags", "not a case id")
    stack.env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    scrape = (
        "from django.test import Client\n"
        "body = Client().get('/metrics', HTTP_HOST='127.0.0.1').content.decode()\n"
        "print([line for line in body.splitlines() if line.startswith('rightsguard_broker_queue_length ')])\n"
    )
    assert "['rightsguard_broker_queue_length 2.0']" in stack.run_django(scrape)
    stack.env.update(PROMETHEUS_MULTIPROC_DIR=str(directory), RIGHTSGUARD_WORKER_METRICS_PORT=str(port))
    stack.worker()

    def samples() -> dict[str, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        return {
            line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
            for line in text.splitlines()
            if line.startswith("rightsguard_celery_task_runs_total")
        }

    task = 'task="cases.check_case_flags"'
    found = stack.wait_for(
        lambda: (s := samples()).get(f'rightsguard_celery_task_runs_total{{outcome="failed",{task}}}') and s,
        "the worker to count the failed run",
    )
    assert found == {
        f'rightsguard_celery_task_runs_total{{outcome="succeeded",{task}}}': 1.0,
        f'rightsguard_celery_task_runs_total{{outcome="failed",{task}}}': 1.0,
    }
    assert "['rightsguard_broker_queue_length 0.0']" in stack.run_django(scrape)
