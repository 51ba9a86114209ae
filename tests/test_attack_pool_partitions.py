"""Connection pooling and the monthly partitions, attacked: what a pool setting, PgBouncer's transaction mode or a row
dated at the end of time did to the app before it was fixed (docs/operations.md, "Connection pooling" and
"Partitions and retention")."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.utils import timezone

from cases import partitions
from cases.choices import AccessAction, CaseStatus, EventKind
from cases.flagging import scan
from cases.models import AccessLog, CaseEvent, Flag
from tests.factories import case_in
from tests.faults.stack import free_port, wait_for
from tests.security.test_deploy_check import ROOT, manage_check, production_env

EVENTS, LOG = CaseEvent._meta.db_table, AccessLog._meta.db_table
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
NOT_THROUGH_PGBOUNCER = "The flag scan must connect to PostgreSQL directly, not through PgBouncer in transaction mode"

pg = pytest.mark.usefixtures("postgres_only")


def one(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def home(table: str, pk: int) -> str:
    """The partition a row is stored in."""
    return one(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])[0]  # noqa: S608


def postgres_env(**extra: str) -> dict[str, str]:
    """Production settings on PostgreSQL (``manage.py check`` does not connect: the URL need not answer)."""
    env = production_env()
    if not env["DATABASE_URL"].startswith("postgres"):
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres"
    return {**env, **extra}


# --- PgBouncer in transaction mode, in front of the test database --------------------------------------------------


@dataclass
class Bouncer:
    port: int
    home: Path
    proc: subprocess.Popen

    @property
    def conninfo(self) -> str:
        params = connection.settings_dict
        return f"host=127.0.0.1 port={self.port} user={params['USER']} dbname={params['NAME']}"

    def django_connection(self) -> DatabaseWrapper:
        """A Django connection to the test database through PgBouncer, as RIGHTSGUARD_DB_POOL=pgbouncer sets one up:
        no startup options (PgBouncer refuses them), no server-side cursors."""
        params = connection.settings_dict
        options = {k: v for k, v in params["OPTIONS"].items() if k not in ("options", "pool")}
        return DatabaseWrapper(
            {
                **params,
                "HOST": "127.0.0.1",
                "PORT": self.port,
                "OPTIONS": options,
                "CONN_MAX_AGE": 0,
                "DISABLE_SERVER_SIDE_CURSORS": True,
            },
            alias="through_pgbouncer",
        )


@pytest.fixture(scope="module")
def bouncer(django_db_setup, django_db_blocker) -> Iterator[Bouncer]:
    """PgBouncer 1.18 in transaction mode with ONE server connection, so that every client shares it between its
    transactions, as clients of a busy pool do."""
    if not Path(PGBOUNCER).exists() or os.geteuid() != 0:
        problem = "needs PgBouncer (Debian's pgbouncer) and root (it runs as postgres)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PgBouncer test: {problem}")
        pytest.skip(problem)
    with django_db_blocker.unblock():
        params = dict(connection.settings_dict)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="rightsguard-pgbouncer-"))
    password = f" password={params['PASSWORD']}" if params.get("PASSWORD") else ""
    (folder / "users.txt").write_text(f'"{params["USER"]}" ""\n')
    (folder / "pgb.ini").write_text(
        "[databases]\n"
        f"* = host={params['HOST'] or '127.0.0.1'} port={params['PORT'] or 5432}{password}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 1\nmin_pool_size = 0\nreserve_pool_size = 0\n"
        f"max_client_conn = 50\nlogfile = {folder / 'pgbouncer.log'}\n"
    )
    for path in (folder, folder / "users.txt", folder / "pgb.ini"):
        shutil.chown(path, "postgres", "postgres")
    proc = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
        ["/usr/sbin/runuser", "-u", "postgres", "--", PGBOUNCER, str(folder / "pgb.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    running = Bouncer(port, folder, proc)

    def answers() -> bool:
        try:
            with django_db_blocker.unblock(), psycopg.connect(running.conninfo, connect_timeout=2) as c:
                c.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    try:
        wait_for(answers, "PgBouncer to accept connections")
        yield running
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


@pg
def test_behind_pgbouncer_the_flag_scan_refuses_rather_than_lend_its_session_to_other_clients(
    db, bouncer, settings, monkeypatch
):
    """The scan's session (an advisory lock, synchronous_commit off) outlives its transactions. Through PgBouncer in
    transaction mode the server connection goes to other clients in between: a web request then committed without
    waiting for the disk, and a second scan took the "one at a time" lock as its own (the same server session), after
    which the first scan's unlock left it held there, so every later scan found "another scan is running"."""
    settings.DB_POOL = "pgbouncer"
    through = bouncer.django_connection()
    monkeypatch.setattr(scan, "connection", through)
    other = psycopg.connect(bouncer.conninfo, autocommit=True)
    seen = []

    def scan_while_another_client_works() -> None:
        with scan._ScanSession():
            seen.append(other.execute("SHOW synchronous_commit").fetchone()[0])
            seen.append(other.execute("SELECT pg_try_advisory_lock(%s)", [scan.SCAN_LOCK_KEY]).fetchone()[0])

    try:
        with pytest.raises(ImproperlyConfigured, match=NOT_THROUGH_PGBOUNCER):
            scan_while_another_client_works()
        # Before, the other client saw ["off", True]: the scan's setting, and the lock as if it were free.
        assert seen == []
        assert other.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        held = other.execute(
            # This database's only: other test databases on the same server (parallel workers) run scans of theirs.
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [scan.SCAN_LOCK_KEY],
        ).fetchone()[0]
        assert held == 0
    finally:
        other.close()
        through.close()


