"""Every DESIGN §9 benchmark in one run, on PostgreSQL, with a table of results against the targets.

    .venv/bin/python benchmarks/run.py                                      # 100,000 cases, scratch database
    .venv/bin/python benchmarks/run.py --cases 1000000 --database rg_bench_1m --keep   # seed once, keep it
    .venv/bin/python benchmarks/run.py --database rg_bench_1m --reuse       # measure the kept database again
    .venv/bin/python benchmarks/run.py --database rg_bench_1m --reuse --no-wrk --duration 10
    .venv/bin/python benchmarks/run.py --database rg_bench_1m --reuse --only dashboard_ministry dashboard_county

Steps:

1. Database: create, migrate and seed (``manage.py seed_demo --no-demo --cases N``, its rate recorded), then VACUUM
   ANALYZE; with ``--reuse``, migrate only (and measure the seeding rate on a small scratch database instead, see
   ``--seed-sample``). Static files are collected into a scratch directory: the site runs as in production.
2. In one process (``--child``), with Django's test client (server time: middleware, views, templates, queries;
   no network): the supervisor queue at ministry, province, city and county level (and with a text filter), the
   administration site's case list for a superuser on the same data, an officer's home page, a case page with a
   500-event timeline, the API case list (per level and with filters) and case detail. For each: median and p95
   of ``--repeat`` requests, the SQL statements of one request (``CaptureQueriesContext``), and those statements
   replayed on a raw cursor (median), so that app time ÷ SQL time shows where the time goes. Then
   ``flag_cases`` with nothing changed and in full (after the one-off first scan if the data was never scanned),
   and the yearly report of one province. The search (``--only search`` measures nothing else): a two-character
   word over every status (the top bar's ranked page, the queue, the API), a suspect's name, an ID number.
3. In fresh processes, reusing ``benchmarks/reports.py``: the national yearly report (from the report summaries;
   beside it the same report computed live, and whether the two are equal), the summaries' reconcile, the XLSX
   export and the streamed detail CSV's peak memory.
4. Throughput (``--wrk``, on by default): gunicorn with 2 workers on a free loopback port, production settings,
   one session log-in and one API token, then ``wrk --latency`` for ``--duration`` seconds against the queue page
   and the API case list: requests/s and p99.

Benchmark users are created in the data if missing (``bench_*``; supervisors at the ministry, a province and a
county, a superuser), and one open case of the county gets a 500-note timeline. The officer is the synthetic
station officer who filed the most cases. Results: a table on stdout and JSON in ``benchmarks/results/``
(git-ignored). The database is dropped at the end unless ``--keep`` or ``--reuse``. Not a test: timings depend on
the machine and what else runs on it; the load average is recorded before and after.
"""

import argparse
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import flag_scan  # noqa: E402  (the flag benchmark's database helpers)
import reports as report_bench  # noqa: E402  (the report benchmark's measurements)

PYTHON = sys.executable
PG = flag_scan.PG
RESULTS = ROOT / "benchmarks" / "results"
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", "/tmp/rg_bench_static"))  # noqa: S108
BENCH_PASSWORD = "bench-only-password-" + "not-a-secret"
BENCH_FIELD_KEY = flag_scan.BENCH_FIELD_KEY
TIMELINE_EVENTS = 500
PROVINCE, CITY, COUNTY = "330000", "330100", "330106"

# name -> (target, unit, direction). "le": at most; "ge": at least. None: measured for comparison only.
# The plain queue pages are held to issue 19's 20 ms (and their app ÷ SQL to 4, ``queue_app_over_sql``); a text
# search of the queue to issue 18's 50 ms.
TARGETS: dict[str, tuple[float | None, str, str]] = {
    "queue_ministry": (20, "ms", "le"),
    "queue_province": (20, "ms", "le"),
    "queue_city": (20, "ms", "le"),
    "queue_county": (20, "ms", "le"),
    "queue_ministry_text": (50, "ms", "le"),
    "queue_county_page2": (20, "ms", "le"),
    # The largest app ÷ SQL of the plain queue pages above: the time spent outside the database, per time in it.
    "queue_app_over_sql": (4, "×", "le"),
    "admin_case_changelist": (None, "ms", "le"),
    "officer_home": (30, "ms", "le"),
    "case_page_500_events": (50, "ms", "le"),
    "api_list_ministry": (50, "ms", "le"),
    "api_list_province": (50, "ms", "le"),
    "api_list_county": (50, "ms", "le"),
    "api_list_filtered": (50, "ms", "le"),
    "api_list_text": (50, "ms", "le"),
    "api_detail": (None, "ms", "le"),
    "dashboard_ministry": (100, "ms", "le"),
    "dashboard_county": (100, "ms", "le"),
    "dashboard_ministry_uncached": (None, "ms", "le"),
    # The one search (cases/search.py), issue 18: the ministry supervisor, every status.
    "search_two_chars": (50, "ms", "le"),
    "queue_two_chars_all_statuses": (50, "ms", "le"),
    "api_two_chars_all_statuses": (50, "ms", "le"),
    "search_two_chars_trigram": (None, "ms", "le"),
    "search_two_chars_sorted": (None, "ms", "le"),
    "search_party_surname_sorted": (None, "ms", "le"),
    "search_party_name": (50, "ms", "le"),
    "search_party_surname": (50, "ms", "le"),
    "queue_party_surname": (50, "ms", "le"),
    "search_id_number": (10, "ms", "le"),
    "search_id_number_page": (None, "ms", "le"),
    "flag_cases_no_change": (1, "s", "le"),
    "flag_cases_full": (30, "s", "le"),
    "flag_cases_first": (60, "s", "le"),
    "flag_cases_full_planner": (None, "s", "le"),
    "report_national": (1.0, "s", "le"),
    "report_national_live": (None, "s", "le"),
    "summaries_reconcile": (None, "s", "le"),
    "report_province": (None, "s", "le"),
    "xlsx_national": (2, "s", "le"),
    "pdf_national": (3, "s", "le"),
    "pdf_peak_memory": (150, "MiB", "le"),
    "csv_peak_memory": (200, "MB", "le"),
    "seed_rate": (3000, "cases/s", "ge"),
    "analysis_ministry": (1000, "ms", "le"),
    "analysis_province": (1000, "ms", "le"),
    # Counted live (the summaries keep nothing finer than a city): measured, no target; the seeder's county is huge.
    "analysis_county": (None, "ms", "le"),
    "api_analysis_ministry": (1000, "ms", "le"),
    "campaign_select_freeze": (10, "s", "le"),
    "campaign_page": (100, "ms", "le"),
    "wrk_healthz": (None, "req/s", "ge"),
    "wrk_queue_county": (None, "req/s", "ge"),
    "wrk_api_list_county": (300, "req/s", "ge"),
    # The machine-independent form of the target (issue 19): the API list's rate as a share of /healthz's in the same
    # run, and the web workers' CPU time per API list request.
    "wrk_api_list_share_of_healthz": (8, "%", "ge"),
    "wrk_api_list_cpu_per_request": (None, "ms CPU", "le"),
}


