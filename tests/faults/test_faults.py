"""Fault injection against the production stack started natively (tests/faults/stack.py).

Scenarios, in order, on one stack: Redis stopped during a burst of submissions; PostgreSQL restarted immediately
under load; two beat processes; the evidence disk full during an upload; Redis killed five times under load with
the production worker (prefork); then the ledger check over everything the clients were told was accepted. (A
worker killed with SIGKILL mid-task is tests/integration.) Each prints its figures. Needs root, the PostgreSQL
server binaries and redis-server: skipped locally without them, a failure in CI. Loopback only; every loop is
bounded in time.
"""

import email
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.evidence_files import pdf_document
from tests.factories import PASSWORD
from tests.faults.stack import Api, NativeStack, cache_root, missing, print_figures, wait_for

pytestmark = pytest.mark.faults

BODY = {
    "kind": "threat",
    "occurred_at": "2026-11-20T10:00:00+08:00",
    "location": "杭州市西湖区北山街",
    "summary": "电话威胁民警",
    "narrative": "嫌疑人多次电话威胁处警民警及其家属。",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[NativeStack]:
    problem = missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the fault tests: {problem}")
        pytest.skip(problem)
    s = NativeStack(tmp=tmp_path_factory.mktemp("faults"))
    try:
        s.up(cache_root(tmp_path_factory))
        s.started = datetime.now(UTC)
        s.accepted = []  # what the clients were told was accepted: checked by the ledger at the end
        yield s
    finally:
        s.down()


@pytest.fixture(scope="module")
def officer(stack) -> Api:
    return Api(stack, "officer", PASSWORD)


def station_id(stack: NativeStack) -> int:
    return stack.sql("SELECT id FROM accounts_orgunit WHERE code = '330106001'")[0][0]


def submit_one(api: Api, unit: int, n: int) -> tuple[dict, float]:
    """File a draft and submit it; returns the case and the seconds the two requests took."""
    started = time.monotonic()
    created = api.post("/cases/", json={**BODY, "unit": unit, "summary": f"{BODY['summary']} #{n}"})
    assert created.status_code == 201, created.text
    case = created.json()
    submitted = api.post(f"/cases/{case['id']}/actions/submit/", json={})
    assert submitted.status_code == 200, submitted.text
    return submitted.json(), time.monotonic() - started


def submission_notifications(stack: NativeStack, references: list[str], *, emailed: bool = False) -> int:
    """The notifications of these cases' submissions (e-mailed ones only, if asked). The same officer attacked again
    and again also raises a welfare prompt, in-app only (cases/welfare.py): not what the fault tests are about."""
    sql = (
        "SELECT count(*) FROM cases_notification n JOIN cases_case c ON c.id = n.case_id "
        "JOIN cases_caseevent e ON e.id = n.event_id AND e.action = 'submit' WHERE c.reference = ANY(%s)"
    )
    return stack.sql(sql + (" AND n.emailed_at IS NOT NULL" if emailed else ""), references)[0][0]


def mails_by_subject(stack: NativeStack) -> Counter:
    subjects: Counter = Counter()
    for path in stack.mail_dir.iterdir():
        for chunk in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                message = email.message_from_string(chunk)
                subject = str(email.header.make_header(email.header.decode_header(message["Subject"] or "")))
                subjects[(subject, message["To"])] += 1
    return subjects


def test_redis_stopped_during_a_burst_of_submissions_loses_and_duplicates_nothing(stack, officer):
    unit = station_id(stack)
    stack.stop_redis()
    down_at = time.monotonic()
    burst = [submit_one(officer, unit, n) for n in range(12)]
    slowest = max(seconds for _case, seconds in burst)
    references = [case["reference"] for case, _ in burst]
    stack.accepted += [{"reference": r, "sha256": []} for r in references]
    pending = stack.sql("SELECT count(*) FROM cases_outboxmessage WHERE published_at IS NULL")[0][0]
    # Every submission was accepted while the broker was down; its notification job waits in the outbox.
    assert pending >= len(references)

    stack.start_redis()
    back_at = time.monotonic()
    events = stack.sql(
        "SELECT e.id FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id "
        "WHERE e.action = 'submit' AND c.reference = ANY(%s)",
        references,
    )
    assert len(events) == len(references)

    def delivered() -> bool:
        rows = stack.sql(
            "SELECT count(*) FROM cases_notification WHERE event_id = ANY(%s) AND emailed_at IS NOT NULL",
            [e for (e,) in events],
        )
        return rows[0][0] == len(references)

    wait_for(delivered, "every submission's notification after Redis returned", timeout=90)
    recovered = time.monotonic() - back_at
    # One notification per submission (the county office's supervisor), one e-mail each, none twice.
    notifications = stack.sql(
        "SELECT u.username, count(*) FROM cases_notification n JOIN accounts_user u ON u.id = n.recipient_id "
        "WHERE n.event_id = ANY(%s) GROUP BY u.username",
        [e for (e,) in events],
    )
    assert notifications == [("county_supervisor", len(references))]
    time.sleep(3)  # a late duplicate publish would land within the relay's period
    mails = mails_by_subject(stack)
    per_reference = {r: sum(n for (subject, _to), n in mails.items() if r in subject) for r in references}
    lost = sum(1 for n in per_reference.values() if n == 0)
    duplicates = sum(n - 1 for n in per_reference.values() if n > 1)
    assert per_reference == dict.fromkeys(references, 1)
    assert stack.sql("SELECT count(*) FROM cases_outboxmessage WHERE published_at IS NULL")[0][0] == 0
    print_figures(
        "redis-outage",
        {
            "submissions": len(references),
            "lost": lost,
            "duplicates": duplicates,
            "outbox_pending_during_outage": pending,
            "slowest_submission_s": round(slowest, 2),
            "outage_s": round(back_at - down_at, 1),
            "delivered_after_return_s": round(recovered, 1),
        },
    )


def test_jobs_the_broker_lost_are_published_again_and_run_once(stack, officer):
    """The worker is down, submissions are published to Redis, then Redis loses its data: the jobs were published
    but never done, so the relay publishes them again and each notification arrives once."""
    unit = station_id(stack)
    stack.kill("worker")
    burst = [submit_one(officer, unit, 100 + n)[0] for n in range(5)]
    references = [case["reference"] for case in burst]
    stack.accepted += [{"reference": r, "sha256": []} for r in references]
    published = stack.sql(
        "SELECT count(*) FROM cases_outboxmessage o JOIN cases_caseevent e ON o.key = 'notify:' || e.id "
        "JOIN cases_case c ON c.id = e.case_id WHERE c.reference = ANY(%s) "
        "AND o.published_at IS NOT NULL AND o.done_at IS NULL",
        references,
    )[0][0]
    assert published == len(references)  # on the broker, not yet run
    stack.flush_redis()
    lost_at = time.monotonic()
    stack.start_worker()

    def delivered() -> bool:
        return submission_notifications(stack, references, emailed=True) == len(references)

    wait_for(delivered, "the lost jobs to be published again and run", timeout=90)
    recovered = time.monotonic() - lost_at
    time.sleep(3)
    mails = mails_by_subject(stack)
    per_reference = {r: sum(n for (subject, _to), n in mails.items() if r in subject) for r in references}
    assert per_reference == dict.fromkeys(references, 1)
    attempts = stack.sql(
        "SELECT o.attempts FROM cases_outboxmessage o JOIN cases_caseevent e ON o.key = 'notify:' || e.id "
        "JOIN cases_case c ON c.id = e.case_id WHERE c.reference = ANY(%s) ORDER BY o.id",
        references,
    )
    assert [a for (a,) in attempts] == [2] * len(references)  # published twice, run once
    print_figures(
        "broker-lost-jobs",
        {
            "jobs_lost_by_the_broker": len(references),
            "lost": sum(1 for n in per_reference.values() if n == 0),
            "duplicates": sum(n - 1 for n in per_reference.values() if n > 1),
            "redelivered_after_s": round(recovered, 1),
        },
    )


def test_postgres_restarted_immediately_under_load_fails_fast_and_recovers(stack, officer):
    unit = station_id(stack)
    results: list[tuple[float, str, int, float]] = []  # (time, kind, status, seconds)
    stop = threading.Event()

    def load() -> None:
        n = 0
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            n += 1
            for kind in ("list", "create"):
                started = time.monotonic()
                try:
                    if kind == "list":
                        answer = officer.get("/cases/", timeout=10)
                    else:
                        body = {**BODY, "unit": unit, "summary": f"restart #{n}"}
                        answer = officer.post("/cases/", json=body, timeout=10)
                        if answer.status_code == 201:
                            stack.accepted.append({"reference": answer.json()["reference"], "submitted": False})
                    status = answer.status_code
                except Exception:
                    status = 0  # connection refused or timed out
                results.append((started, kind, status, time.monotonic() - started))
            time.sleep(0.05)

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(3)
    restart_at = time.monotonic()
    stack.restart_postgres_immediately()
    restarted_in = time.monotonic() - restart_at
    # Load continues until it has succeeded for a while after the restart (or the load's own bound ends it).
    wait_for(
        lambda: sum(1 for t, _k, s, _d in results if t > restart_at + restarted_in and s in (200, 201)) >= 10,
        "requests to succeed again after the restart",
        timeout=45,
    )
    stop.set()
    thread.join(timeout=30)

    statuses = Counter(status for _t, _k, status, _d in results)
    failures = [(t, s, d) for t, _k, s, d in results if s not in (200, 201)]
    assert set(statuses) <= {200, 201, 503}, statuses  # no 500, no dropped connection
    assert all(d < 5 for _t, _s, d in failures), failures  # failing fast
    first_ok_after = min(t for t, _k, s, _d in results if t > restart_at and s in (200, 201))
    recovery = first_ok_after - restart_at
    assert recovery < 30
    # No half-written case: every case has its 'created' event, and the ledger below checks the rest.
    orphans = stack.sql(
        "SELECT count(*) FROM cases_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id AND e.kind = 'created')"
    )[0][0]
    assert orphans == 0
    print_figures(
        "postgres-restart",
        {
            "requests": len(results),
            "status_counts": dict(statuses),
            "slowest_failure_s": round(max((d for _t, _s, d in failures), default=0), 2),
            "restart_s": round(restarted_in, 1),
            "recovery_s": round(recovery, 1),
            "half_written_cases": orphans,
        },
    )


def test_two_beats_run_each_periodic_job_once_per_period(stack):
    since = datetime.now(UTC)

    def refused() -> int:
        return stack.log("worker").decode(errors="replace").count("{'skipped': 1}")

    def relay_periods() -> list:
        runs = stack.sql(
            "SELECT job, period_start, count(*) FROM cases_jobrun WHERE started_at >= %s GROUP BY job, period_start",
            since,
        )
        return [r for r in runs if r[0] == "relay_outbox"]

    refused_before = refused()
    stack.start_beat("beat2")
    # Until both beats have ticked together for a few periods (2 s each): on a loaded machine that takes longer
    # than on an idle one, so the test waits for it, within a generous bound, rather than for a fixed time.
    wait_for(
        lambda: len(relay_periods()) >= 4 and refused() - refused_before >= 3,
        "both beats to send the relay job for several periods",
        timeout=90,
    )
    stack.kill("beat2")
    time.sleep(3)  # the last ticks' tasks run
    runs = stack.sql(
        "SELECT job, period_start, count(*) FROM cases_jobrun WHERE started_at >= %s GROUP BY job, period_start",
        since,
    )
    assert len(relay_periods()) >= 4
    assert all(count == 1 for _job, _start, count in runs)
    # Both beats sent the relay each period: the second tick of a period found it claimed and did nothing.
    skipped = refused() - refused_before
    assert skipped >= 3
    print_figures(
        "two-beats",
        {"relay_periods": len(relay_periods()), "duplicate_runs": 0, "ticks_refused_as_duplicates": skipped},
    )


def test_a_full_evidence_disk_refuses_the_upload_cleanly_and_leaves_nothing_behind(stack, officer):
    unit = station_id(stack)
    created = officer.post("/cases/", json={**BODY, "unit": unit})
    case = created.json()
    pdf = pdf_document(700 * 1024)
    evidence = stack.media / "evidence"
    # Files only: evidence/.incoming holds uploads being received, never evidence.
    before_files = sorted(p.name for p in evidence.iterdir() if p.is_file()) if evidence.exists() else []
    stack.mount_small_media("1m")
    try:
        first = officer.post(f"/cases/{case['id']}/attachments/", files={"file": ("a.pdf", pdf, "application/pdf")})
        assert first.status_code == 201, first.text
        second = officer.post(f"/cases/{case['id']}/attachments/", files={"file": ("b.pdf", pdf, "application/pdf")})
        assert second.status_code == 507, second.text
        assert second.json()["code"] == "storage_full"
        files = sorted(p.name for p in (stack.media / "evidence").iterdir() if p.is_file())
        rows = stack.sql("SELECT stored_name, sha256 FROM cases_attachment WHERE case_id = %s", case["id"])
        assert files == [rows[0][0]]  # the refused upload left no file and no row
        assert list((stack.media / "evidence" / ".incoming").iterdir()) == []  # nor a received part
        assert len(rows) == 1
        stack.accepted.append({"reference": case["reference"], "sha256": [rows[0][1]], "submitted": False})
    finally:
        # Keep the stored file for the ledger: copy it off the small disk.
        kept = {p.name: p.read_bytes() for p in (stack.media / "evidence").iterdir() if p.is_file()}
        stack.unmount_media()
        (stack.media / "evidence").mkdir(exist_ok=True)
        for name, content in kept.items():
            (stack.media / "evidence" / name).write_bytes(content)
    assert sorted(p.name for p in (stack.media / "evidence").iterdir() if p.is_file()) == sorted(
        before_files + list(kept)
    )
    print_figures("disk-full", {"accepted": 1, "refused": 1, "orphan_files": 0, "orphan_rows": 0})


def test_the_deployed_worker_survives_redis_killed_five_times_during_a_burst(stack, officer):
    """The worker as compose and systemd start it (prefork, two processes) while Redis is killed with SIGKILL five
    times during a burst of submissions: the same worker process is still running afterwards, beats again, and
    every submission's notification is e-mailed exactly once."""
    unit = station_id(stack)
    stack.kill("worker")  # the module's solo worker: from here on the production one
    worker = stack.start_deployed_worker()
    log_from = len(stack.log("worker"))
    burst: list[tuple[dict, float]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def submit() -> None:
        # Until the kills are over and at least twenty submissions went through: on a busy machine a submission may
        # take more than a second, so the burst ends on its count, not on the clock (bounded all the same).
        deadline = time.monotonic() + 150
        n = 300
        while time.monotonic() < deadline and n < 360 and not (stop.is_set() and len(burst) >= 20):
            try:
                burst.append(submit_one(officer, unit, n))
            except BaseException as exc:  # reported below: an assertion in a thread would be lost
                failures.append(exc)
                return
            n += 1

    thread = threading.Thread(target=submit)
    thread.start()
    outages = []
    try:
        for _ in range(5):
            time.sleep(1.5)
            stack.kill("redis", signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(1.0)
            stack.start_redis()
            outages.append(time.monotonic() - killed_at)
    finally:
        time.sleep(2)
        stop.set()
        thread.join(timeout=180)
    assert failures == []
    assert not thread.is_alive()
    back_at = time.monotonic()
    references = [case["reference"] for case, _ in burst]
    stack.accepted += [{"reference": r, "sha256": []} for r in references]
    assert len(references) >= 20

    def delivered() -> bool:
        return submission_notifications(stack, references, emailed=True) == len(references)

    try:
        wait_for(delivered, "every notification of the burst", timeout=120)
    finally:
        log = stack.log("worker")[log_from:].decode(errors="replace")
        assert "Unrecoverable error" not in log, log[-4000:]
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{log[-4000:]}"
    recovered = time.monotonic() - back_at
    time.sleep(3)  # a late duplicate would land within the relay's period
    mails = mails_by_subject(stack)
    per_reference = {r: sum(n for (subject, _to), n in mails.items() if r in subject) for r in references}
    assert per_reference == dict.fromkeys(references, 1)
    assert submission_notifications(stack, references) == len(references)
    # The process the burst started with, not a restarted one; it reconnected after each kill and beats again.
    assert stack.procs["worker"] is worker
    assert worker.poll() is None
    reconnects = log.count("Connection to broker lost")
    assert reconnects >= 1
    assert "mingle:" not in log  # the compose command line, and still no mingle (rightsguard/celery.py)
    wait_for(lambda: stack.manage("worker_alive").returncode == 0, "the worker's heartbeat", timeout=20)
    ready = requests.get(stack.base_url + "/readyz", timeout=10).json()  # from loopback: with the details
    assert (ready["status"], ready["checks"]["broker"], ready["worker"]) == ("ok", True, "ok")
    print_figures(
        "redis-killed-under-load",
        {
            "submissions": len(references),
            "redis_sigkills": len(outages),
            "longest_outage_s": round(max(outages), 1),
            "worker_exits": 0,
            "connection_losses_seen_by_worker": reconnects,
            "lost": sum(1 for n in per_reference.values() if n == 0),
            "duplicates": sum(n - 1 for n in per_reference.values() if n > 1),
            "delivered_after_last_restart_s": round(recovered, 1),
        },
    )


def alter_system(stack: NativeStack, statement: str) -> None:
    """A server setting changed as an administrator changes it: written to postgresql.auto.conf and reloaded."""
    import psycopg

    dsn = f"host=127.0.0.1 port={stack.pg_port} user=postgres dbname=rightsguard"
    with psycopg.connect(dsn, autocommit=True) as conn:  # ALTER SYSTEM runs outside a transaction block
        conn.execute(statement)
        conn.execute("SELECT pg_reload_conf()")


def database_detail(stack: NativeStack) -> tuple[int, dict, str]:
    """/readyz from loopback, which is told the details."""
    answer = requests.get(stack.base_url + "/readyz", timeout=10)
    body = answer.json()
    return answer.status_code, body["checks"], body["database"]


def test_a_read_only_database_refuses_writes_as_read_only_and_readyz_says_so(stack, officer):
    """PostgreSQL made read-only (``default_transaction_read_only``, as on a hot standby) under the running web:
    a write answers 503 "refused to save: read-only", not "not reachable", /readyz stays ready and tells why, and
    once the setting is reset the same write is saved."""
    unit = station_id(stack)
    cases_before = stack.sql("SELECT count(*) FROM cases_case")[0][0]
    body = {**BODY, "unit": unit, "summary": "数据库只读时的提交"}
    alter_system(stack, "ALTER SYSTEM SET default_transaction_read_only = on")
    try:
        # Each pooled connection of each gunicorn worker applies the reloaded setting at its next statement.
        wait_for(lambda: all(database_detail(stack)[2] == "read-only" for _ in range(4)), "/readyz to see read-only")
        refused = [officer.post("/cases/", json=body, timeout=10) for _ in range(4)]
        ready = database_detail(stack)
        cases_during = stack.sql("SELECT count(*) FROM cases_case")[0][0]
    finally:
        alter_system(stack, "ALTER SYSTEM RESET default_transaction_read_only")
    assert [(r.status_code, r.headers.get("Retry-After"), r.json()) for r in refused] == [
        (
            503,
            "60",
            {
                "code": "database_read_only",
                "detail": "The database refused to save because it is read-only at the moment. Nothing was saved; "
                "please tell your system administrator.",
            },
        )
    ] * len(refused)
    assert ready == (200, {"database": True, "broker": True}, "read-only")
    assert cases_during == cases_before
    log = stack.log("web").decode(errors="replace")
    assert "The database refused to save: it is read-only (SQLSTATE 25006)" in log
    wait_for(lambda: all(database_detail(stack)[2] == "ok" for _ in range(4)), "/readyz to see the database writable")
    saved = officer.post("/cases/", json=body, timeout=10)
    assert saved.status_code == 201, saved.text
    stack.accepted.append({"reference": saved.json()["reference"], "submitted": False})
    print_figures(
        "database-read-only",
        {"writes_refused": len(refused), "saved_while_read_only": cases_during - cases_before, "readyz": ready[2]},
    )


def test_the_ledger_finds_everything_that_was_accepted(stack):
    accepted = Path(stack.tmp / "accepted.jsonl")
    accepted.write_text("".join(json.dumps(entry) + "\n" for entry in stack.accepted))
    wait_for(
        lambda: stack.sql("SELECT count(*) FROM cases_outboxmessage WHERE done_at IS NULL")[0][0] == 0,
        "every background job to be done",
        timeout=60,
    )
    result = stack.manage("reconcile", "--since", stack.started.isoformat(), "--accepted", str(accepted))
    ledger = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ledger["problems"] == []
    assert ledger["accepted_checked"] == len(stack.accepted)
    assert ledger["notifications"] == ledger["notifications_expected"]
    print_figures("ledger", {k: v for k, v in ledger.items() if k != "problems"})