def test_the_flag_scan_command_behind_pgbouncer_refuses_and_says_why(world, settings):
    settings.DB_POOL = "pgbouncer"
    case_in(world, CaseStatus.INTAKE)
    flags = Flag.objects.count()
    with pytest.raises(CommandError, match=NOT_THROUGH_PGBOUNCER):
        call_command("flag_cases", "--full")
    assert Flag.objects.count() == flags


# --- Django's psycopg pool -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minimum", "maximum", "timeout"),
    [("5", "2", "10"), ("-1", "4", "10"), ("0", "0", "10"), ("1", "4", "0"), ("1", "4", "-3")],
)
def test_a_pool_size_or_timeout_the_pool_would_refuse_stops_the_start_with_a_sentence(minimum, maximum, timeout):
    """psycopg_pool checked these only when the first request opened the pool: the start looked fine and every
    request then failed (a 500 for the sizes; for the timeouts a 503 saying the database was unreachable)."""
    env = postgres_env(
        RIGHTSGUARD_DB_POOL="psycopg",
        RIGHTSGUARD_DB_POOL_MIN=minimum,
        RIGHTSGUARD_DB_POOL_MAX=maximum,
        RIGHTSGUARD_DB_POOL_TIMEOUT=timeout,
    )
    result = manage_check(env)
    assert result.returncode != 0
    assert (
        "RIGHTSGUARD_DB_POOL_MIN must be 0 or more and at most RIGHTSGUARD_DB_POOL_MAX, which must be 1 or more, and "
        f"RIGHTSGUARD_DB_POOL_TIMEOUT at least 1 second, not {minimum}, {maximum} and {timeout} (docs/operations.md)."
    ) in result.stderr


def test_the_smallest_pool_the_settings_allow_starts():
    env = postgres_env(
        RIGHTSGUARD_DB_POOL="psycopg",
        RIGHTSGUARD_DB_POOL_MIN="0",
        RIGHTSGUARD_DB_POOL_MAX="1",
        RIGHTSGUARD_DB_POOL_TIMEOUT="1",
    )
    result = manage_check(env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("pool", "expected"), [("pgbouncer", True), ("", False), ("psycopg", False)])