def env_for(database: str) -> dict[str, str]:
    env = flag_scan.env_for(database)
    env.update(
        RIGHTSGUARD_FIELD_KEY=os.environ.get("RIGHTSGUARD_FIELD_KEY", BENCH_FIELD_KEY),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,testserver",
        RIGHTSGUARD_MFA_REQUIRED="0",
        DJANGO_STATIC_ROOT=str(STATIC_ROOT),
    )
    return env


def manage(database: str, *args: str, capture: bool = False) -> str:
    out = subprocess.run(  # noqa: S603
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env_for(database),
        check=True,
        capture_output=capture,
        text=True,
    )
    return out.stdout or ""


def seed(database: str, cases: int) -> dict[str, Any]:
    """Create, migrate and seed ``database``; returns the seeding rate as seed_demo reports it."""
    flag_scan.psql(f'DROP DATABASE IF EXISTS "{database}"')
    flag_scan.psql(f'CREATE DATABASE "{database}"')
    manage(database, "migrate", "--no-input", "-v0")
    started = time.perf_counter()
    out = manage(database, "seed_demo", "--no-demo", "--cases", str(cases), capture=True)
    seconds = time.perf_counter() - started
    found = re.search(r"Added ([\d,]+) synthetic cases in ([\d.]+) s", out)
    generated = int(found.group(1).replace(",", "")) if found else cases
    generating = float(found.group(2)) if found else seconds
    flag_scan.psql("VACUUM ANALYZE", database)
    return {"cases": generated, "seconds": round(generating, 1), "command_seconds": round(seconds, 1)}


# --- Measuring in-process (the child) -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ensure_users() -> dict[str, Any]:
    from django.db.models import Count

    from accounts import services as account_services
    from accounts.models import OrgUnit, Role, User
    from cases.models import Case

    root = OrgUnit.objects.get(parent__isnull=True)
    wanted = {
        "ministry": (root, Role.SUPERVISOR),
        "province": (OrgUnit.objects.get(code=PROVINCE), Role.SUPERVISOR),
        "city": (OrgUnit.objects.get(code=CITY), Role.SUPERVISOR),
        "county": (OrgUnit.objects.get(code=COUNTY), Role.SUPERVISOR),
    }
    users: dict[str, Any] = {}
    for level, (unit, role) in wanted.items():
        user = User.objects.filter(username=f"bench_{level}").first()
        if user is None:
            user = account_services.create_user(
                username=f"bench_{level}", password=BENCH_PASSWORD, full_name=f"Bench {level}", validate=False
            )
        account_services.grant_membership(user=user, unit=unit, role=role)
        users[level] = user
    superuser = User.objects.filter(username="bench_root").first()
    if superuser is None:
        superuser = User.objects.create_superuser(username="bench_root", password=BENCH_PASSWORD)
    users["superuser"] = superuser
    # The synthetic station officer with the most applications of their own (the busiest home page).
    busiest = (
        Case.objects.filter(filed_by__username__startswith="officer-")
        .values("filed_by")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    users["officer"] = User.objects.get(pk=busiest["filed_by"])
    users["officer_cases"] = busiest["n"]
    return users


def ensure_long_case(supervisor: Any) -> Any:
    """An open case of the county with a ``TIMELINE_EVENTS``-event timeline (notes by the bench supervisor)."""
    from accounts.models import OrgUnit
    from cases import services
    from cases.choices import OPEN_STATUSES
    from cases.models import Case, CaseEvent

    marked = CaseEvent.objects.filter(actor=supervisor).values_list("case_id", flat=True).first()
    if marked is not None:
        case = Case.objects.get(pk=marked)
    else:
        case = (
            Case.objects.filter(
                unit_path__startswith=OrgUnit.objects.get(code=COUNTY).path,
                status__in=OPEN_STATUSES,
                paused_at__isnull=True,
            )
            .order_by("-id")
            .first()
        )
    missing = TIMELINE_EVENTS - CaseEvent.objects.filter(case=case).count()
    for i in range(max(0, missing)):
        case = services.add_note(case=case, by=supervisor, text=f"Benchmark note {i + 1}: follow-up call logged.")
    return case


# Transaction control is left out of a replay (it runs in one transaction that is rolled back), and a server-side
# cursor's query is run as a plain query with every row fetched, as the page's iteration fetches them.
CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|FETCH|CLOSE)\b", re.IGNORECASE)
DECLARE = re.compile(r'^DECLARE\s+"[^"]+"\s.*?\bCURSOR\b.*?\bFOR\s+', re.IGNORECASE | re.DOTALL)


