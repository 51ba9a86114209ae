"""Logs an operations team can search: one JSON object per line (``RIGHTSGUARD_LOG_FORMAT=json``), each carrying the
request id (the ``X-Request-ID`` of the answer and the access log's), the user id and the case id of the request or
of the Celery task that wrote it.

Ids only, never personal data: no name, no username, no address, no query string, no form field. What a message says
is the code's; the code's rule is the same (log ids, not people), and the tests hold this module to it. A database
error is the exception: PostgreSQL's text quotes the values it refused (``DETAIL: Failing row contains (...)``, the
whole row: names, narrative), so a line says of it only its SQLSTATE and what it names in the schema (constraint,
table, column), in the message and in the traceback alike.

One record is one line for every reader: besides the JSON escapes, the characters other readers split lines on
(U+2028, U+2029, NEL) and the C1 controls a terminal obeys (an 8-bit CSI) are written as ``\\uXXXX`` escapes, so a
value a caller chose can neither forge a second line nor drive the terminal of whoever reads the log.

The context lives in ``contextvars`` so that every logger of the request (Django's, the app's, a library's) carries
it without being handed it: ``LogContextMiddleware`` sets the user and the case once the request is resolved and
authenticated; ``accounts.middleware.RequestIdMiddleware`` makes the request id first; the API's token check
(``cases/api/authentication.py``) sets the user of a token request; the Celery signals in ``rightsguard/celery.py``
set the task's name and id.
"""

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("rightsguard_request_id", default="")
user_id: ContextVar[int | None] = ContextVar("rightsguard_user_id", default=None)
case_id: ContextVar[int | None] = ContextVar("rightsguard_case_id", default=None)
task_name: ContextVar[str] = ContextVar("rightsguard_task", default="")
task_id: ContextVar[str] = ContextVar("rightsguard_task_id", default="")

# The URL routes whose ``pk`` or ``case_pk`` is a case: the case pages and the case API.
_CASE_ROUTES = ("cases/<int:pk>/", "api/v1/cases/<int:pk>/", "api/v1/cases/<int:case_pk>/")


def context() -> dict[str, Any]:
    """The ids of the request or task under way (only those that are set)."""
    found = {
        "request_id": request_id.get(),
        "user_id": user_id.get(),
        "case_id": case_id.get(),
        "task": task_name.get(),
        "task_id": task_id.get(),
    }
    return {key: value for key, value in found.items() if value not in ("", None)}


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Set context ids for a block (a task run, a management command), restoring the outer ones after it."""
    variables: dict[str, ContextVar[Any]] = {
        "request_id": request_id,
        "user_id": user_id,
        "case_id": case_id,
        "task": task_name,
        "task_id": task_id,
    }
    tokens = [(variables[key], variables[key].set(value)) for key, value in values.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


# Left raw by ``json.dumps(ensure_ascii=False)`` and taken as a line break or a control by some reader: DEL, the C1
# controls (NEL, CSI, ...), and the line and paragraph separators.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _database_error_text(exc: BaseException) -> str | None:
    """What a log line may say of a PostgreSQL error (``exc`` itself or the driver's error Django raised it from): the
    SQLSTATE and the constraint, table and column it names; its first line too unless the error is about a value
    (SQLSTATE class 22, whose first line quotes the value). None for any other exception."""
    error = exc if _is_driver_error(exc) else exc.__cause__
    if error is None or not _is_driver_error(error):
        return None
    diag = error.diag  # type: ignore[attr-defined]
    sqlstate = error.sqlstate or ""  # type: ignore[attr-defined]
    parts = [f"SQLSTATE {sqlstate or 'unknown'}"]
    if diag.message_primary and not sqlstate.startswith("22"):
        parts.append(diag.message_primary)
    for name, value in (("constraint", diag.constraint_name), ("table", diag.table_name), ("column", diag.column_name)):
        if value:
            parts.append(f"{name} {value}")
    return "; ".join(parts)


def _is_driver_error(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # SQLite only: its errors name the constraint, never the row
        return False
    return isinstance(exc, psycopg.Error)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, once each."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _without_database_values(text: str, exceptions: Iterable[BaseException]) -> str:
    for exc in exceptions:
        safe = _database_error_text(exc)
        if safe is not None:
            for told in {str(exc), repr(exc)}:
                if told:
                    text = text.replace(told, safe)
    return text


class JsonFormatter(logging.Formatter):
    """One line of JSON per record: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``,
    the context ids, and ``exception`` (the type and the traceback) when there is one. A database error's values are
    left out of both (see the module doc)."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args if isinstance(record.args, tuple) else (record.args,) if record.args else ()
        message = _without_database_values(
            record.getMessage(), (e for arg in args if isinstance(arg, BaseException) for e in _chain(arg))
        )
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            **context(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = {
                "type": record.exc_info[0].__name__,
                "traceback": _without_database_values(
                    "".join(traceback.format_exception(*record.exc_info)), _chain(record.exc_info[1])
                ),
            }
        return _UNSAFE.sub(_escaped, json.dumps(line, ensure_ascii=False, default=str))


class LogContextMiddleware:
    """After authentication: the request's user id, and its case id where the URL names a case. They stay set until
    the request has finished (``clear`` on ``request_finished``), since Django logs an error answer after the
    middleware has returned it; the next request on the thread starts by setting its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        request_id.set(getattr(request, "request_id", ""))
        user_id.set(user.pk if user is not None and user.is_authenticated else None)
        case_id.set(None)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]) -> None:
        match = request.resolver_match
        if match is not None and match.route.startswith(_CASE_ROUTES):
            value = kwargs.get("pk", kwargs.get("case_pk"))
            if isinstance(value, int):
                case_id.set(value)


@receiver(request_finished)
def clear(**kwargs: Any) -> None:
    """The request's ids end with it."""
    request_id.set("")
    user_id.set(None)
    case_id.set(None)
