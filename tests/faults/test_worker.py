"""The worker's shape, its survival of a killed Redis at the kombu level, its heartbeat, and the deployment files
that start it (rightsguard/celery.py, rightsguard/heartbeat.py, docker-compose.yml, deploy/systemd/).

The end-to-end proof (the production worker under load while Redis is killed five times) is
tests/faults/test_faults.py; these run without root. The tests that need Redis use REDIS_URL, or start a private
redis-server to kill: skipped locally without them, a failure in CI.
"""

import configparser
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import yaml
from celery.apps.worker import Worker as CeleryWorker
from django.core.management import call_command
from django.core.management.base import CommandError
from kombu import Connection, Consumer, Exchange, Queue
from kombu.common import ignore_errors
from kombu.transport import redis as kombu_redis

from rightsguard import celery as rg_celery
from rightsguard import health, heartbeat
from tests.faults.stack import DEPLOYED_WORKER, ROOT, free_port, wait_for

UNITS = ROOT / "deploy" / "systemd"


def needs(problem: str | None) -> None:
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test: {problem}")
        pytest.skip(problem)


# --- the worker's shape ------------------------------------------------------------------------------------------


def test_the_worker_runs_without_gossip_mingle_and_heartbeat_whatever_its_command_line_says(monkeypatch):
    received = {}
    monkeypatch.setattr(CeleryWorker, "__init__", lambda self, *args, **kwargs: received.update(kwargs))
    rg_celery.app.Worker(
        hostname="w@h", concurrency=2, without_gossip=False, without_mingle=False, without_heartbeat=False
    )
    assert received == {
        "hostname": "w@h",
        "concurrency": 2,
        "without_gossip": True,
        "without_mingle": True,
        "without_heartbeat": True,
    }


def test_the_worker_keeps_remote_control_and_beats():
    # Remote control's subscription is how a worker with a full prefetch notices that Redis went away.
    assert rg_celery.app.conf.worker_enable_remote_control is True
    assert rg_celery.WorkerHeartbeat in rg_celery.app.steps["consumer"]


# --- a killed Redis at the kombu level ---------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    needs(None if shutil.which("redis-server") else "needs redis-server")
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.DEVNULL, start_new_session=True)  # fixed argv
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _answers(port), "the private Redis to start", timeout=20)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=20)


def _answers(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def test_closing_what_a_killed_redis_left_open_is_a_connection_error_not_an_attributeerror(private_redis):
    """The worker's own teardown after Redis was killed (celery Consumer.on_connection_error_after_connected:
    collect, then close), with the channels it has then: the task channel waiting in BRPOP and holding a task it
    has not acknowledged, and after it the remote-control channel with its auto-delete fanout queue. Before
    rightsguard/celery.py's channel, the close raised AttributeError ('NoneType' object has no attribute
    'hostname'), which ended the worker."""
    proc, url = private_redis
    conn = Connection(url, transport_options={"socket_timeout": 2, "socket_connect_timeout": 2})
    conn.ensure_connection(max_retries=1)
    tasks = conn.default_channel
    assert type(tasks) is rg_celery._RedisChannel
    queue = Queue("celery", Exchange("celery", "direct"), routing_key="celery")
    conn.Producer(tasks).publish({"job": 1}, exchange=queue.exchange, routing_key="celery", declare=[queue])
    received = []
    Consumer(tasks, queues=[queue], no_ack=False, callbacks=[lambda _body, message: received.append(message)]).consume()
    conn.drain_events(timeout=5)
    assert len(received) == 1  # delivered, not acknowledged
    with pytest.raises(socket.timeout):
        conn.drain_events(timeout=0.3)  # waiting for the next task: a BRPOP is in flight
    pidbox = conn.channel()
    Queue("w@h.celery.pidbox", Exchange("celery.pidbox", "fanout"), auto_delete=True).bind(pidbox).declare()

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=20)
    # Celery's order: collect (errors ignored) detaches the transport, then the close.
    with contextlib.suppress(Exception):  # as Celery does
        conn.collect(socket_timeout=2)
    ignore_errors(conn, conn.close)  # re-raises anything that is not a connection error, as it did in the worker

    assert tasks.closed