def replayable(statements: list[str]) -> list[str]:
    return [DECLARE.sub("", sql, count=1) for sql in statements if not CONTROL.match(sql)]


def replay(statements: list[str]) -> float:
    """Run the captured statements again on a raw cursor, rows fetched; rolled back (some requests write)."""
    from django.db import connection, transaction

    statements = replayable(statements)
    with transaction.atomic():
        cursor = connection.connection.cursor()
        started = time.perf_counter()
        for sql in statements:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
        elapsed = time.perf_counter() - started
        cursor.close()
        transaction.set_rollback(True)
    return elapsed


def timed_with_sql(work: Any, repeat: int) -> tuple[Any, dict[str, Any]]:
    """``work`` run twice to warm up, once with its SQL captured (its result returned), then ``repeat`` times timed,
    and its SQL replayed as often: the median and p95, the number of statements and the SQL's own median."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm: connection, session, template and plan caches
        work()
    with CaptureQueriesContext(connection) as captured:
        result = work()
    statements = [q["sql"] for q in captured.captured_queries]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    sql_times = [replay(statements) for _ in range(repeat)]
    median, sql_median = statistics.median(times), statistics.median(sql_times)
    return result, {
        "value": round(median * 1000, 2),
        "median_ms": round(median * 1000, 2),
        "p95_ms": round(percentile(times, 0.95) * 1000, 2),
        "queries": len(statements),
        "sql_median_ms": round(sql_median * 1000, 2),
        "app_over_sql": round(median / sql_median, 1) if sql_median else None,
        "statements": statements,
    }


def measure_page(client: Any, url: str, repeat: int, headers: dict[str, str]) -> dict[str, Any]:
    def get() -> Any:
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    response, measured = timed_with_sql(get, repeat)
    statements = measured.pop("statements")
    return {"url": url, **measured, "bytes": len(response.content), "statements": statements}


def measure_scan(**kwargs: Any) -> dict[str, Any]:
    from django.db import connection

    from cases import flagging

    count = {"n": 0}

    def counter(execute, sql, params, many, context):
        count["n"] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = flagging.flag_cases(notify=False, **kwargs)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "queries": count["n"],
        "candidates": result.candidates,
        "evaluated": result.evaluated,
        "raised": result.raised,
        "resolved": result.resolved,
    }


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts import tokens
    from accounts.models import OrgUnit
    from accounts.selectors import actor_for
    from cases.models import Case, CaseEvent
    from cases.queue_filters import QueueFilters, queue_page

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    out: dict[str, Any] = {}
    log("Preparing users and the long-timeline case...")
    users = ensure_users()
    case = ensure_long_case(users["county"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_caseevent")
    out["officer"] = {"username": users["officer"].username, "cases_filed": users["officer_cases"]}
    out["long_case"] = {"id": case.pk, "events": CaseEvent.objects.filter(case=case).count()}
    out["cases"] = Case.objects.count()

    def session(user: Any) -> Any:
        client = Client()
        client.force_login(user)
        return client

    def token(user: Any) -> dict[str, str]:
        _token, key = tokens.issue_token(user=user, name="benchmark", mfa_verified=True)
        return {"HTTP_AUTHORIZATION": f"Token {key}"}

    api = Client()
    # A search word that occurs in some summaries (a place name), so the filter does real work.
    word = args.text
    queue = reverse("cases:queue")
    county_id = OrgUnit.objects.get(code=COUNTY).pk
    second = queue_page(actor_for(users["county"]), QueueFilters()).next_cursor
    pages: list[tuple[str, Any, str, dict[str, str]]] = [
        ("queue_ministry", session(users["ministry"]), queue, {}),
        ("queue_province", session(users["province"]), queue, {}),
        ("queue_city", session(users["city"]), queue, {}),
        ("queue_county", session(users["county"]), queue, {}),
        ("queue_ministry_text", session(users["ministry"]), f"{queue}?q={word}", {}),
        ("queue_county_page2", session(users["county"]), f"{queue}?after={second}", {}),
        ("admin_case_changelist", session(users["superuser"]), "/admin/cases/case/", {}),
        ("officer_home", session(users["officer"]), reverse("cases:home"), {}),
        ("case_page_500_events", session(users["county"]), reverse("cases:detail", args=[case.pk]), {}),
        ("api_list_ministry", api, "/api/v1/cases/", token(users["ministry"])),
        ("api_list_province", api, "/api/v1/cases/", token(users["province"])),
        ("api_list_county", api, "/api/v1/cases/", token(users["county"])),
        (
            "api_list_filtered",
            api,
            f"/api/v1/cases/?status=supervision&status=referred&kind=violent_attack&unit={county_id}"
            "&occurred_after=2023-01-01T00:00:00Z&injury_at_least=minor_2",
            token(users["province"]),
        ),
        ("api_list_text", api, f"/api/v1/cases/?q={word}", token(users["ministry"])),
        ("api_detail", api, f"/api/v1/cases/{case.pk}/", token(users["county"])),
        # The supervisor's landing page: every figure of the subtree (the median column cached, see below).
        ("dashboard_ministry", session(users["ministry"]), reverse("cases:home"), {}),
        ("dashboard_county", session(users["county"]), reverse("cases:home"), {}),
        # The analysis (issue 21): the national page reads the summaries, a county counts its cases live.
        ("analysis_ministry", session(users["ministry"]), f"/analysis/?year={args.year}", {}),
        ("analysis_province", session(users["province"]), f"/analysis/?year={args.year}", {}),
        ("analysis_county", session(users["county"]), f"/analysis/?year={args.year}", {}),
        ("api_analysis_ministry", api, f"/api/v1/analysis/?year={args.year}", token(users["ministry"])),
    ]
    for name, client, url, headers in pages:
        if args.only and name not in args.only:
            continue
        try:
            out[name] = measure_page(client, url, args.repeat, headers)
        except Exception as error:  # one broken page must not lose the others' numbers
            out[name] = {"error": repr(error), "traceback": traceback.format_exc()}
            log(f"{name:>24}: FAILED {error!r}")
            continue
        row = out[name]
        log(
            f"{name:>24}: median {row['median_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms  "
            f"{row['queries']:3d} queries  SQL {row['sql_median_ms']:7.1f} ms"
        )

    if not args.only or "dashboard_ministry_uncached" in args.only:
        guarded(
            out,
            "dashboard_ministry_uncached",
            lambda: measure_uncached_dashboard(args, session(users["ministry"]), out, log),
        )
    if not args.only or "search" in args.only:
        guarded(out, "search", lambda: measure_search(args, out, users, session, token, log))
    if not args.only or "flag_cases" in args.only:
        guarded(out, "flag_cases", lambda: measure_flags(args, out, log))
    if not args.only or "report_province" in args.only:
        guarded(out, "report_province", lambda: measure_province_report(args, out, log))
    if not args.only or "campaign" in args.only:
        guarded(out, "campaign_select_freeze", lambda: measure_campaign(args, out, users, session, log))
    return out


def measure_uncached_dashboard(args: argparse.Namespace, client: Any, out: dict[str, Any], log: Any) -> None:
    """The ministry dashboard with its cached block (the sub-unit medians over a year of referrals) recomputed on
    every request: what the first visitor after the cache expires waits."""
    from django.core.cache import cache
    from django.urls import reverse

    times = []
    for _ in range(max(3, args.repeat // 4)):
        cache.clear()
        started = time.perf_counter()
        if client.get(reverse("cases:home")).status_code != 200:
            raise SystemExit("dashboard: not 200")
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    out["dashboard_ministry_uncached"] = {
        "value": round(median * 1000, 2),
        "median_ms": round(median * 1000, 2),
        "p95_ms": round(percentile(times, 0.95) * 1000, 2),
        "queries": None,
        "sql_median_ms": None,
        "app_over_sql": None,
    }
    log(f"dashboard_ministry_uncached: median {median * 1000:8.1f} ms")


def measure_call(work: Any, repeat: int) -> dict[str, Any]:
    """``measure_page`` for a function call (no HTTP, no template): its median and p95, and its SQL replayed."""
    return timed_with_sql(work, repeat)[1]


def measure_search(
    args: argparse.Namespace, out: dict[str, Any], users: dict[str, Any], session: Any, token: Any, log: Any
) -> None:
    """The one search at the ministry level over every status: the top bar's ranked page, the queue and the API
    list with a two-character word; a suspect's name; an ID number (the search itself, and its page). For
    comparison, the two-character search as the trigram indexes alone would serve it (the character-pair index
    switched off: what the search was before issue 18)."""
    from unittest import mock
    from urllib.parse import quote

    from django.test import Client
    from django.urls import reverse

    from accounts.selectors import actor_for
    from cases.choices import CaseStatus
    from cases.models import Suspect
    from cases.search import search_page

    two, ministry = args.two, users["ministry"]
    # A suspect's name (two or three characters, as most are) from the middle of the data, and an ID number.
    suspects = Suspect.objects.exclude(name="").order_by("id")
    name = suspects.values_list("name", flat=True)[suspects.count() // 2]
    with_number = Suspect.objects.exclude(id_number_index="").order_by("id")
    number = with_number[with_number.count() // 2].id_number  # decrypted here, by the benchmark, to search for it
    # A surname and 某, as most suspects' names begin (廖某, 姜某某): thousands of cases, a common text.
    surname = name[:1] + "某"
    out["search_words"] = {"two_chars": two, "party_name": name, "surname": surname, "id_number": number[:3] + "…"}
    search, queue = reverse("cases:search"), reverse("cases:queue")
    every = "&".join(f"status={s}" for s in CaseStatus.values if s != CaseStatus.DRAFT)
    client, api = session(ministry), Client()
    actor = actor_for(ministry)
    pages = [
        ("search_two_chars", client, f"{search}?q={quote(two)}", {}),
        ("queue_two_chars_all_statuses", client, f"{queue}?{every}&q={quote(two)}", {}),
        ("api_two_chars_all_statuses", api, f"/api/v1/cases/?q={quote(two)}", token(ministry)),
        ("search_party_name", client, f"{search}?q={quote(name)}", {}),
        ("search_party_surname", client, f"{search}?q={quote(surname)}", {}),
        ("queue_party_surname", client, f"{queue}?{every}&q={quote(surname)}", {}),
        ("search_id_number_page", client, f"{search}?q={quote(number)}", {}),
    ]

    def show(label: str) -> None:
        row = out[label]
        log(
            f"{label:>30}: median {row['median_ms']:8.1f} ms  {row['queries']:3d} queries  "
            f"SQL {row['sql_median_ms']:7.1f} ms"
        )

    for label, who, url, headers in pages:
        out[label] = measure_page(who, url, args.repeat, headers)
        show(label)
    out["search_id_number"] = measure_call(lambda: search_page(actor, number), args.repeat)
    with mock.patch("cases.search.SHORT", 0):  # every text through icontains: the trigram indexes' plan
        out["search_two_chars_trigram"] = measure_call(lambda: search_page(actor, two), max(3, args.repeat // 4))
    with mock.patch("cases.search.COUNT_CAP", 10**7):  # every match read and sorted, never walked
        out["search_two_chars_sorted"] = measure_call(lambda: search_page(actor, two), max(3, args.repeat // 4))
        out["search_party_surname_sorted"] = measure_call(lambda: search_page(actor, surname), max(3, args.repeat // 4))
    show("search_id_number")
    show("search_two_chars_trigram")
    show("search_two_chars_sorted")
    show("search_party_surname_sorted")


def guarded(out: dict[str, Any], name: str, work: Any) -> None:
    """Run one stage; on failure record the error under ``name`` and go on with the next stage."""
    try:
        work()
    except Exception as error:
        out.setdefault(name, {}).update(error=repr(error), traceback=traceback.format_exc())
        print(f"{name}: FAILED {error!r}", file=sys.stderr, flush=True)


def measure_flags(args: argparse.Namespace, out: dict[str, Any], log: Any) -> None:
    from django.db import connection

    from cases import flagging

    if flagging.scan.unchecked_cases().exists() and args.flag_first:
        log("First flag scan (every case unevaluated; a deployment's one-off backfill)...")
        out["flag_cases_first"] = {**measure_scan(), "note": "one-off first scan over never-scanned data"}
        out["flag_cases_first"]["value"] = out["flag_cases_first"]["seconds"]
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_case")
    runs = [measure_scan() for _ in range(args.flag_repeat)]
    out["flag_cases_no_change"] = {
        "value": statistics.median(r["seconds"] for r in runs),
        "p95": percentile([r["seconds"] for r in runs], 0.95),
        "queries": runs[-1]["queries"],
        "runs": runs,
    }
    log(f"flag_cases no change: {out['flag_cases_no_change']['value']:.3f} s")
    fulls = [measure_scan(full=True) for _ in range(args.full_repeat)]
    out["flag_cases_full"] = {
        "value": statistics.median(r["seconds"] for r in fulls),
        "p95": max(r["seconds"] for r in fulls),
        "queries": fulls[-1]["queries"],
        "runs": fulls,
    }
    log(f"flag_cases full: {out['flag_cases_full']['value']:.1f} s")
    if args.flag_sql:
        # The full re-evaluation evaluates in SQL on PostgreSQL (cases/flagging/setwise.py); the same with the
        # Python planner alone, the reference, for comparison.
        planner = measure_scan(full=True, set_wise=False)
        out["flag_cases_full_planner"] = {"value": planner["seconds"], "queries": planner["queries"], "runs": [planner]}
        log(f"flag_cases full, planner alone: {planner['seconds']:.1f} s")


def measure_province_report(args: argparse.Namespace, out: dict[str, Any], log: Any) -> None:
    from accounts.models import OrgUnit
    from cases.reports.yearly import yearly_report

    province = OrgUnit.objects.get(code=PROVINCE)
    yearly_report(unit=province, year=args.year)  # warm, as any earlier request would
    timed = report_bench._timed(lambda: yearly_report(unit=province, year=args.year), args.report_repeat)
    summary = report_bench._summary(timed)
    out["report_province"] = {"value": summary["wall_median"], **summary, "p95": max(timed["times"])}
    log(f"report province: {summary}")


def measure_campaign(
    args: argparse.Namespace, out: dict[str, Any], users: dict[str, Any], session: Any, log: Any
) -> None:
    """A province's look-back of every case closed in the report year (issue 20: ~200,000 cases
    at a million): the campaign started (its cases selected and frozen, each case's timeline told) by a province
    supervisor, then its page. All of it in one transaction rolled back at the end, so a run leaves nothing behind
    (the commit's own flush is not in the figure)."""
    from datetime import date, timedelta

    from django.db import transaction
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import OrgUnit
    from cases.choices import CaseStatus
    from oversight import services as oversight_services
    from oversight.choices import CampaignKind, SelectionMode
    from oversight.scope import Scope

    year = args.year
    province = OrgUnit.objects.get(code=PROVINCE)
    supervisor = users["province"]
    with transaction.atomic():
        campaign = oversight_services.create_campaign(
            by=supervisor,
            name=f"Look-back {year}",
            kind=CampaignKind.LOOK_BACK,
            owner_unit=province,
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
            deadline=timezone.localdate() + timedelta(days=180),
            scope=Scope(statuses=(CaseStatus.CLOSED,), closed_from=date(year, 1, 1), closed_to=date(year, 12, 31)),
            selection=SelectionMode.ALL,
        )
        started = time.perf_counter()
        campaign = oversight_services.start_campaign(campaign=campaign, by=supervisor)
        seconds = time.perf_counter() - started
        out["campaign_select_freeze"] = {"value": round(seconds, 2), "selected": campaign.selected_count}
        log(f"campaign select and freeze: {seconds:.2f} s for {campaign.selected_count} cases")
        page = measure_page(session(supervisor), reverse("oversight:detail", args=[campaign.pk]), args.repeat, {})
        out["campaign_page"] = page
        log(f"campaign page: median {page['median_ms']:.1f} ms, {page['queries']} queries, SQL {page['sql_median_ms']}")
        transaction.set_rollback(True)


# --- Throughput (gunicorn + wrk) ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body.encode(), headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def _cookies(response: Any) -> dict[str, str]:
    jar = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _sep, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def log_in(port: int, username: str) -> str:
    """Log in through the form; returns the Cookie header of the session."""
    page = _request(port, "GET", "/accounts/login/")
    jar = _cookies(page)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    form = f"csrfmiddlewaretoken={token}&username={username}&password={BENCH_PASSWORD}"
    done = _request(
        port,
        "POST",
        "/accounts/login/",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={jar['csrftoken']}"},
    )
    jar.update(_cookies(done))
    if done.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"log-in as {username} failed: HTTP {done.status}")
    return f"sessionid={jar['sessionid']}"


def api_token(port: int, username: str) -> str:
    response = _request(
        port,
        "POST",
        "/api/v1/auth/token/",
        json.dumps({"username": username, "password": BENCH_PASSWORD}),
        {"Content-Type": "application/json"},
    )
    if response.status != 200:
        raise SystemExit(f"token for {username} failed: HTTP {response.status} {response.body[:200]!r}")
    return json.loads(response.body)["token"]


def wrk(port: int, path: str, header: str, duration: int, connections: int) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads",
        "2",
        "--connections",
        str(connections),
        "--duration",
        f"{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "--header",
        header,
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else None
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "value": rate,
        "requests_per_s": rate,
        "p99_ms": p99_ms,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "connections": connections,
        "duration_s": duration,
        "output": out,
    }


