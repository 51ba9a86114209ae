"""Flag-scan benchmark (DESIGN §9): ``flag_cases`` over N synthetic cases on PostgreSQL.

    .venv/bin/python benchmarks/flag_scan.py                            # 100,000 cases in a scratch database
    .venv/bin/python benchmarks/flag_scan.py --cases 1000000            # the DESIGN target size (slow to seed)
    .venv/bin/python benchmarks/flag_scan.py --database rg_flags --keep          # seed once, keep the database
    .venv/bin/python benchmarks/flag_scan.py --database rg_flags --reuse --reset # measure it again from scratch

It creates a scratch database, migrates it, runs ``manage.py seed_demo --no-demo --cases N``, VACUUM ANALYZEs, and
then measures, in one fresh interpreter (as a long-lived worker would run it):

- ``first``: the first scan after seeding. Every case is unevaluated, so every case is read and evaluated, and
  every case that gains a flag gets its own transaction: the backfill a deployment runs once.
- ``no_change``: the scan repeated with nothing changed (median of ``--repeat`` runs); target < 1 s.
- ``changed``: ``--touch`` random cases changed (their version bumped, as any service write does), then a scan.
- ``next_day``: a scan one day later: the time-based candidates (stalled, idle, warnings, overdue referrals).
- ``full``: ``flag_cases(full=True)``: every case re-evaluated, e.g. after a rule change; nothing left to raise.

Each phase records wall time, SQL statements and the scan's counters. Results go to ``benchmarks/results/``
(git-ignored) as JSON. The database is dropped at the end unless ``--keep``. Not a test: timings depend on the
machine and on whatever else it runs (the load average before and after is recorded).
"""

import argparse
import base64
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TARGETS = {"full_scan_s_at_1M": 30.0, "no_change_s": 1.0}
# Suspects' ID numbers are encrypted at rest; benchmark databases are seeded and read with this fixed key (a valid
# Fernet key: 32 bytes, URL-safe base64), unless RIGHTSGUARD_FIELD_KEY is set. Scratch data only.
BENCH_FIELD_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"rightsguard benchmark field key").digest()).decode()


def env_for(database: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{database}",
        DJANGO_SETTINGS_MODULE="rightsguard.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "benchmark-only-secret-key"),
        RIGHTSGUARD_FIELD_KEY=os.environ.get("RIGHTSGUARD_FIELD_KEY", BENCH_FIELD_KEY),
        DJANGO_LOG_LEVEL="WARNING",
        # Digests go nowhere: the benchmark measures the scan, not an SMTP server.
        EMAIL_URL="dummymail://",
    )
    env.pop("REDIS_URL", None)  # tasks (the digest) run in-process
    return env


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)  # noqa: S603, S607


def manage(database: str, *args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env_for(database), check=True)  # noqa: S603


