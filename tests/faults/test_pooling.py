"""Connection pooling, proven on loopback (docs/operations.md, "Connection pooling").

The web nodes run behind PgBouncer in transaction mode, then on Django's own psycopg pool, against a private
PostgreSQL; a burst of reads, writes and the pages that stream rows (analysis, yearly report) from several clients
at once all answer, the writes are all there afterwards, and the server never holds more connections than the pool
allows. The throughput of the three ways is measured in benchmarks/run.py (--pooling), not here.
"""

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.factories import PASSWORD
from tests.faults.stack import WAIT, Api, NativeStack, cache_root, free_port, missing, print_figures, wait_for

pytestmark = pytest.mark.faults

BODY = {
    "kind": "threat",
    "occurred_at": "2026-11-20T10:00:00+08:00",
    "location": "杭州市西湖区北山街",
    "summary": "电话威胁民警",
    "narrative": "嫌疑人多次电话威胁处警民警及其家属。",
}
POOL_SIZE = 2
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


class Bouncer:
    """PgBouncer in transaction mode in front of the stack's PostgreSQL, run as the postgres account (it refuses
    root) from a folder of the stack's cluster home."""

    def __init__(self, stack: NativeStack) -> None:
        self.stack = stack
        self.port = free_port()
        self.home = stack.pg_home / "pgbouncer"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.home.mkdir(exist_ok=True)
        (self.home / "users.txt").write_text('"postgres" ""\n')
        (self.home / "pgb.ini").write_text(
            "[databases]\n"
            f"rightsguard = host=127.0.0.1 port={self.stack.pg_port} dbname=rightsguard\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.home / 'users.txt'}\nadmin_users = postgres\n"
            f"pool_mode = transaction\ndefault_pool_size = {POOL_SIZE}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
            "max_client_conn = 200\nserver_lifetime = 3600\n"
            f"logfile = {self.home / 'pgbouncer.log'}\n"
        )
        shutil.chown(self.home, "postgres", "postgres")
        for name in ("users.txt", "pgb.ini"):
            shutil.chown(self.home / name, "postgres", "postgres")
        self.proc = subprocess.Popen(  # fixed binary and arguments
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                PGBOUNCER,
                str(self.home / "pgb.ini"),
            ],
            stdout=(self.home / "stdout.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self.answers, "PgBouncer to accept connections")
        except TimeoutError as e:
            raise TimeoutError(f"{e}: {self.log()[-2000:]}") from None

    def answers(self) -> bool:
        try:
            self.show("VERSION")
            return True
        except Exception:
            return False

    def show(self, what: str) -> list[dict]:
        import psycopg

        conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=pgbouncer"
        # The admin console speaks only the simple query protocol, which the client-side cursor uses.
        with psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
            cursor = conn.execute(f"SHOW {what}")
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def log(self) -> str:
        paths = (self.home / "stdout.log", self.home / "pgbouncer.log")
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=WAIT)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[NativeStack]:
    problem = missing() or (None if Path(PGBOUNCER).exists() else "needs PgBouncer (Debian's pgbouncer)")
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the pooling test: {problem}")
        pytest.skip(problem)
    s = NativeStack(tmp=tmp_path_factory.mktemp("pooling"))
    try:
        s.init_postgres()
        s.configure(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
        s.migrate(cache_root(tmp_path_factory))
        s.collect_static(cache_root(tmp_path_factory))
        s.build_world()
        # What the app sends as a startup option elsewhere is set on the database, as the runbook says.
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={s.pg_port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute("ALTER DATABASE rightsguard SET max_parallel_workers_per_gather = 0")
        yield s
    finally:
        s.down()


def log_in(stack: NativeStack, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(stack.base_url + "/accounts/login/", timeout=15)
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = session.post(
        stack.base_url + "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        headers={"Referer": stack.base_url + "/accounts/login/"},
        allow_redirects=False,
        timeout=15,
    )
    assert done.status_code == 302, done.text[:500]
    return session


def app_connections(conn, since) -> int:
    """Client connections to the application's database opened since ``since`` (the web server's restart), other
    than the asking one. Connections of earlier processes and earlier queries may linger in pg_stat_activity for a
    moment after they close; counting only those opened since the restart, through one connection kept open, counts
    the pools under test and nothing else."""
    return conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'rightsguard' AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend' AND backend_start >= %s",
        (since,),
    ).fetchone()[0]


def burst(stack: NativeStack, label: str, since) -> dict:
    """Eight clients at once: officers filing and submitting cases, supervisors reading the list, the queue, the
    analysis and the yearly report (pages that stream rows). Returns what was seen; every answer must succeed."""
    import psycopg

    conn = psycopg.connect(f"host=127.0.0.1 port={stack.pg_port} user=postgres dbname=rightsguard", autocommit=True)
    try:
        return _burst(stack, label, conn, since)
    finally:
        conn.close()


def _burst(stack: NativeStack, label: str, conn, since) -> dict:
    def one(query: str, *params):
        return conn.execute(query, params).fetchone()[0]

    unit = one("SELECT id FROM accounts_orgunit WHERE code = '330106001'")
    officer = Api(stack, "officer", PASSWORD)
    supervisor = Api(stack, "supervisor", PASSWORD)
    browser = log_in(stack, "supervisor")
    before = one("SELECT count(*) FROM cases_case WHERE summary LIKE %s", f"{label} %")
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], app_connections(conn, since))
            time.sleep(0.05)

    def file(n: int) -> tuple[int, int]:
        created = officer.post("/cases/", json={**BODY, "unit": unit, "summary": f"{label} {n}"})
        assert created.status_code == 201, created.text
        submitted = officer.post(f"/cases/{created.json()['id']}/actions/submit/", json={})
        return created.status_code, submitted.status_code

    def read(n: int) -> int:
        if n % 4 == 0:
            return browser.get(stack.base_url + "/analysis/", timeout=30).status_code
        if n % 4 == 1:
            return browser.get(stack.base_url + "/reports/", timeout=30).status_code
        if n % 4 == 2:
            return browser.get(stack.base_url + "/queue/", timeout=30).status_code
        return supervisor.get("/cases/", timeout=30).status_code

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            filed = list(pool.map(file, range(12)))
            read_ = list(pool.map(read, range(24)))
    finally:
        stop.set()
        watcher.join(timeout=10)
    after = one("SELECT count(*) FROM cases_case WHERE summary LIKE %s", f"{label} %")
    submitted = one("SELECT count(*) FROM cases_case WHERE summary LIKE %s AND status <> 'draft'", f"{label} %")
    return {"filed": filed, "read": read_, "new_cases": after - before, "submitted": submitted, "peak": peak[0]}


