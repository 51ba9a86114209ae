"""/readyz tells anonymous callers only whether the service is ready; which dependency is down is told only to the
machine itself (loopback) and to a monitor presenting the configured token."""

import pytest

from rightsguard import health

TOKEN = "monitor-7f3c9a1e5b2d4c6f8a0e"
OUTSIDE = "203.0.113.50"

pytestmark = pytest.mark.django_db  # the probe checks the database


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setattr(health, "_broker_ok", lambda: False)


@pytest.fixture
def token(settings):
    settings.RIGHTSGUARD_MONITORING_TOKEN = TOKEN
    return TOKEN


def readyz(client, **extra):
    response = client.get("/readyz", **extra)
    return response.status_code, response.json()


def test_an_outside_caller_gets_the_status_only(client, token):
    assert readyz(client, REMOTE_ADDR=OUTSIDE) == (200, {"status": "ok"})


def test_an_outside_caller_is_not_told_what_is_down(client, token, broker_down):
    assert readyz(client, REMOTE_ADDR=OUTSIDE) == (503, {"status": "unavailable"})
    assert readyz(client, REMOTE_ADDR="10.0.0.8") == (503, {"status": "unavailable"})
    assert readyz(client, REMOTE_ADDR="::ffff:203.0.113.50") == (503, {"status": "unavailable"})


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Token {TOKEN}",
        TOKEN,
        "Bearer ",
        "Bearer 口令",
    ],
)
def test_a_wrong_token_gets_the_status_only(client, token, broker_down, authorization):
    assert readyz(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=authorization) == (503, {"status": "unavailable"})


def test_without_a_configured_token_no_token_is_accepted(client, settings, broker_down):
    settings.RIGHTSGUARD_MONITORING_TOKEN = ""
    for authorization in ("Bearer ", "Bearer", "bearer  "):
        assert readyz(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=authorization) == (
            503,
            {"status": "unavailable"},
        )


def test_a_monitor_with_the_token_gets_the_details(client, token, broker_down):
    assert readyz(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}") == (
        503,
        {"status": "unavailable", "checks": {"database": True, "broker": False}, "database": "ok", "worker": "unknown"},
    )
    assert readyz(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"bearer {TOKEN}") == (
        503,
        {"status": "unavailable", "checks": {"database": True, "broker": False}, "database": "ok", "worker": "unknown"},
    )


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_a_loopback_caller_gets_the_details(client, broker_down, address):
    assert readyz(client, REMOTE_ADDR=address) == (
        503,
        {"status": "unavailable", "checks": {"database": True, "broker": False}, "database": "ok", "worker": "unknown"},
    )


def test_a_forged_forwarded_address_is_not_loopback(client, broker_down, settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = []
    assert readyz(client, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1") == (503, {"status": "unavailable"})


def test_behind_a_trusted_proxy_the_client_decides(client, broker_down, settings):
    """A proxy on the same machine is loopback itself: the forwarded client is who asks."""
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["127.0.0.1"]
    assert readyz(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE) == (503, {"status": "unavailable"})


def test_the_token_is_compared_in_constant_time(client, token, monkeypatch):
    compared = []
    real = health.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(health.hmac, "compare_digest", spy)
    assert readyz(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer guess") == (200, {"status": "ok"})
    assert compared == [(b"guess", TOKEN.encode())]
