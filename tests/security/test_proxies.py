"""Forwarded headers count only when a configured proxy sent them (rightsguard/proxies.py).

From any other peer, X-Forwarded-Proto cannot make a request secure and X-Forwarded-For cannot change the address
the access log records; from a trusted proxy both are honoured, the client being the right-most forwarded address
that is not itself a trusted proxy.
"""

import ipaddress

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from cases.choices import CaseStatus
from cases.models import AccessLog
from rightsguard.proxies import UNKNOWN_CLIENT, TrustedProxyMiddleware, forwarded_client, parse_networks
from tests.factories import case_in
from tests.security.test_deploy_check import manage_check, production_env

PROXY = "10.0.0.5"
CLIENT = "203.0.113.50"
FORWARDED = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_FOR": "198.51.100.99",
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_FORWARDED_PORT": "443",
    "HTTP_X_REAL_IP": "198.51.100.98",
    "HTTP_FORWARDED": "for=198.51.100.97;proto=https;host=evil.example",
}


def seen_by_the_application(remote_addr: str, **headers: str) -> dict:
    """What the code after the middleware sees of a request: is it secure, its peer address, its forwarded headers."""
    seen = {}

    def view(request):
        seen.update(
            secure=request.is_secure(),
            address=request.META["REMOTE_ADDR"],
            forwarded={key: request.META[key] for key in FORWARDED if key in request.META},
        )
        return HttpResponse()

    TrustedProxyMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers))
    return seen


def test_an_untrusted_peer_cannot_claim_https_or_another_address(settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = []
    assert seen_by_the_application(CLIENT, **FORWARDED) == {"secure": False, "address": CLIENT, "forwarded": {}}


def test_a_peer_outside_the_trusted_ranges_is_untrusted(settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::1"]
    assert seen_by_the_application("10.0.1.5", **FORWARDED) == {"secure": False, "address": "10.0.1.5", "forwarded": {}}
    assert seen_by_the_application("2001:db8::2", **FORWARDED)["forwarded"] == {}


def test_a_trusted_proxy_is_believed(settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["10.0.0.0/24"]
    seen = seen_by_the_application(PROXY, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=f"9.9.9.9, {CLIENT}")
    # The forwarded chain is consumed: what it proves is in REMOTE_ADDR, and nothing can re-read the forged part.
    assert seen == {"secure": True, "address": CLIENT, "forwarded": {"HTTP_X_FORWARDED_PROTO": "https"}}


def test_the_client_is_the_right_most_address_not_a_trusted_proxy(settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::/64"]
    # The client prepended an address of its own: only the part the proxies wrote counts.
    seen = seen_by_the_application(PROXY, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {CLIENT}, 10.0.0.7")
    assert seen["address"] == CLIENT
    seen = seen_by_the_application("2001:db8::5", HTTP_X_FORWARDED_FOR="2001:db8:1::9, 2001:db8::7")
    assert seen["address"] == "2001:db8:1::9"
    # No usable forwarded address: a client the proxy relayed without naming it, never the proxy itself.
    assert seen_by_the_application(PROXY)["address"] == UNKNOWN_CLIENT
    assert seen_by_the_application(PROXY, HTTP_X_FORWARDED_FOR="unknown")["address"] == UNKNOWN_CLIENT


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("203.0.113.50", "203.0.113.50"),
        ("203.0.113.50,10.0.0.7", "203.0.113.50"),
        ("9.9.9.9, 203.0.113.50, 10.0.0.7, 10.0.0.8", "203.0.113.50"),
        ("10.0.0.9, 10.0.0.7", "10.0.0.9"),  # every hop a trusted proxy: the left-most is the client
        ("203.0.113.50:4711", "203.0.113.50"),
        ("[2001:db8:1::9]:443", "2001:db8:1::9"),
        ("nonsense, 203.0.113.50", "203.0.113.50"),
        ("203.0.113.50, nonsense", None),  # a proxy wrote garbage: nothing left of it can be relied on
        ("", None),
    ],
)
def test_forwarded_client(header, client):
    networks = parse_networks(["10.0.0.0/24"])
    expected = None if client is None else ipaddress.ip_address(client)
    assert forwarded_client(header, networks) == expected


def test_ssl_redirect_is_not_skipped_by_a_forged_header(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.RIGHTSGUARD_TRUSTED_PROXIES = []
    response = client.get("/healthz", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
    assert (response.status_code, response["Location"]) == (301, "https://testserver/healthz")


def test_ssl_redirect_trusts_the_proxy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["10.0.0.0/24"]
    response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=CLIENT)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    # The same request straight from the proxy's network but not through it is redirected.
    response = client.get("/healthz", REMOTE_ADDR="10.0.1.5", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301


def view_case(client, world, **extra) -> AccessLog:
    case = case_in(world, CaseStatus.INTAKE)
    client.force_login(world.supervisor)
    assert client.get(reverse("cases:detail", args=[case.pk]), **extra).status_code == 200
    return AccessLog.objects.get(case=case)


def test_the_access_log_records_the_peer_not_a_forged_forwarded_address(client, world, settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = []
    entry = view_case(client, world, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert entry.source_ip == CLIENT


def test_the_access_log_records_the_client_a_trusted_proxy_forwards(client, world, settings):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["10.0.0.0/24"]
    entry = view_case(client, world, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {CLIENT}")
    assert entry.source_ip == CLIENT


@pytest.mark.parametrize("forwarded", [None, "unknown"], ids=["header-dropped", "unknown-client"])
def test_a_client_the_proxy_does_not_name_is_recorded_as_unknown_not_as_the_proxy(client, world, settings, forwarded):
    """The placeholder is a documentation address (RFC 5737), so the access log shows that the client is unknown."""
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["127.0.0.1"]
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    entry = view_case(client, world, REMOTE_ADDR="127.0.0.1", **extra)
    assert entry.source_ip == UNKNOWN_CLIENT == "192.0.2.0"
    assert ipaddress.ip_address(UNKNOWN_CLIENT) in ipaddress.ip_network("192.0.2.0/24")


def test_the_middleware_comes_first(settings):
    assert settings.MIDDLEWARE[0] == "rightsguard.proxies.TrustedProxyMiddleware"


def test_a_bad_trusted_proxy_setting_stops_the_start():
    env = production_env()
    env["RIGHTSGUARD_TRUSTED_PROXIES"] = "10.0.0.0/24,proxy.example"
    result = manage_check(env)
    assert result.returncode != 0
    assert "RIGHTSGUARD_TRUSTED_PROXIES holds 'proxy.example'" in result.stderr


@pytest.fixture
def throttle_on(settings):
    settings.AXES_ENABLED = True
    cache.clear()
    yield
    cache.clear()


def failed_log_in(client, **extra) -> None:
    response = client.post(reverse("login"), {"username": "officer", "password": "wrong-password-123"}, **extra)
    assert response.status_code == 200


def test_the_log_in_throttle_counts_the_peer_not_a_forged_forwarded_address(client, world, settings, throttle_on):
    settings.RIGHTSGUARD_TRUSTED_PROXIES = []
    failed_log_in(client, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [(CLIENT, 1)]


def test_the_log_in_throttle_counts_the_client_behind_a_trusted_proxy(client, world, settings, throttle_on):
    """Otherwise every failure behind the proxy would count against the proxy, and one guesser would lock out all."""
    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["10.0.0.0/24"]
    failed_log_in(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
    failed_log_in(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.51")
    attempts = set(AccessAttempt.objects.values_list("ip_address", "failures_since_start"))
    assert attempts == {(CLIENT, 1), ("203.0.113.51", 1)}
