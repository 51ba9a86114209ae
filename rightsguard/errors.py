"""Error handlers for what Django answers itself, outside the API's views: JSON under ``/api/``, pages elsewhere.

Server errors: a database failure is a 503, not a 500, and the answer says which failure it is, because what the
user should do differs. Django turns the exception into the 500 handler's response wherever it was raised (in a
view or a middleware), so the handler looks at the exception being handled (``database_failure``, by the SQLSTATE
of the driver's error that Django wraps) and answers at once, with no template that would query the database again,
JSON for the API and a short page for the browser:

- unreachable (connection refused or lost, class 08; administrator or crash shutdown, 57P01–57P03): nothing was
  saved, retry shortly (``service_unavailable``);
- busy (out of memory or connections, 53200/53300/53400; lock or statement timeout, 55P03/57014; deadlock or
  serialization failure, class 40): nothing was saved, retry shortly (``database_busy``);
- refusing writes — read-only (25006: a hot standby, ``default_transaction_read_only``) or full (53100): nothing
  was saved and retrying will not help until an administrator acts (``database_read_only``, ``database_full``),
  logged at CRITICAL with the SQLSTATE.

"Nothing was saved" must be true. After a commit the request may still fail (reading the answer back, saving the
session), and a connection lost during COMMIT leaves the outcome unknown. ``SavedWritesMiddleware`` notes a commit
on the request and the traceback shows an interrupted one; a write request (POST, PUT, PATCH, DELETE) that failed
after either answers 503 ``outcome_unknown``: what was sent may have been saved, and the way to find out is a retry
with the same ``Idempotency-Key`` (the API) or a look at the record (the browser).

Refused requests (``SuspiciousOperation``: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields, a
disallowed host) and unknown paths answer the API's error envelope ``{"code": ..., "detail": ...}`` under
``/api/``, as the API's own views do (rightsguard/api.py); a body too large is a 413 there.
"""

import functools
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from psycopg_pool import PoolTimeout
from rest_framework import exceptions

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# A database refusing writes needs an administrator: clients that retry on their own should not hammer it.
REFUSED_RETRY_AFTER_SECONDS = 60
API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# What a database error says about the database (``database_failure``).
UNREACHABLE = "unreachable"
BUSY = "busy"
READ_ONLY = "read-only"
FULL = "full"


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception or Exception())
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return _api_error(
            "request_too_large",
            _("The request body is too large: at most %(limit)s is accepted.") % {"limit": limit},
            413,
        )
    return _api_error("bad_request", _("The request was refused as malformed or beyond the server's limits."), 400)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)
    # The answer the API's own catch-all gives (cases/api/urls.py), for paths outside its version prefix.
    return _api_error(exceptions.NotFound.default_code, str(exceptions.NotFound.default_detail), 404)


# --- what failed ---------------------------------------------------------------------------------------------------

# PostgreSQL SQLSTATEs (Appendix A of its manual); classes by their first two characters.
_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03"})  # admin shutdown, crash shutdown, cannot connect now
_BUSY_STATES = frozenset({"53200", "53300", "53400", "55P03", "57014"})
_READ_ONLY_STATES = frozenset({"25006"})  # read_only_sql_transaction: a hot standby, default_transaction_read_only
_FULL_STATES = frozenset({"53100"})  # disk_full
# SQLite's primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_FULL = 5, 6, 8, 13


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of the driver's error Django wrapped (psycopg's ``sqlstate``), or None (no answer from the
    server at all, or not PostgreSQL)."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    return getattr(cause, "sqlstate", None)