def test_a_detached_channel_raises_the_brokers_connection_error():
    channel = rg_celery._RedisChannel.__new__(rg_celery._RedisChannel)
    channel.connection = SimpleNamespace(client=None)  # the transport after Connection.collect()
    with pytest.raises(redis.ConnectionError, match=r"^The broker connection is closed\.$"):
        channel._connparams()
    connection_errors, _channel_errors = kombu_redis.get_redis_error_classes()
    assert redis.ConnectionError in connection_errors  # what the worker's reconnect loop catches


# --- the heartbeat -----------------------------------------------------------------------------------------------


@pytest.fixture
def broker(settings, monkeypatch) -> redis.Redis:
    url = os.environ.get("REDIS_URL", "")
    needs(None if url.startswith("redis://") else "needs Redis: set REDIS_URL=redis://...")
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(heartbeat, "KEY", f"rightsguard:test:heartbeat:{uuid.uuid4().hex}")
    client = redis.Redis.from_url(url)
    yield client
    client.delete(heartbeat.KEY)
    client.close()


@pytest.fixture
def beat_file(settings, tmp_path) -> Path:
    settings.RIGHTSGUARD_WORKER_HEARTBEAT_FILE = str(tmp_path / "worker.heartbeat")
    settings.RIGHTSGUARD_WORKER_HEARTBEAT_SECONDS = 15.0
    return tmp_path / "worker.heartbeat"


def test_a_beat_touches_the_file_and_sets_the_key_for_four_beats(broker, beat_file):
    heartbeat.beat(hostname="celery@worker-1", client=heartbeat.broker_redis())
    assert beat_file.exists()
    assert heartbeat.file_age() < 5
    assert broker.get(heartbeat.KEY) == b"celery@worker-1"
    assert 55 <= broker.ttl(heartbeat.KEY) <= 60
    assert heartbeat.worker_state() == "ok"
    broker.delete(heartbeat.KEY)  # what the time to live does after four missed beats
    assert heartbeat.worker_state() == "stale"


def test_a_beat_that_cannot_write_carries_on(broker, settings, tmp_path, caplog):
    settings.RIGHTSGUARD_WORKER_HEARTBEAT_FILE = str(tmp_path / "missing-directory" / "worker.heartbeat")
    heartbeat.beat(hostname="celery@worker-1", client=heartbeat.broker_redis())
    assert broker.get(heartbeat.KEY) == b"celery@worker-1"
    assert "Cannot write the worker heartbeat file" in caplog.text


def test_the_worker_state_is_unknown_when_redis_does_not_answer(settings, beat_file):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert heartbeat.worker_state() == "unknown"


def test_without_a_broker_there_is_no_worker(settings):
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert heartbeat.broker_redis() is None
    assert heartbeat.worker_state() == "inline"


def test_worker_alive_exits_0_for_a_fresh_heartbeat(beat_file, capsys):
    beat_file.touch()
    call_command("worker_alive")
    assert capsys.readouterr().out.startswith("The worker beat ")


def test_worker_alive_exits_1_without_a_heartbeat(beat_file):
    with pytest.raises(CommandError, match="No worker heartbeat at ") as raised:
        call_command("worker_alive")
    assert raised.value.returncode == 1


def test_worker_alive_exits_1_for_a_heartbeat_four_beats_old(beat_file):
    beat_file.touch()
    old = time.time() - 61
    os.utime(beat_file, (old, old))
    assert 61 <= heartbeat.file_age() < 70
    with pytest.raises(CommandError, match=r"last heartbeat is 6\d s old \(stale after 60 s\)\.$") as raised:
        call_command("worker_alive")
    assert raised.value.returncode == 1
    beat_file.touch()
    call_command("worker_alive")


def test_worker_alive_exits_1_in_a_real_process(beat_file):
    """The compose health check runs the command as a process: its exit status is what Docker reads."""
    env = {**os.environ, "RIGHTSGUARD_WORKER_HEARTBEAT_FILE": str(beat_file), "DJANGO_DEBUG": "1"}
    run = [sys.executable, "manage.py", "worker_alive"]
    missing = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # fixed argv
    assert (missing.returncode, missing.stderr.strip()) == (1, f"CommandError: No worker heartbeat at {beat_file}.")
    beat_file.touch()
    fresh = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # fixed argv
    assert fresh.returncode == 0, fresh.stderr