def restart_web(stack: NativeStack, **env: str):
    """Restarts the web server with ``env``; returns the database server's clock at the restart (connections opened
    before it are not the new server's pools')."""
    stack.kill("web")
    stack.env.update(env)
    started = stack.sql("SELECT clock_timestamp()")[0][0]
    stack.start_web()
    return started


def test_behind_pgbouncer_in_transaction_mode_every_request_answers_and_the_server_holds_the_pool_size(stack):
    bouncer = Bouncer(stack)
    bouncer.start()
    try:
        since = restart_web(
            stack,
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{bouncer.port}/rightsguard",
            RIGHTSGUARD_DB_POOL="pgbouncer",
        )
        seen = burst(stack, "pgbouncer", since)
        pools = [p for p in bouncer.show("POOLS") if p["database"] == "rightsguard"]
        print_figures("pgbouncer", {k: v for k, v in seen.items() if k != "read"})
    finally:
        stack.kill("web")
        bouncer.stop()
    assert seen["filed"] == [(201, 200)] * 12
    assert seen["read"] == [200] * 24
    assert (seen["new_cases"], seen["submitted"]) == (12, 12)
    # Two gunicorn workers, each keeping its client connection to PgBouncer; PgBouncer keeps at most two server
    # connections whatever the number of clients (the watcher's own connection is not counted).
    assert 1 <= seen["peak"] <= POOL_SIZE, seen["peak"]
    assert [(p["user"], p["pool_mode"]) for p in pools] == [("postgres", "transaction")]
    assert b"Traceback" not in stack.log("web"), stack.log("web")[-3000:].decode(errors="replace")


def test_on_djangos_psycopg_pool_every_request_answers_and_each_process_keeps_to_its_pool(stack):
    try:
        since = restart_web(
            stack,
            DATABASE_URL=stack.database_url,
            RIGHTSGUARD_DB_POOL="psycopg",
            RIGHTSGUARD_DB_POOL_MIN="1",
            RIGHTSGUARD_DB_POOL_MAX=str(POOL_SIZE),
        )
        seen = burst(stack, "psycopg", since)
        print_figures("psycopg-pool", {k: v for k, v in seen.items() if k != "read"})
    finally:
        stack.kill("web")
    assert seen["filed"] == [(201, 200)] * 12
    assert seen["read"] == [200] * 24
    assert (seen["new_cases"], seen["submitted"]) == (12, 12)
    # Two gunicorn workers, each with its own pool of at most two connections.
    assert 1 <= seen["peak"] <= 2 * POOL_SIZE, seen["peak"]
    assert b"Traceback" not in stack.log("web"), stack.log("web")[-3000:].decode(errors="replace")


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        ("", {"server_side_cursors": True, "pool": None, "conn_max_age": 60, "options": True}),
        ("pgbouncer", {"server_side_cursors": False, "pool": None, "conn_max_age": 60, "options": False}),
        (
            "psycopg",
            {
                "server_side_cursors": True,
                "pool": {"min_size": 1, "max_size": 4, "timeout": 10},
                "conn_max_age": 0,
                "options": True,
            },
        ),
    ],
)
def test_the_pool_setting_shapes_the_database_settings(stack, pool, expected):
    code = (
        "import json; from django.conf import settings; d = settings.DATABASES['default']; print(json.dumps({"
        "'server_side_cursors': not d.get('DISABLE_SERVER_SIDE_CURSORS', False), 'pool': d['OPTIONS'].get('pool'),"
        "'conn_max_age': d['CONN_MAX_AGE'], 'options': 'options' in d['OPTIONS']}))"
    )
    env = {"RIGHTSGUARD_DB_POOL": pool, "DJANGO_CONN_MAX_AGE": "60", "RIGHTSGUARD_DB_POOL_MAX": "4"}
    done = stack.manage("shell", "--no-imports", "-v", "0", "-c", code, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected


def test_an_unknown_pool_setting_stops_the_start_with_a_sentence(stack):
    done = stack.manage("check", env={"RIGHTSGUARD_DB_POOL": "pgpool"})
    assert done.returncode != 0
    assert "RIGHTSGUARD_DB_POOL must be empty, 'psycopg' or 'pgbouncer', not 'pgpool'" in done.stderr


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_a_worker_or_beat_told_to_use_pgbouncer_refuses_to_start_and_says_why(stack, program):
    import sys

    done = subprocess.run(  # our interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "rightsguard", program, "--loglevel=WARNING"],
        cwd=stack.tmp.parent,
        env={**stack.env, "RIGHTSGUARD_DB_POOL": "pgbouncer", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode != 0
    assert "must connect to PostgreSQL directly, not through PgBouncer in transaction mode" in done.stdout + done.stderr