def database_failure(exc: BaseException | None) -> str | None:
    """``UNREACHABLE``, ``BUSY``, ``READ_ONLY`` or ``FULL`` for an error that is about the database's state; None
    for any other error (a bug, a constraint), which stays a 500."""
    if isinstance(exc, InterfaceError):  # the connection is closed
        return UNREACHABLE
    if not isinstance(exc, DatabaseError):
        return None
    if isinstance(exc.__cause__, PoolTimeout):
        # Every connection of the process's pool (RIGHTSGUARD_DB_POOL=psycopg) was lent for the pool's whole timeout:
        # out of connections, as PostgreSQL's own 53300, not out of reach.
        return BUSY
    sqlstate = sqlstate_of(exc)
    if sqlstate:
        if sqlstate in _READ_ONLY_STATES:
            return READ_ONLY
        if sqlstate in _FULL_STATES:
            return FULL
        if sqlstate in _BUSY_STATES or sqlstate.startswith("40"):
            return BUSY
        if sqlstate.startswith("08") or sqlstate in _UNREACHABLE_STATES:
            return UNREACHABLE
    code = getattr(exc.__cause__, "sqlite_errorcode", None)
    if code is not None:
        primary = code & 0xFF
        if primary == _SQLITE_READONLY:
            return READ_ONLY
        if primary == _SQLITE_FULL:
            return FULL
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return BUSY
    # Any other OperationalError (psycopg's for a connection that failed without a server answer among them) is
    # taken as the database being out of reach, as before this distinction.
    return UNREACHABLE if isinstance(exc, OperationalError) else None


def _interrupted_commit(exc: BaseException) -> bool:
    """Did the error come out of COMMIT? Then the server may have committed before the connection was lost."""
    commit = BaseDatabaseWrapper._commit.__code__  # type: ignore[attr-defined]
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is commit:
            return True
        tb = tb.tb_next
    return False


# --- what may have been saved ------------------------------------------------------------------------------------

MAYBE_SAVED = "_rightsguard_maybe_saved"
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE"})