# --- /readyz -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["ok", "stale"])
def test_readyz_shows_the_worker_to_loopback_and_a_stale_worker_leaves_it_ready(client, monkeypatch, state):
    monkeypatch.setattr(health, "_broker_ok", lambda: True)
    monkeypatch.setattr(heartbeat, "worker_state", lambda: state)
    answer = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    assert (answer.status_code, answer.json()["status"], answer.json()["worker"]) == (200, "ok", state)


@pytest.mark.django_db
def test_readyz_does_not_ask_redis_about_the_worker_when_the_broker_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "_broker_ok", lambda: False)
    monkeypatch.setattr(heartbeat, "worker_state", lambda: pytest.fail("asked a broker that is down"))
    answer = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    assert (answer.status_code, answer.json()["worker"]) == (503, "unknown")


@pytest.mark.django_db
def test_readyz_tells_an_outside_caller_about_the_worker_only_with_the_monitoring_token(client, monkeypatch, settings):
    settings.RIGHTSGUARD_MONITORING_TOKEN = "monitor-token-0123456789"
    monkeypatch.setattr(health, "_broker_ok", lambda: True)
    asked = []
    monkeypatch.setattr(heartbeat, "worker_state", lambda: asked.append("worker") or "stale")
    answer = client.get("/readyz", REMOTE_ADDR="203.0.113.50")
    assert (answer.status_code, answer.json(), asked) == (200, {"status": "ok"}, [])
    shown = client.get("/readyz", REMOTE_ADDR="203.0.113.50", HTTP_AUTHORIZATION="Bearer monitor-token-0123456789")
    assert (shown.status_code, shown.json()["worker"], asked) == (200, "stale", ["worker"])


# --- the deployment files ----------------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((UNITS / name).read_text())
    return parser


def test_compose_restarts_web_worker_and_beat_and_checks_the_worker():
    services = compose()["services"]
    assert {name: services[name].get("restart") for name in ("web", "worker", "beat", "db", "redis")} == dict.fromkeys(
        ("web", "worker", "beat", "db", "redis"), "unless-stopped"
    )
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "worker_alive"]


def test_compose_systemd_and_the_fault_tests_start_the_same_worker():
    assert compose()["services"]["worker"]["command"] == ["celery", "-A", "rightsguard", *DEPLOYED_WORKER]
    exec_start = unit("rightsguard-worker.service")["Service"]["ExecStart"].split()
    assert exec_start == ["/opt/rightsguard/.venv/bin/celery", "-A", "rightsguard", *DEPLOYED_WORKER]


@pytest.mark.parametrize("name", ["rightsguard-web.service", "rightsguard-worker.service", "rightsguard-beat.service"])
def test_every_unit_restarts_always_as_the_service_user_with_the_environment_file(name):
    service = unit(name)["Service"]
    assert (service["Restart"], service["User"], service["WorkingDirectory"], service["EnvironmentFile"]) == (
        "always",
        "rightsguard",
        "/opt/rightsguard",
        "/etc/rightsguard/rightsguard.env",
    )
    assert service["KillMode"] == "mixed"  # SIGTERM to the main process, which stops its children in order
    assert unit(name)["Unit"]["StartLimitIntervalSec"] == "0"


def test_the_worker_unit_waits_as_long_as_compose_for_a_warm_shutdown():
    service = unit("rightsguard-worker.service")["Service"]
    assert compose()["services"]["worker"]["stop_grace_period"] == "60s"
    assert service["TimeoutStopSec"] == "60"
    assert service["Environment"] == "RIGHTSGUARD_WORKER_HEARTBEAT_FILE=/run/rightsguard-worker/heartbeat"
    assert service["RuntimeDirectory"] == "rightsguard-worker"


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    """With the code where the units expect it (here: this checkout), systemd accepts them."""
    needs(None if shutil.which("systemd-analyze") else "needs systemd-analyze")
    for path in UNITS.glob("*.service"):
        (tmp_path / path.name).write_text(path.read_text().replace("/opt/rightsguard", str(ROOT)))
    verified = subprocess.run(  # fixed command
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (verified.returncode, verified.stderr) == (0, "")
