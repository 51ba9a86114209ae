"""Liveness and readiness probes (no login; no data)."""

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rightsguard.celery import app as celery_app
from rightsguard.proxies import parse_address


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


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
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    body: dict[str, object] = {"status": "ok" if ready else "unavailable"}
    if may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if ready else 503)