def workers_cpu_seconds(server: subprocess.Popen) -> float:
    """User and system CPU time of gunicorn's workers so far (Linux /proc)."""
    found = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False)  # noqa: S603, S607
    ticks = 0
    for pid in found.stdout.split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def throughput(database: str, duration: int, connections: int, redis_url: str = "") -> dict[str, Any]:
    port = free_port()
    env = env_for(database)
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        RIGHTSGUARD_MFA_REQUIRED="0",
        DJANGO_LOG_LEVEL="WARNING",
    )
    if redis_url:
        # As in production: the API token cache is shared Redis (accounts/tokens.py). Tasks still run in-process.
        env.update(REDIS_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="1")
    gunicorn = shutil.which("gunicorn", path=str(Path(PYTHON).parent)) or "gunicorn"
    server = subprocess.Popen(  # noqa: S603
        [gunicorn, "rightsguard.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(60):  # up to 30 s to start
            try:
                if _request(port, "GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                raise SystemExit("gunicorn exited")
            time.sleep(0.5)
        else:
            raise SystemExit("gunicorn did not answer /healthz within 30 s")
        cookie = log_in(port, "bench_county")
        token = api_token(port, "bench_county")
        results: dict[str, Any] = {}
        for name, path, header in (
            # What the machine does at all in this run: the ratio to it is the figure that travels between machines.
            ("wrk_healthz", "/healthz", "Accept: text/plain"),
            ("wrk_queue_county", "/queue/", f"Cookie: {cookie}"),
            ("wrk_api_list_county", "/api/v1/cases/", f"Authorization: Token {token}"),
        ):
            print(f"wrk {path} for {duration} s...", file=sys.stderr, flush=True)
            load, cpu = flag_scan.loadavg(), workers_cpu_seconds(server)
            row = {"url": path, **wrk(port, path, header, duration, connections)}
            requests = row["requests_per_s"] * duration
            row["cpu_ms_per_request"] = 1000 * (workers_cpu_seconds(server) - cpu) / requests if requests else None
            results[name] = {**row, "loadavg_before": load, "loadavg_after": flag_scan.loadavg()}
        api, healthz = results["wrk_api_list_county"], results["wrk_healthz"]
        results["wrk_api_list_share_of_healthz"] = {
            "value": 100 * api["requests_per_s"] / healthz["requests_per_s"],
            "token_cache": "redis" if redis_url else "off (no --redis-url)",
        }
        results["wrk_api_list_cpu_per_request"] = {"value": api["cpu_ms_per_request"]}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    # The same API list through two nodes (two gunicorns, the connections split between them) against one, measured
    # back to back by benchmarks/pooling.py, which also compares the connection pools.
    import pooling

    for way, name in (("direct", "wrk_api_list_one_node"), ("two_nodes", "wrk_api_list_two_nodes")):
        print(f"wrk /api/v1/cases/ ({way}) for {duration} s...", file=sys.stderr, flush=True)
        results[name] = {"value": pooling.measure(way, database, duration, connections, redis_url)["requests_per_s"]}
    return results


# --- Driver -------------------------------------------------------------------------------------------------------


def verdict(name: str, value: float | None) -> str:
    target, unit, direction = TARGETS.get(name, (None, "", "le"))
    if target is None or value is None:
        return "—"
    if direction == "le":
        if value <= target:
            return "PASS"
        digits = {"ms": 1, "s": 2}.get(unit, 0)
        return f"MISS +{value - target:,.{digits}f} {unit} (×{value / target:.1f})"
    if value >= target:
        return "PASS"
    return f"MISS −{target - value:,.0f} {unit} ({value / target:.0%} of target)"


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict[str, Any]) -> str:
    head = "| benchmark | median | p95 | queries | SQL median | app ÷ SQL | target | result |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---|---|"]
    for name, (target, unit, direction) in TARGETS.items():
        row = results.get(name)
        if not row:
            continue
        if "value" not in row:
            lines.append(f"| {name} | ERROR: {row.get('error', '?')[:80]} | | | | | | |")
            continue
        value = row.get("value")
        if unit == "ms":
            median, p95 = fmt(row["median_ms"]), fmt(row["p95_ms"])
            sql, ratio = fmt(row["sql_median_ms"]), fmt(row["app_over_sql"])
        elif unit == "req/s":
            median, p95, sql, ratio = fmt(value, 0), f"p99 {fmt(row.get('p99_ms'))} ms", "—", "—"
            if row.get("cpu_ms_per_request") is not None:
                p95 += f", {fmt(row['cpu_ms_per_request'], 2)} ms CPU/req"
        else:
            median, p95, sql, ratio = fmt(value, 3 if unit == "s" else 1), fmt(row.get("p95"), 3), "—", "—"
        wanted = "—" if target is None else f"{'≤' if direction == 'le' else '≥'} {target:g} {unit}"
        shown = f"{median} {unit}" if unit != "ms" else f"{median} ms"
        p95_shown = f"{p95} ms" if unit == "ms" else p95
        lines.append(
            f"| {name} | {shown} | {p95_shown} | {fmt(row.get('queries'))} | "
            f"{sql + ' ms' if sql != '—' else sql} | {ratio} | {wanted} | {verdict(name, value)} |"
        )
    return "\n".join(lines)


def seed_sample(database: str, cases: int) -> dict[str, Any]:
    scratch = f"{database}_seedrate"
    try:
        return seed(scratch, cases)
    finally:
        flag_scan.psql(f'DROP DATABASE IF EXISTS "{scratch}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default=f"rg_bench_run_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--reuse", action="store_true", help="Measure an existing seeded database (kept).")
    parser.add_argument("--repeat", type=int, default=20, help="Requests per page (median and p95 of these).")
    parser.add_argument("--flag-repeat", type=int, default=5, help="Runs of the no-change flag scan.")
    parser.add_argument("--full-repeat", type=int, default=1, help="Runs of the full flag scan.")
    parser.add_argument("--no-flag-first", dest="flag_first", action="store_false",
                        help="Do not run the one-off first flag scan on never-scanned data.")  # fmt: skip
    parser.add_argument(
        "--flag-sql",
        action="store_true",
        help="Also time the full flag scan with the planner alone (the default evaluates the rules in SQL).",
    )
    parser.add_argument("--report-repeat", type=int, default=3)
    parser.add_argument("--year", type=int, help="Report year (default: last full calendar year).")
    parser.add_argument("--text", default="柳汀街", help="Search word for the text-filter pages (3+ characters).")
    parser.add_argument("--two", default="酒吧", help="Two-character word for the search benchmarks.")
    parser.add_argument("--seed-sample", type=int, default=20_000, help="With --reuse: cases seeded to get a rate.")
    parser.add_argument("--wrk", action=argparse.BooleanOptionalAction, default=True, help="Throughput with wrk.")
    parser.add_argument("--duration", type=int, default=30, help="Seconds per wrk run.")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections.")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="Redis for the throughput run's API token cache, as production has (e.g. redis://127.0.0.1:6379/13; "
        "default $BENCH_REDIS_URL). Without it the token cache is off.",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        help="Run only these measurements (names of the result table, e.g. dashboard_ministry dashboard_county; "
        "flag_cases, report_province or report_national for those stages; wrk for the throughput). No seeding-rate "
        "sample, and no wrk unless named.",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.year = args.year or time.localtime().tm_year - 1

    if args.child:
        print("RESULT " + json.dumps(run_child(args), default=str))
        return

    # The report and flag benchmarks' child processes inherit this environment.
    os.environ.setdefault("RIGHTSGUARD_FIELD_KEY", BENCH_FIELD_KEY)
    db = args.database
    results: dict[str, Any] = {}
    before = flag_scan.loadavg()
    try:
        if args.reuse:
            manage(db, "migrate", "--no-input", "-v0")
            if args.seed_sample and not args.only:
                print(f"Seeding {args.seed_sample:,} cases into a scratch database for the rate...", flush=True)
                sample = seed_sample(db, args.seed_sample)
                results["seed_rate"] = {**sample, "value": round(sample["cases"] / sample["seconds"]), "sample": True}
        else:
            print(f"Seeding {args.cases:,} cases into {db}...", flush=True)
            seeded = seed(db, args.cases)
            results["seed_rate"] = {**seeded, "value": round(seeded["cases"] / seeded["seconds"]), "sample": False}
        STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        manage(db, "collectstatic", "--no-input", "-v0")

        child_args = [
            "--child",
            "--database",
            db,
            "--repeat",
            str(args.repeat),
            "--flag-repeat",
            str(args.flag_repeat),
            "--full-repeat",
            str(args.full_repeat),
            "--report-repeat",
            str(args.report_repeat),
            "--year",
            str(args.year),
            "--text",
            args.text,
            "--two",
            args.two,
        ]
        if not args.flag_first:
            child_args.append("--no-flag-first")
        if args.flag_sql:
            child_args.append("--flag-sql")
        if args.only:
            child_args += ["--only", *args.only]
        stage(results, "in_process", lambda: results.update(in_process(db, child_args)))
        if not args.only or set(args.only) & set(NATIONAL):
            print("National report, XLSX, PDF and CSV in fresh processes...", flush=True)
            stage(results, "report_national", lambda: results.update(national_reports(db, args)))
        if args.wrk and (not args.only or "wrk" in args.only):
            if shutil.which("wrk") is None:
                sys.exit("wrk is not installed (apt-get install -y wrk), or run with --no-wrk")
            stage(
                results, "wrk", lambda: results.update(throughput(db, args.duration, args.connections, args.redis_url))
            )
    finally:
        if not args.keep and not args.reuse:
            flag_scan.psql(f'DROP DATABASE IF EXISTS "{db}"')
        report(results, db, before)


def stage(results: dict[str, Any], name: str, work: Any) -> None:
    """Run one stage of the driver; a failure is recorded (with the child's error output) and the next stage runs."""
    try:
        work()
    except Exception as error:
        detail = getattr(error, "stderr", None) or traceback.format_exc()
        results.setdefault("errors", {})[name] = {"error": repr(error), "detail": str(detail)[-4000:]}
        print(f"{name}: FAILED {error!r}\n{str(detail)[-2000:]}", file=sys.stderr, flush=True)


def in_process(db: str, child_args: list[str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [PYTHON, __file__, *child_args], cwd=ROOT, env=env_for(db), stdout=subprocess.PIPE, text=True, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"the measuring process exited with {done.returncode} and no results")
    return json.loads(line.removeprefix("RESULT "))


# The measurements of the fresh-process stage; ``--only`` with any of them runs just those.
NATIONAL = ("report_national", "report_national_live", "summaries_reconcile", "xlsx_national", "pdf_national",
            "pdf_peak_memory", "csv_peak_memory")  # fmt: skip


def national_reports(db: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def wanted(*names: str) -> bool:
        return not args.only or any(name in args.only for name in names)

    def timed(what: str) -> dict[str, Any]:
        measured = report_bench.child(db, what, args.year, args.report_repeat)
        row = {
            **report_bench._summary(measured),
            "value": round(statistics.median(measured["times"]), 3),
            "p95": round(max(measured["times"]), 3),
        }
        return {**row, "peak_mb": measured.get("peak_mb"), "baseline_mb": measured.get("baseline_mb")}

    if wanted("report_national"):
        national = report_bench.child(db, "selector", args.year, args.report_repeat)
        out["report_national"] = {
            **report_bench._summary(national),
            "value": round(statistics.median(national["times"]), 3),
            "p95": round(max(national["times"]), 3),
            "cases_in_year": national["cases"],
        }
    if wanted("report_national_live"):
        # The same report computed live from the cases (what it was before the summaries), and whether they agree.
        live = report_bench.child(db, "selector_live", args.year, args.report_repeat)
        out["report_national_live"] = {
            **report_bench._summary(live),
            "value": round(statistics.median(live["times"]), 3),
            "p95": round(max(live["times"]), 3),
            "equal_to_summaries": live["equal"],
        }
    if wanted("summaries_reconcile"):
        check = report_bench.child(db, "reconcile", args.year, 1)
        out["summaries_reconcile"] = {**check, "value": round(check["seconds"], 1)}
    if wanted("xlsx_national"):
        out["xlsx_national"] = timed("xlsx")
    if wanted("pdf_national", "pdf_peak_memory"):
        out["pdf_national"] = timed("pdf")
        # The fresh process's peak resident memory after the runs: Django, the connection and the renderer included.
        out["pdf_peak_memory"] = {
            "value": round(out["pdf_national"]["peak_mb"], 1),
            "baseline_mb": round(out["pdf_national"]["baseline_mb"], 1),
        }
    if wanted("csv_peak_memory"):
        detail = report_bench.child(db, "detail", args.year, 1)
        out["csv_peak_memory"] = {**detail, "value": round(detail["peak_mb"], 1)}
    return out


def report(results: dict[str, Any], db: str, before: list[float]) -> None:
    """Print the table and write the JSON (also after a failed stage: what was measured is kept)."""
    queues = ("queue_ministry", "queue_province", "queue_city", "queue_county")
    levels = [results[k].get("queries") for k in queues if k in results]
    apis = ("api_list_ministry", "api_list_province", "api_list_county")
    api_levels = [results[k].get("queries") for k in apis if k in results]
    ratios = [results[k].get("app_over_sql") for k in (*queues, "queue_county_page2") if k in results]
    if any(r is not None for r in ratios):
        results["queue_app_over_sql"] = {"value": max(r for r in ratios if r is not None)}
    results["query_count_constant"] = {
        "queue": len(set(levels)) <= 1,
        "api_list": len(set(api_levels)) <= 1,
    }
    results["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_before": before,
        "loadavg_after": flag_scan.loadavg(),
    }
    results["database"] = db
    results["targets"] = {k: {"target": t, "unit": u, "direction": d} for k, (t, u, d) in TARGETS.items()}
    results["verdicts"] = {k: verdict(k, results[k].get("value")) for k in TARGETS if k in results}
    if results.get("errors"):
        print(f"Stages that failed: {', '.join(results['errors'])}")

    rendered = table(results)
    print()
    print(f"{fmt(results.get('cases'))} cases in {db}; load average before {before}, after "
          f"{results['machine']['loadavg_after']}")  # fmt: skip
    print(rendered)
    print(f"Query count constant across levels: queue {results['query_count_constant']['queue']}, "
          f"API list {results['query_count_constant']['api_list']}")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"run-{results.get('cases', 0)}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({**results, "table": rendered}, indent=2, default=str))
    print(f"\nWritten {path}")


if __name__ == "__main__":
    main()
