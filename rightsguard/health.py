"""Liveness and readiness probes (no login; no data)."""

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rightsguard import errors, heartbeat
from rightsguard.celery import app as celery_app
from rightsguard.proxies import parse_address


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_state() -> str:
    """The database as the probe sees it: "ok", or what keeps it from saving: "unreachable", "busy" (it answered
    that it is out of connections or memory), "read-only" (PostgreSQL in recovery, a hot standby, or
    ``default_transaction_read_only`` on; SQLite's ``query_only``). A full disk cannot be seen from here:
    ``errors.database_recently_full``."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # In autocommit each statement is its own transaction, read-only exactly as a request's would be.
                cursor.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'")
                in_recovery, read_only = cursor.fetchone()
                if in_recovery or read_only:
                    return errors.READ_ONLY
            else:  # SQLite: a connection set to refuse writes (a read-only file is seen only by a write)
                cursor.execute("PRAGMA query_only")
                if cursor.fetchone()[0]:
                    return errors.READ_ONLY
    except Exception as exc:
        return errors.database_failure(exc) or errors.UNREACHABLE
    return "ok"


def _broker_ok() -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def database_answers() -> bool:
    """Whether the database answers at all (read-only or full still answers): the metrics' "up"."""
    return _database_state() in ("ok", errors.READ_ONLY, errors.FULL)


def broker_queue_length() -> int | None:
    """The jobs waiting in the broker's default queue; None when the broker does not answer. Tasks run in-process
    (the embedded default) have no queue: 0."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return 0
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            try:
                declared = conn.default_channel.queue_declare(settings.CELERY_TASK_DEFAULT_QUEUE, passive=True)
            except conn.channel_errors:  # no such queue yet: nothing was ever sent to it, nothing waits
                return 0
            return int(declared.message_count)
    except Exception:
        return None


def may_see_details(request: HttpRequest) -> bool:
    """Which dependency is down helps an attacker as much as an operator: only the machine itself (loopback) and a
    monitor presenting ``RIGHTSGUARD_MONITORING_TOKEN`` as a bearer token are told."""
    # REMOTE_ADDR is the real client behind a trusted proxy (rightsguard/proxies.py), never a forwarded header.
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    if peer is not None and peer.is_loopback:
        return True
    token = settings.RIGHTSGUARD_MONITORING_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


@login_not_required
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready means able to accept work: the database and the broker answer. The worker is a detail, not a
    condition: while it is down the web still takes changes, whose jobs wait in the outbox until a worker runs
    them, so taking this process out of service would only add an outage.

    A database that answers but refuses writes is reachable, and the process stays ready: the requests that write
    nothing still work, and every process shares that database, so taking them out of service would only turn a
    write outage into a whole one. The "database" detail says why writes fail: "read-only" from the probe's own
    query, "full" when a write was refused for lack of space within the last minutes (a full disk shows only on a
    write that needs space)."""
    database = _database_state()
    checks = {"database": database in ("ok", errors.READ_ONLY, errors.FULL), "broker": _broker_ok()}
    ready = all(checks.values())
    body: dict[str, object] = {"status": "ok" if ready else "unavailable"}
    if may_see_details(request):
        body["checks"] = checks
        body["database"] = errors.FULL if database == "ok" and errors.database_recently_full() else database
        body["worker"] = heartbeat.worker_state() if checks["broker"] else "unknown"
    return JsonResponse(body, status=200 if ready else 503)