def test_the_replica_behind_pgbouncer_uses_no_server_side_cursor_either(pool, expected):
    """The replica takes the primary's pool setting (no startup options behind PgBouncer), but kept server-side
    cursors: the report's and the analysis' ``.iterator()`` would fetch from a cursor another server connection held."""
    env = postgres_env(RIGHTSGUARD_DB_POOL=pool, DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:5432/replica")
    code = (
        "from django.conf import settings; d = settings.DATABASES; "
        "print([d[a].get('DISABLE_SERVER_SIDE_CURSORS', False) for a in ('default', 'replica')])"
    )
    done = subprocess.run(  # noqa: S603 - our interpreter and arguments
        [sys.executable, "manage.py", "shell", "--no-imports", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str([expected, expected])


# --- the partitions ------------------------------------------------------------------------------------------------


@pg
def test_a_row_in_the_last_month_a_date_can_name_stays_in_default_and_the_rest_is_still_maintained(world):
    """A row dated December 9999 (a clock, or ``flag_cases --now``, far off) once stopped every run: its month's
    partition would end on 10000-01-01, which no date names, so planning and applying raised for the timeline, and the
    access log's expired months, handled after it, were never dropped either."""
    now = timezone.now()
    case = case_in(world, CaseStatus.INTAKE)
    end_of_time = datetime(9999, 12, 31, 12, tzinfo=UTC)
    far = now + timedelta(days=2 * 365)
    stuck = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=end_of_time, data={"text": "end of time"})
    movable = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, at=far, data={"text": "far"})
    old = now - timedelta(days=400)
    partitions.cover(AccessLog, start=old, end=old)
    expired = AccessLog.objects.create(action=AccessAction.VIEW, object_ref="400 days", at=old)
    log_stuck = AccessLog.objects.create(action=AccessAction.VIEW, object_ref="end of time", at=end_of_time)
    before = list(CaseEvent.objects.order_by("pk").values_list("pk", "at", "data"))

    steps = [s.describe() for s in partitions.plan(now=now)]
    outcome = partitions.apply(now=now)

    assert f"{EVENTS}: move 1 row(s) out of {EVENTS}_default into new partitions for {far:%Y-%m}" in steps
    assert (outcome.postponed, outcome.moved_rows, outcome.dropped_rows) == ([], 1, 1)
    assert (home(EVENTS, stuck.pk), home(EVENTS, movable.pk)) == (f"{EVENTS}_default", f"{EVENTS}_p{far:%Y_%m}")
    assert home(LOG, log_stuck.pk) == f"{LOG}_default"
    assert not AccessLog.objects.filter(pk=expired.pk).exists()
    assert list(CaseEvent.objects.order_by("pk").values_list("pk", "at", "data")) == before
    # The monitoring still says DEFAULT holds a row; the next run has nothing to do (no move of DEFAULT every day).
    assert partitions.status(now=now) == {EVENTS: (1, 3), LOG: (1, 3)}
    assert partitions.plan(now=now) == []
    assert partitions.apply(now=now).done == []


@pg
def test_a_request_that_finds_the_pool_exhausted_is_told_the_database_is_busy_not_unreachable(db, rf):
    """A full pool (every connection lent, none free within RIGHTSGUARD_DB_POOL_TIMEOUT) is the database being busy, as
    PostgreSQL's own "too many connections" is: the answer said it could not be reached."""
    from psycopg_pool import ConnectionPool

    from rightsguard import errors

    params = connection.get_connection_params()
    with ConnectionPool(kwargs=params, min_size=0, max_size=1, timeout=0.2, open=True) as pool:
        with pool.connection(), pytest.raises(DatabaseError) as caught, connection.wrap_database_errors:
            pool.getconn()
        assert errors.database_failure(caught.value) == errors.BUSY
        answer = errors.database_failed(rf.get("/api/v1/cases/"), caught.value, errors.database_failure(caught.value))
    assert (answer.status_code, json.loads(answer.content)["code"]) == (503, "database_busy")


@pytest.mark.parametrize("value", ["ten", "1.5", ""])
def test_a_number_setting_that_is_not_a_whole_number_stops_the_start_naming_the_variable(value):
    """Before, ``RIGHTSGUARD_IDLE_DAYS=ten`` stopped the start with "invalid literal for int() with base 10", naming
    neither the variable nor the setting."""
    import subprocess
    import sys

    done = subprocess.run(  # our interpreter and arguments
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": "x", "RIGHTSGUARD_IDLE_DAYS": value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"RIGHTSGUARD_IDLE_DAYS must be a whole number, not {value!r}" in done.stderr, done.stderr[-2000:]
