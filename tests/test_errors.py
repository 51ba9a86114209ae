"""Database failures answer what happened and whether anything was saved (rightsguard/errors.py), /readyz says why
writes fail (rightsguard/health.py), and a failure after the commit never turns a saved write into "nothing was
saved" (cases/outbox.py, ``SavedWritesMiddleware``).

The first tests raise Django's database errors wrapping the driver's error of each kind, as Django wraps them,
through test views; the later ones make the real database refuse writes or fail right after a commit.
"""

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
from django.contrib.auth.decorators import login_not_required
from django.db import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    connection,
    transaction,
)
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.utils import timezone
from psycopg import errors as pg
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts import tokens
from cases import outbox
from cases.api import views
from cases.choices import AccessAction
from cases.models import AccessLog, Case, CaseEvent, IdempotencyRecord, Notification, OutboxMessage
from cases.services import audit
from rightsguard import errors, health
from rightsguard import urls as site_urls
from tests.factories import PASSWORD, draft

# --- the test views and their URLs (this module is the URLconf of its tests) --------------------------------------


def _wrapped(django_error: type[Exception], cause: Exception) -> Exception:
    """Django's error with the driver's as its cause, as ``DatabaseErrorWrapper`` raises it."""
    error = django_error(*cause.args)
    error.__cause__ = cause
    return error


FAILURES: dict[str, Callable[[], Exception]] = {
    "refused": lambda: _wrapped(
        OperationalError,
        psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 failed'),
    ),
    "lost": lambda: _wrapped(OperationalError, pg.ConnectionFailure("server closed the connection unexpectedly")),
    "closed": lambda: _wrapped(InterfaceError, psycopg.InterfaceError("the connection is closed")),
    "admin-shutdown": lambda: _wrapped(
        OperationalError, pg.AdminShutdown("terminating connection due to administrator command")
    ),
    "crash-shutdown": lambda: _wrapped(
        OperationalError, pg.CrashShutdown("terminating connection because of crash of another server process")
    ),
    "starting-up": lambda: _wrapped(OperationalError, pg.CannotConnectNow("the database system is starting up")),
    "disk-full": lambda: _wrapped(
        OperationalError, pg.DiskFull('could not extend file "base/16384/16402": No space left on device')
    ),
    "read-only": lambda: _wrapped(
        InternalError, pg.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction")
    ),
    "out-of-memory": lambda: _wrapped(OperationalError, pg.OutOfMemory("out of memory")),
    "too-many-connections": lambda: _wrapped(
        OperationalError, pg.TooManyConnections("sorry, too many clients already")
    ),
    "deadlock": lambda: _wrapped(OperationalError, pg.DeadlockDetected("deadlock detected")),
    "statement-timeout": lambda: _wrapped(
        OperationalError, pg.QueryCanceled("canceling statement due to statement timeout")
    ),
    "unique-violation": lambda: _wrapped(IntegrityError, pg.UniqueViolation("duplicate key value")),
}


@login_not_required
def fail_page(request: HttpRequest, failure: str) -> HttpResponse:
    raise FAILURES[failure]()


class FailApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    def post(self, request: Request, failure: str) -> HttpResponse:
        raise FAILURES[failure]()


def _write() -> None:
    OutboxMessage.objects.create(task="test.job", args=[], key=f"test:{uuid.uuid4().hex}", created_at=timezone.now())


def _lost() -> Exception:
    return FAILURES["admin-shutdown"]()


class _CommitLost:
    """The driver's connection, whose COMMIT is lost on the way (the server may or may not have committed)."""

    def __init__(self, real: object) -> None:
        object.__setattr__(self, "_real", real)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._real, name, value)

    def commit(self) -> None:
        raise connection.Database.OperationalError("server closed the connection unexpectedly")


def _committed_then_lost() -> None:
    with transaction.atomic():
        _write()
    raise _lost()


def _bookkeeping_then_lost() -> None:
    # The access log is written in autocommit, as a token's last use and the last login are: not what was sent.
    audit.log_access(request=None, action=AccessAction.VIEW, object_ref="case 1")
    raise _lost()


def _commit_lost() -> None:
    connection.ensure_connection()
    real = connection.connection
    try:
        with transaction.atomic():
            _write()
            connection.connection = _CommitLost(real)
    finally:
        connection.connection = real


def _lost_inside_the_transaction() -> None:
    with transaction.atomic():
        _write()
        raise _lost()


def _savepoint_rolled_back_then_lost() -> None:
    with transaction.atomic():
        with contextlib.suppress(ValueError), transaction.atomic():
            _write()
            raise ValueError
        OutboxMessage.objects.count()
    raise _lost()


