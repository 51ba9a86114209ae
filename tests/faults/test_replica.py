"""The read replica (cases/reading.py, DATABASE_REPLICA_URL): a private PostgreSQL primary and a streaming standby
made from it with ``pg_basebackup -R``, on loopback ports of their own. The yearly report and the analysis read the
standby and say how fresh it is; with its replay paused they show what it had, while the primary has moved on; with
the standby down they read the primary and say nothing about freshness. Every write stays on the primary.
"""

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.faults.stack import WAIT, NativeStack, cache_root, free_port, missing, pg_bindir, wait_for

WORLD = """
from accounts.models import OrgUnit, User
from tests.factories import World
u = {x.code: x for x in OrgUnit.objects.all()}
p = {x.username: x for x in User.objects.all()}
w = World(
    ministry=u["000000"], province=u["330000"], city=u["330100"], county=u["330106"], station=u["330106001"],
    other_station=u["330106002"], sibling_province=u["420000"], sibling_station=u["420100001"],
    **{name: p[name] for name in ("officer", "other_officer", "supervisor", "county_supervisor", "sibling_supervisor",
                                  "ministry_supervisor", "admin", "sibling_officer")},
)
"""

FILE_CASES = (
    WORLD
    + """
from tests.factories import case_in
for _ in range({n}):
    case_in(w, "intake")
"""
)

REPORT = """
import json
from django.test import Client
from django.utils import timezone
from accounts.models import OrgUnit
from analysis.figures import analyse
from cases.reports.yearly import yearly_report
city = OrgUnit.objects.get(code="330100")
year = timezone.localdate().year
report = yearly_report(unit=city, year=year)
analysis = analyse(unit=city, year=year)
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(__import__("accounts.models").models.User.objects.get(username="supervisor"))
page = client.get("/reports/", {"unit": "330100", "year": year}).content.decode()
print(json.dumps({
    "cases": report.cases.total.current,
    "analysed": analysis.total.cases,
    "as_of": report.figures_as_of.isoformat() if report.figures_as_of else None,
    "analysis_as_of": analysis.figures_as_of.isoformat() if analysis.figures_as_of else None,
    "page_says": 'id="figures-as-of"' in page,
}))
"""


class Standby:
    """A streaming standby of the stack's primary, in a directory of its own, on a port of its own."""

    def __init__(self, stack: NativeStack) -> None:
        self.stack = stack
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="rg-replica-pg-"))
        os.chmod(self.home, 0o755)
        shutil.chown(self.home, "postgres", "postgres")

    @property
    def data(self) -> Path:
        return self.home / "data"

    def create(self) -> None:
        bindir = pg_bindir()
        self.stack._as_postgres(
            str(bindir / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(self.stack.pg_port), "-U", "postgres"),
            *("-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"),
        )

    def pg_ctl(self, *args: str, check: bool = True) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off -c hot_standby=on"
        self.stack._as_postgres(
            str(pg_bindir() / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.home / "pg.log"),
            "-o",
            opts,
            *args,
            check=check,
        )

    def start(self) -> None:
        self.pg_ctl("start", "-w", "-t", "60")

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast", check=False)

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=rightsguard") as conn:
            return conn.execute(query).fetchall()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/rightsguard"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory) -> Iterator[tuple[NativeStack, Standby]]:
    problem = missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the replica test: {problem}")
        pytest.skip(problem)
    stack = NativeStack(tmp=tmp_path_factory.mktemp("replica"))
    standby = None
    try:
        stack.init_postgres()
        stack.configure(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
        cache = cache_root(tmp_path_factory)
        stack.migrate(cache)
        stack.collect_static(cache)
        stack.build_world()
        standby = Standby(stack)
        standby.create()
        standby.start()
        yield stack, standby
    finally:
        if standby is not None:
            standby.remove()
        stack.down()


def run(stack: NativeStack, code: str, **env: str) -> str:
    saved = stack.env
    stack.env = {**saved, **env}
    try:
        done = stack.manage("shell", "--no-imports", "-v", "0", "-c", code, timeout=WAIT)
    finally:
        stack.env = saved
    assert done.returncode == 0, done.stderr
    return done.stdout


def report(stack: NativeStack, standby: Standby) -> dict:
    return json.loads(run(stack, REPORT, DATABASE_REPLICA_URL=standby.url).strip().splitlines()[-1])


def cases_on(standby: Standby) -> int:
    return standby.sql("SELECT count(*) FROM cases_case WHERE status <> 'draft'")[0][0]


def test_the_reports_read_the_standby_say_how_fresh_it_is_and_fall_back_to_the_primary(replicated):
    stack, standby = replicated
    run(stack, FILE_CASES.replace("{n}", "2"))
    wait_for(lambda: cases_on(standby) == 2, "the standby to replay the first cases", timeout=WAIT)
    replayed = standby.sql("SELECT pg_last_xact_replay_timestamp()")[0][0]

    first = report(stack, standby)
    assert (first["cases"], first["analysed"], first["page_says"]) == (2, 2, True)
    # As of the last change the standby applied: the cases' (the report writes nothing before it reads).
    assert datetime.fromisoformat(first["as_of"]) == replayed
    assert first["analysis_as_of"] == first["as_of"]

    # Replay paused: the primary moves on, the reports keep the standby's figures and its time.
    standby.sql("SELECT pg_wal_replay_pause()")
    wait_for(lambda: standby.sql("SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused", "replay to pause")
    stopped_at = standby.sql("SELECT pg_last_xact_replay_timestamp()")[0][0]
    run(stack, FILE_CASES.replace("{n}", "3"))
    assert stack.sql("SELECT count(*) FROM cases_case WHERE status <> 'draft'")[0][0] == 5
    time.sleep(1)
    paused = report(stack, standby)
    assert (paused["cases"], paused["analysed"], paused["page_says"]) == (2, 2, True)
    assert datetime.fromisoformat(paused["as_of"]) == stopped_at

    # Replay resumed: the standby catches up and so do the reports.
    standby.sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: cases_on(standby) == 5, "the standby to catch up", timeout=WAIT)
    caught_up = report(stack, standby)
    assert (caught_up["cases"], caught_up["analysed"]) == (5, 5)
    assert datetime.fromisoformat(caught_up["as_of"]) > datetime.fromisoformat(first["as_of"])

    # The standby down: the reports read the primary, and say nothing about freshness.
    standby.stop()
    run(stack, FILE_CASES.replace("{n}", "1"))
    down = report(stack, standby)
    assert (down["cases"], down["analysed"], down["as_of"], down["page_says"]) == (6, 6, None, False)
    standby.start()


def test_without_a_replica_nothing_changes(replicated):
    stack, _standby = replicated
    out = json.loads(run(stack, REPORT).strip().splitlines()[-1])
    assert (out["as_of"], out["page_says"]) == (None, False)
    assert out["cases"] == stack.sql("SELECT count(*) FROM cases_case WHERE status <> 'draft'")[0][0]
