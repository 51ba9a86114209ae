"""Forwarded headers are believed only when a configured reverse proxy sent them.

Anyone can send ``X-Forwarded-Proto: https`` or ``X-Forwarded-For: 10.0.0.1``. Only a request whose peer address is
one of ``RIGHTSGUARD_TRUSTED_PROXIES`` keeps them; from anyone else they are removed before any other code runs, so
``request.is_secure()`` (SECURE_PROXY_SSL_HEADER) cannot be faked. Behind a trusted proxy the client is the
right-most ``X-Forwarded-For`` address that is not itself a trusted proxy, and it replaces ``REMOTE_ADDR`` (the
header itself is removed): the access log, the login lockout and every other reader of the peer address see the real
client. A request from a trusted proxy without a usable client address gets ``UNKNOWN_CLIENT``: a request the proxy
relays is never taken for the proxy's own (on loopback that would show /readyz's details to anyone), so a monitor
on the proxy's machine calling the application directly presents the monitoring token instead.
"""

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# The address a request relayed by a trusted proxy gets when the proxy names no usable client: from TEST-NET-1
# (RFC 5737), which no real host has, so the access log shows it for what it is, and it is never loopback.
UNKNOWN_CLIENT = "192.0.2.0"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# request.META keys of the headers a proxy sets to describe the original request.
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses and CIDR ranges; raises ValueError on anything else."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(entries)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(getattr(settings, "RIGHTSGUARD_TRUSTED_PROXIES", ())))


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (``203.0.113.7``, ``2001:db8::1``, ``[2001:db8::1]:443``, ``1.2.3.4:80``)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted_proxy(address: IPAddress | None, networks: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(header: str, networks: tuple[IPNetwork, ...]) -> IPAddress | None:
    """The right-most address of an ``X-Forwarded-For`` chain that is not a trusted proxy.

    Each proxy appends the address it received the request from, so only the right-hand part written by trusted
    proxies is reliable; everything left of the first untrusted address is whatever the client claimed. When every
    address is a trusted proxy, the left-most one is the client. None when the chain holds no usable address.
    """
    client = None
    for part in reversed(header.split(",")):
        address = parse_address(part)
        if address is None:
            break  # a malformed entry: nothing left of it can be relied on
        client = address
        if not is_trusted_proxy(address, networks):
            break
    return client


class TrustedProxyMiddleware:
    """First in MIDDLEWARE: removes forwarded headers from untrusted peers, applies them from trusted proxies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        networks = trusted_networks()
        peer = parse_address(request.META.get("REMOTE_ADDR", ""))
        if not is_trusted_proxy(peer, networks):
            for key in FORWARDED_HEADERS:
                request.META.pop(key, None)
        else:
            # Consumed here: REMOTE_ADDR is the answer, and nothing else (a throttle reading the raw chain, say) can
            # pick the client-written part of it.
            client = forwarded_client(request.META.pop("HTTP_X_FORWARDED_FOR", ""), networks)
            # A trusted proxy that names no usable client (the header dropped on the way, or "unknown") relays
            # someone unknown: never the proxy's own address, which may be loopback (health details) and is every
            # such client's lockout bucket alike.
            request.META["REMOTE_ADDR"] = UNKNOWN_CLIENT if client is None else str(client)
        return self.get_response(request)