SCENARIOS: dict[str, Callable[[], None]] = {
    "committed-then-lost": _committed_then_lost,
    "bookkeeping-then-lost": _bookkeeping_then_lost,
    "commit-lost": _commit_lost,
    "lost-inside-the-transaction": _lost_inside_the_transaction,
    "savepoint-rolled-back-then-lost": _savepoint_rolled_back_then_lost,
}


@login_not_required
def scenario(request: HttpRequest, name: str) -> HttpResponse:
    SCENARIOS[name]()
    return HttpResponse("unreachable")


urlpatterns = [
    path("errors-test/fail/<str:failure>/", fail_page),
    path("api/v1/errors-test/fail/<str:failure>/", login_not_required(FailApi.as_view())),
    path("errors-test/scenario/<str:name>/", scenario),
    path("api/v1/errors-test/scenario/<str:name>/", scenario),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

pytestmark = pytest.mark.urls(__name__)


# --- helpers ------------------------------------------------------------------------------------------------------

UNREACHABLE = "The database is not reachable at the moment. Nothing was saved; please try again shortly."
BUSY = "The database is too busy to answer at the moment. Nothing was saved; please try again shortly."
READ_ONLY = (
    "The database refused to save because it is read-only at the moment. Nothing was saved; please tell your "
    "system administrator."
)
FULL = "The database refused to save because it is full. Nothing was saved; please tell your system administrator."
UNKNOWN_API = (
    "The outcome is unknown: what you sent may have been saved before the database stopped answering. Retry with "
    "the same Idempotency-Key to get the first answer without saving twice."
)
UNKNOWN_PAGE = (
    "The outcome is unknown: what you sent may have been saved before the database stopped answering. In a moment, "
    "open the record to check whether it was saved before sending it again."
)

# failure → (status, code, message, Retry-After)
EXPECTED = {
    "refused": (503, "service_unavailable", UNREACHABLE, "5"),
    "lost": (503, "service_unavailable", UNREACHABLE, "5"),
    "closed": (503, "service_unavailable", UNREACHABLE, "5"),
    "admin-shutdown": (503, "service_unavailable", UNREACHABLE, "5"),
    "crash-shutdown": (503, "service_unavailable", UNREACHABLE, "5"),
    "starting-up": (503, "service_unavailable", UNREACHABLE, "5"),
    "disk-full": (503, "database_full", FULL, "60"),
    "read-only": (503, "database_read_only", READ_ONLY, "60"),
    "out-of-memory": (503, "database_busy", BUSY, "5"),
    "too-many-connections": (503, "database_busy", BUSY, "5"),
    "deadlock": (503, "database_busy", BUSY, "5"),
    "statement-timeout": (503, "database_busy", BUSY, "5"),
    "unique-violation": (500, "server_error", "The server could not complete the request.", None),
}


@pytest.fixture(autouse=True)
def _nothing_remembered():
    errors.forget_database_full()
    yield
    errors.forget_database_full()


@pytest.fixture
def web() -> Client:
    return Client(raise_request_exception=False)


def token_client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    _token, key = tokens.issue_token(user=user, name="test terminal", mfa_verified=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def page_message(response) -> str:
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


def readyz(client) -> tuple[int, str, dict, str]:
    """From loopback, which is told the details."""
    response = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    body = response.json()
    return response.status_code, body["status"], body["checks"], body["database"]


# --- ITEM 8: what failed -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", list(EXPECTED))
def test_an_api_write_is_told_what_failed(db, failure):
    response = APIClient(raise_request_exception=False).post(f"/api/v1/errors-test/fail/{failure}/")
    status, code, message, retry_after = EXPECTED[failure]
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": code, "detail": message}
    assert response.get("Retry-After") == retry_after


@pytest.mark.parametrize("failure", list(EXPECTED))
def test_a_browser_write_is_told_what_failed(db, web, failure):
    response = web.post(f"/errors-test/fail/{failure}/")
    status, _code, message, retry_after = EXPECTED[failure]
    assert response.status_code == status
    if status == 503:
        assert f"<p>{message}</p>" in page_message(response)
        assert response["Cache-Control"] == "no-store"
    else:
        assert UNREACHABLE not in page_message(response)
    assert response.get("Retry-After") == retry_after


@pytest.mark.parametrize(
    ("failure", "sqlstate", "level"),
    [
        ("disk-full", "53100", logging.CRITICAL),
        ("read-only", "25006", logging.CRITICAL),
        ("too-many-connections", "53300", logging.ERROR),
        ("admin-shutdown", "57P01", logging.ERROR),
        ("refused", "none", logging.ERROR),
    ],
)
def test_the_failure_is_logged_with_its_sqlstate(db, web, caplog, failure, sqlstate, level):
    with caplog.at_level(logging.INFO, logger="rightsguard.errors"):
        web.post(f"/errors-test/fail/{failure}/")
    [record] = [r for r in caplog.records if r.name == "rightsguard.errors"]
    assert record.levelno == level
    assert f"(SQLSTATE {sqlstate})" in record.getMessage()


@contextlib.contextmanager
def read_only_database() -> Iterator[None]:
    """The real database refuses writes: PostgreSQL as a hot standby or with ``default_transaction_read_only`` on
    refuses them with 25006; SQLite's ``query_only`` with SQLITE_READONLY."""
    on, off = (
        ("SET SESSION default_transaction_read_only = on", "SET SESSION default_transaction_read_only = off")
        if connection.vendor == "postgresql"
        else ("PRAGMA query_only = ON", "PRAGMA query_only = OFF")
    )
    with connection.cursor() as cursor:
        cursor.execute(on)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(off)


@contextlib.contextmanager
def full_database() -> Iterator[None]:
    """The real database has no room for the new case: SQLite may not grow by a page (SQLITE_FULL); PostgreSQL's
    insert fails with disk_full (53100), raised by a trigger as the storage manager raises it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION rg_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; "
                "END $$"
            )
            cursor.execute(
                "CREATE TRIGGER rg_test_disk_full BEFORE INSERT ON cases_case "
                "FOR EACH ROW EXECUTE FUNCTION rg_test_disk_full()"
            )
        else:
            cursor.execute("VACUUM")  # no free pages left over from earlier tests: a new row needs a new page
            cursor.execute("PRAGMA max_page_count")
            (limit,) = cursor.fetchone()
            cursor.execute("PRAGMA page_count")
            (pages,) = cursor.fetchone()
            cursor.execute(f"PRAGMA max_page_count = {int(pages)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER rg_test_disk_full ON cases_case")
                cursor.execute("DROP FUNCTION rg_test_disk_full()")
            else:
                cursor.execute(f"PRAGMA max_page_count = {int(limit)}")


def new_case(world) -> dict:
    return {
        "unit": world.station.pk,
        "kind": "violent_attack",
        "occurred_at": (timezone.now() - timedelta(hours=3)).replace(microsecond=0).isoformat(),
        "location": "北山街",
        "summary": "盘查时遭踢打",
        # Longer than a page, so that storing it needs new space.
        "narrative": "嫌疑人在盘查时踢打民警。" * 1000,
    }


def counts() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        OutboxMessage.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.mark.django_db(transaction=True)
def test_a_read_only_database_refuses_the_write_and_readyz_says_so(world, client, web):
    api = token_client(world.officer)
    before = counts()
    last_login = type(world.officer).objects.get(pk=world.officer.pk).last_login
    assert readyz(client) == (200, "ok", {"database": True, "broker": True}, "ok")
    with read_only_database():
        ready = readyz(client)
        answer = api.post("/api/v1/cases/", new_case(world), format="json", HTTP_IDEMPOTENCY_KEY="c0ffee00-read-only")
        login = web.post("/accounts/login/", {"username": "officer", "password": PASSWORD})
    # Reads still work and every process shares the database: ready, with the reason writes fail in the details.
    assert ready == (200, "ok", {"database": True, "broker": True}, "read-only")
    assert answer.status_code == 503
    assert answer.json() == {"code": "database_read_only", "detail": READ_ONLY}
    assert login.status_code == 503
    assert f"<p>{READ_ONLY}</p>" in page_message(login)
    assert counts() == before
    assert type(world.officer).objects.get(pk=world.officer.pk).last_login == last_login
    assert readyz(client) == (200, "ok", {"database": True, "broker": True}, "ok")
    retried = api.post("/api/v1/cases/", new_case(world), format="json", HTTP_IDEMPOTENCY_KEY="c0ffee00-read-only")
    assert retried.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_full_database_refuses_the_write_and_readyz_says_so_for_a_while(world, client, caplog):
    api = token_client(world.officer)
    before = counts()
    with full_database():
        assert readyz(client) == (200, "ok", {"database": True, "broker": True}, "ok")  # invisible until a write
        with caplog.at_level(logging.INFO, logger="rightsguard.errors"):
            answer = api.post("/api/v1/cases/", new_case(world), format="json")
        ready = readyz(client)
    assert answer.status_code == 503
    assert answer.json() == {"code": "database_full", "detail": FULL}
    assert answer["Retry-After"] == "60"
    assert counts() == before
    [record] = [r for r in caplog.records if r.name == "rightsguard.errors"]
    assert record.levelno == logging.CRITICAL
    expected_state = "53100" if connection.vendor == "postgresql" else "none"
    assert f"(SQLSTATE {expected_state})" in record.getMessage()
    assert ready == (200, "ok", {"database": True, "broker": True}, "full")
    # Remembered for FULL_REMEMBERED_SECONDS after the last refusal; the probe cannot see the space come back.
    assert readyz(client)[3] == "full"
    errors.forget_database_full()
    assert readyz(client)[3] == "ok"


class _Unreachable:
    vendor = "postgresql"

    def __init__(self, failure: str) -> None:
        self.failure = failure

    def cursor(self):
        raise FAILURES[self.failure]()


@pytest.mark.parametrize(
    ("failure", "state"),
    [("refused", "unreachable"), ("admin-shutdown", "unreachable"), ("too-many-connections", "busy")],
)
def test_readyz_tells_an_unreachable_database_from_a_busy_one(db, client, monkeypatch, failure, state):
    monkeypatch.setattr(health, "connection", _Unreachable(failure))
    assert readyz(client) == (503, "unavailable", {"database": False, "broker": True}, state)
    # Outside callers are told only that the service is not ready.
    response = client.get("/readyz", REMOTE_ADDR="203.0.113.50")
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})


def test_sqlite_errors_are_classified_by_their_result_code(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    db.execute("CREATE TABLE t (x)")
    db.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError) as read_only:
        db.execute("INSERT INTO t VALUES (1)")
    db.execute("PRAGMA query_only = OFF")
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError) as full:
        db.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    other = sqlite3.connect(tmp_path / "t.sqlite3", timeout=0, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("SELECT * FROM t")
    db.execute("ROLLBACK")
    assert [errors.database_failure(_wrapped(OperationalError, e.value)) for e in (read_only, full, locked)] == [
        "read-only",
        "full",
        "busy",
    ]


# --- ITEM 9: a failure after the commit ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prefix", ["/api/v1", ""], ids=["api", "web"])
@pytest.mark.parametrize(
    ("name", "saved", "code"),
    [
        ("committed-then-lost", 1, "outcome_unknown"),
        ("bookkeeping-then-lost", 0, "service_unavailable"),
        ("commit-lost", 0, "outcome_unknown"),
        ("lost-inside-the-transaction", 0, "service_unavailable"),
        ("savepoint-rolled-back-then-lost", 0, "service_unavailable"),
    ],
)
def test_a_failure_after_a_write_may_have_saved_says_the_outcome_is_unknown(web, prefix, name, saved, code):
    response = web.post(f"{prefix}/errors-test/scenario/{name}/")
    assert OutboxMessage.objects.count() == saved
    assert AccessLog.objects.count() == (1 if name == "bookkeeping-then-lost" else 0)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    message = {"service_unavailable": UNREACHABLE, "outcome_unknown": UNKNOWN_API if prefix else UNKNOWN_PAGE}[code]
    if prefix:
        assert response.json() == {"code": code, "detail": message}
    else:
        assert f"<p>{message}</p>" in page_message(response)
        assert ("Nothing was saved" in page_message(response)) is (code != "outcome_unknown")


@contextlib.contextmanager
def database_lost(when: Callable[[str, object], bool]) -> Iterator[None]:
    """Every query for which ``when(sql, connection)`` holds fails as if the server had been shut down."""

    def wrapper(execute, sql, params, many, context):
        if when(sql, context["connection"]):
            raise _lost()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def _the_publish(sql: str, _db: object) -> bool:
    """The after-commit publish's queries on the outbox (everything but the enqueue's INSERT)."""
    return "cases_outboxmessage" in sql and not sql.lstrip().upper().startswith("INSERT")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "5b0d6c1e-publish"], ids=["no-key", "idempotency-key"])
def test_a_database_failure_in_the_after_commit_publish_still_answers_the_saved_write(world, caplog, key):
    """Submitting a case enqueues its notification; its publish after the commit fails as if the server had been
    shut down. The submission is saved, so it answers its 200, and the relay publishes the job later."""
    api = token_client(world.officer)
    case = draft(world)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    with caplog.at_level(logging.ERROR, logger="cases.outbox"), database_lost(when=_the_publish):
        answer = api.post(f"/api/v1/cases/{case.pk}/actions/submit/", {}, format="json", **headers)
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "intake"
    case.refresh_from_db()
    assert (case.status, case.version) == ("intake", answer.json()["version"])
    event = CaseEvent.objects.get(case=case, action="submit")
    # The submission enqueues its notification and the officers' welfare check; both stay for the relay.
    message = OutboxMessage.objects.get(key=f"notify:{event.pk}")
    assert (message.published_at, message.done_at, message.attempts) == (None, None, 0)
    assert sorted(OutboxMessage.objects.values_list("key", flat=True))[0] == f"notify:{event.pk}"
    assert OutboxMessage.objects.count() == 2
    assert [r.getMessage()[:96] for r in caplog.records] == [
        f"Outbox: the database failed (unreachable, SQLSTATE 57P01) while publishing {k} after the commit;"[:96]
        for k in sorted(OutboxMessage.objects.values_list("key", flat=True))
    ]
    assert Notification.objects.filter(event=event).count() == 0
    # The row stayed for the relay, which publishes (here: runs) it once the database answers again.
    assert outbox.relay(older_than=timedelta(0))["published"] == 2
    message.refresh_from_db()
    assert (message.published_at is not None, message.done_at is not None) == (True, True)
    assert list(Notification.objects.filter(event=event).values_list("recipient__username", flat=True)) == [
        "county_supervisor"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_database_lost_right_after_the_commit_never_answers_nothing_was_saved(world, monkeypatch):
    """Without an Idempotency-Key the answer is built after the service's commit. It is made from the case the
    service returned (the caller's grants are read with the token, before the write), so it needs no read and is the
    201; where it does read (any answer that reads back) and that read fails, the answer says the outcome is
    unknown. With a key the answer is built inside the transaction, so it is the 201, and a retry with the key gets
    it again."""
    api = token_client(world.officer)
    before = Case.objects.count()
    wrote: list[str] = []

    def after_a_write_committed(sql: str, db) -> bool:
        if sql.lstrip().upper().startswith('INSERT INTO "CASES_CASE"'):
            wrote.append(sql)
        return bool(wrote) and not db.in_atomic_block

    with database_lost(when=after_a_write_committed):
        created = api.post("/api/v1/cases/", new_case(world), format="json")
    assert created.status_code == 201, created.content
    stored = api.get(f"/api/v1/cases/{created.json()['id']}/")
    assert created.json() == stored.json()  # the answer is the case as saved
    assert Case.objects.count() == before + 1

    def reading_back(view, case, code=200):
        Case.objects.filter(pk=case.pk).exists()
        return answer(view, case, code)

    answer = views.case_response
    monkeypatch.setattr(views, "case_response", reading_back)
    wrote.clear()
    with database_lost(when=after_a_write_committed):
        unknown = api.post("/api/v1/cases/", new_case(world), format="json")
    monkeypatch.undo()
    before += 1
    assert unknown.status_code == 503
    assert unknown.json() == {"code": "outcome_unknown", "detail": UNKNOWN_API}
    assert Case.objects.count() == before + 1  # it was saved

    wrote.clear()
    body = new_case(world)
    with database_lost(when=after_a_write_committed):
        first = api.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="9e1f-after-commit")
    assert first.status_code == 201, first.content
    retried = api.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="9e1f-after-commit")
    assert (retried.status_code, retried.json(), retried["Idempotent-Replayed"]) == (201, first.json(), "true")
    assert Case.objects.count() == before + 2


def test_only_database_failures_are_kept_out_of_the_saved_write(monkeypatch, caplog):
    def fails(error: Exception):
        def publish(keys):
            raise error

        return publish

    monkeypatch.setattr(outbox, "publish_keys", fails(FAILURES["unique-violation"]()))
    with pytest.raises(IntegrityError):
        outbox._publish_after_commit(["k"])
    monkeypatch.setattr(outbox, "publish_keys", fails(FAILURES["disk-full"]()))
    with caplog.at_level(logging.ERROR, logger="cases.outbox"):
        outbox._publish_after_commit(["k"])
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


@pytest.mark.django_db(transaction=True)
def test_a_read_only_database_still_answers_reads_with_a_token_whose_last_use_is_due(world):
    api = token_client(world.officer)
    token = tokens.tokens_of(world.officer).get()
    stale = timezone.now() - timedelta(minutes=5)
    type(token).objects.filter(pk=token.pk).update(created_at=stale, last_used_at=stale)
    with read_only_database():
        answer = api.get("/api/v1/me/")
    # Recording the last use is bookkeeping: the read is answered, the time is recorded on a later request.
    assert answer.status_code == 200
    assert answer.json()["username"] == "officer"
    assert type(token).objects.get(pk=token.pk).last_used_at == stale
    assert api.get("/api/v1/me/").status_code == 200
    assert type(token).objects.get(pk=token.pk).last_used_at > stale