class SavedWritesMiddleware:
    """Notes on the request when a transaction that wrote has committed, so that an error answer never claims that
    nothing was saved when something was. (A connection lost during COMMIT is seen in the error's traceback,
    ``_interrupted_commit``.)

    Changes are made by services, each in its own transaction. Writes in autocommit are bookkeeping that does not
    make what the user sent saved — the access log, a token's last use, the last login, the log-in throttle — and
    so are the session's writes: none of them counts. Placed before the middleware that write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        setattr(request, MAYBE_SAVED, False)
        saved = functools.partial(setattr, request, MAYBE_SAVED, True)

        def note(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
            result = execute(sql, params, many, context)
            db = context["connection"]
            if (
                db.in_atomic_block
                and isinstance(sql, str)
                and sql[:6].upper() in _WRITES
                and '"django_session"' not in sql[:40]
            ):
                # Dropped with a savepoint that rolls back, as the write is; run once the transaction commits.
                db.on_commit(saved)
            return result

        with connection.execute_wrapper(note):
            return self.get_response(request)


# --- what readiness can tell ---------------------------------------------------------------------------------------

# A full disk shows only when a write needs new space, so a probe cannot see it coming. What it can say is that a
# write was refused for lack of space recently: each refusal is remembered for this long, in this process and, when
# there is a Redis, for every process (/readyz may be answered by another one).
FULL_REMEMBERED_SECONDS = 300
_FULL_KEY = "rightsguard:database:full"
_SHARE_EVERY_SECONDS = 10  # at most one Redis write per process this often, while every write is refused
_REDIS_TIMEOUT_SECONDS = 1.0
_full_lock = threading.Lock()
_full_at: dict[str, float] = {}  # "seen", "shared": monotonic times of this process's last refusal and Redis write


def _redis() -> redis.Redis | None:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    return redis.Redis.from_url(
        url, socket_timeout=_REDIS_TIMEOUT_SECONDS, socket_connect_timeout=_REDIS_TIMEOUT_SECONDS
    )


def _remember_full() -> None:
    now = time.monotonic()
    with _full_lock:
        _full_at["seen"] = now
        if now - _full_at.get("shared", float("-inf")) < _SHARE_EVERY_SECONDS:
            return
        _full_at["shared"] = now
    client = _redis()
    if client is None:
        return
    try:
        with client:
            client.set(_FULL_KEY, "1", ex=FULL_REMEMBERED_SECONDS)
    except redis.RedisError as exc:
        logger.warning("Could not share the database-full refusal through Redis: %s", exc)


def database_recently_full() -> bool:
    """Was a write refused for lack of space within ``FULL_REMEMBERED_SECONDS`` (by any process sharing Redis)?"""
    seen = _full_at.get("seen")
    if seen is not None and time.monotonic() - seen < FULL_REMEMBERED_SECONDS:
        return True
    client = _redis()
    if client is None:
        return False
    try:
        with client:
            return bool(client.exists(_FULL_KEY))
    except redis.RedisError:
        return False


def forget_database_full() -> None:
    """For tests. Otherwise the memory of a refusal ends ``FULL_REMEMBERED_SECONDS`` after the last one."""
    with _full_lock:
        _full_at.clear()
    client = _redis()
    if client is not None:
        try:
            with client:
                client.delete(_FULL_KEY)
        except redis.RedisError as exc:
            logger.warning("Could not clear the database-full refusal in Redis: %s", exc)


# --- the answers ---------------------------------------------------------------------------------------------------


def _database_answer(request: HttpRequest, code: str, message: str, retry_after: int) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": message, "code": code}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def database_failed(request: HttpRequest, exc: BaseException, failure: str) -> HttpResponse:
    """The 503 for a database failure: what happened, whether anything was saved, and what to do."""
    sqlstate = sqlstate_of(exc) or "none"
    if request.method not in SAFE_METHODS and (getattr(request, MAYBE_SAVED, False) or _interrupted_commit(exc)):
        logger.error(
            "Database %s (SQLSTATE %s) after %s %s may already have saved: outcome unknown: %s",
            failure,
            sqlstate,
            request.method,
            request.path,
            exc,
        )
        if request.path.startswith(API_PREFIX):
            message = _(
                "The outcome is unknown: what you sent may have been saved before the database stopped answering. "
                "Retry with the same Idempotency-Key to get the first answer without saving twice."
            )
        else:
            message = _(
                "The outcome is unknown: what you sent may have been saved before the database stopped answering. "
                "In a moment, open the record to check whether it was saved before sending it again."
            )
        return _database_answer(request, "outcome_unknown", message, RETRY_AFTER_SECONDS)
    if failure == READ_ONLY:
        logger.critical("The database refused to save: it is read-only (SQLSTATE %s): %s", sqlstate, exc)
        message = _(
            "The database refused to save because it is read-only at the moment. Nothing was saved; "
            "please tell your system administrator."
        )
        return _database_answer(request, "database_read_only", message, REFUSED_RETRY_AFTER_SECONDS)
    if failure == FULL:
        logger.critical("The database refused to save: it is full (SQLSTATE %s): %s", sqlstate, exc)
        _remember_full()
        message = _(
            "The database refused to save because it is full. Nothing was saved; please tell your system administrator."
        )
        return _database_answer(request, "database_full", message, REFUSED_RETRY_AFTER_SECONDS)
    if failure == BUSY:
        logger.error("The database is too busy (SQLSTATE %s): %s", sqlstate, exc)
        message = _("The database is too busy to answer at the moment. Nothing was saved; please try again shortly.")
        return _database_answer(request, "database_busy", message, RETRY_AFTER_SECONDS)
    logger.error("The database is not reachable (SQLSTATE %s): %s", sqlstate, exc)
    message = _("The database is not reachable at the moment. Nothing was saved; please try again shortly.")
    return _database_answer(request, "service_unavailable", message, RETRY_AFTER_SECONDS)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    failure = database_failure(exc)
    if exc is not None and failure is not None:
        return database_failed(request, exc, failure)
    if request.path.startswith(API_PREFIX):
        return _api_error("server_error", _("The server could not complete the request."), 500)
    return HttpResponse(loader.render_to_string("500.html"), status=500)