def prepare(database: str, cases: int) -> float:
    psql(f'DROP DATABASE IF EXISTS "{database}"')
    psql(f'CREATE DATABASE "{database}"')
    manage(database, "migrate", "--no-input", "-v0")
    help_text = subprocess.run(  # noqa: S603
        [PYTHON, str(ROOT / "manage.py"), "seed_demo", "--help"],
        cwd=ROOT,
        env=env_for(database),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "--cases" not in help_text:
        sys.exit("manage.py seed_demo has no --cases option; this benchmark needs it to generate data.")
    started = time.perf_counter()
    manage(database, "seed_demo", "--no-demo", "--cases", str(cases))
    seeded = time.perf_counter() - started
    psql("VACUUM ANALYZE", database)
    return seeded


# Puts a benchmark database back to "just seeded". The timeline is append-only (a trigger refuses deletes); this
# scratch database is the one place where its flag events may be removed, with the trigger off for the moment.
RESET_SQL = [
    "DELETE FROM cases_notification WHERE event_id IS NULL OR event_id IN "
    "(SELECT id FROM cases_caseevent WHERE kind IN ('flag_raised', 'flag_resolved'))",
    "ALTER TABLE cases_caseevent DISABLE TRIGGER USER",
    "DELETE FROM cases_caseevent WHERE kind IN ('flag_raised', 'flag_resolved')",
    "ALTER TABLE cases_caseevent ENABLE TRIGGER USER",
    "DELETE FROM cases_flag",
    "UPDATE cases_case SET flags_checked_version = 0, is_stalled = false, is_idle = false, "
    "has_overdue_referral = false, is_downgraded = false, has_review_prompt = false, expected_min_rank = NULL, "
    "sla_warn_at = NULL, sla_warned_at = NULL",
    "VACUUM ANALYZE",
]


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- The measuring child ------------------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from cases import flagging
    from cases.choices import OPEN_STATUSES
    from cases.flagging.scan import unchecked_cases
    from cases.models import Case, Flag

    statements = {"count": 0}

    def count(execute, sql, params, many, context):
        statements["count"] += 1
        return execute(sql, params, many, context)

    def run(name: str, **kwargs: Any) -> dict[str, Any]:
        statements["count"] = 0
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            result = flagging.flag_cases(**kwargs)
        seconds = time.perf_counter() - started
        row = {
            "seconds": round(seconds, 3),
            "statements": statements["count"],
            "candidates": result.candidates,
            "evaluated": result.evaluated,
            "raised": result.raised,
            "resolved": result.resolved,
            "warnings": result.warnings,
            "notifications": result.notifications,
            "skipped_locked": result.skipped_locked,
            "failed": result.failed,
        }
        print(f"{name:>10}: {seconds:8.2f} s  {row}", flush=True)
        return row

    phases: dict[str, Any] = {}
    now = timezone.now()
    phases["first"] = run("first", now=now)
    repeats = [run("no_change", now=now) for _ in range(args.repeat)]
    phases["no_change"] = {
        "seconds_median": statistics.median(r["seconds"] for r in repeats),
        "seconds_max": max(r["seconds"] for r in repeats),
        "statements": repeats[-1]["statements"],
        "candidates": repeats[-1]["candidates"],
        "runs": repeats,
    }
    ids = list(Case.objects.exclude(status="draft").values_list("pk", flat=True))
    touched = random.Random(20190201).sample(ids, min(args.touch, len(ids)))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET version = version + 1, last_activity_at = %s WHERE id = ANY(%s)", [now, touched]
        )
    phases["changed"] = {"touched": len(touched), **run("changed", now=now)}
    phases["next_day"] = run("next_day", now=now + timedelta(days=1))
    phases["full"] = run("full", now=now + timedelta(days=1), full=True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY status")
        statuses = dict(cursor.fetchall())
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0]
        explains = {}
        cursor.execute("ANALYZE cases_case")
        # The scan's own candidate queries, as it sends them.
        for name, qs in (
            ("unchecked", unchecked_cases().filter(pk__gt=0).order_by("pk").values("pk")[: flagging.DEFAULT_BATCH]),
            (
                "stalled",
                Case.objects.order_by()
                .filter(status__in=OPEN_STATUSES, is_stalled=False, paused_at__isnull=True, stage_due_at__lt=now)
                .values("pk"),
            ),
        ):
            sql, params = qs.query.sql_with_params()
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {sql}", params)
            explains[name] = [line[0] for line in cursor.fetchall()]
    open_flags = dict(Flag.objects.filter(resolved_at__isnull=True).values_list("kind").annotate(n=Count("id")))
    return {
        "cases": sum(statuses.values()),
        "statuses": statuses,
        "open_flags_by_kind": open_flags,
        "phases": phases,
        "postgres": pg_version,
        "explain": explains,
    }


# --- The driver ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default=f"rg_bench_flags_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--reuse", action="store_true", help="Measure an existing database; do not seed.")
    parser.add_argument("--reset", action="store_true", help="With --reuse: clear flags first (a new first run).")
    parser.add_argument("--touch", type=int, default=1000, help="Cases changed before the 'changed' phase.")
    parser.add_argument("--repeat", type=int, default=5, help="Runs of the no-change scan.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print("RESULT " + json.dumps(measure(args), default=str))
        return

    seeded_seconds = None
    if not args.reuse:
        seeded_seconds = prepare(args.database, args.cases)
    elif args.reset:
        for sql in RESET_SQL:
            psql(sql, args.database)
    try:
        before = loadavg()
        child = subprocess.Popen(  # noqa: S603
            [PYTHON, __file__, "--child", "--touch", str(args.touch), "--repeat", str(args.repeat)],
            cwd=ROOT,
            env=env_for(args.database),
            stdout=subprocess.PIPE,
            text=True,
        )
        result_line = ""
        for line in child.stdout:
            if line.startswith("RESULT "):
                result_line = line
            else:
                sys.stdout.write(line)
        if child.wait() != 0 or not result_line:
            sys.exit(child.returncode or 1)
        data = json.loads(result_line.removeprefix("RESULT "))
        after = loadavg()
    finally:
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{args.database}"')

    scale = 1_000_000 / max(data["cases"], 1)
    data.update(
        machine={
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_before": before,
            "loadavg_after": after,
        },
        seeded_seconds=seeded_seconds,
        targets=TARGETS,
        # Linear in the number of cases evaluated; the no-change scan reads partial indexes and does not grow.
        extrapolated_to_1M={
            "first_s": round(data["phases"]["first"]["seconds"] * scale, 1),
            "full_s": round(data["phases"]["full"]["seconds"] * scale, 1),
            "note": "linear extrapolation from the measured size, not a measurement",
        },
    )
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"flag_scan-{data['cases']}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    print(f"\nWritten {path}")
    print(json.dumps({k: data[k] for k in ("cases", "extrapolated_to_1M", "machine")}, indent=2))


if __name__ == "__main__":
    main()
