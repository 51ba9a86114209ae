"""Where a request comes from, as every address-based rule in the project reads it."""

import ipaddress

from django.http import HttpRequest

# An IPv6 customer is given a whole /64 (often more): its machines pick any address in it, so the log-in lockout
# counts the /64 as one address.
IPV6_THROTTLE_PREFIX = 64
_HOST_BITS = (1 << (128 - IPV6_THROTTLE_PREFIX)) - 1


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the peer Django sees (``REMOTE_ADDR``), never a header the client can write. Behind a
    trusted proxy rightsguard/proxies.py has already set it to the client the proxy forwarded."""
    return request.META.get("REMOTE_ADDR") or None


def throttle_address(request: HttpRequest) -> str | None:
    """The address the log-in lockout counts (django-axes' ``ip_address``): an IPv4 address as it is, an IPv6
    address as the first address of its /64, an IPv4-mapped IPv6 address as the IPv4 address.

    Only the lockout's records (the axes attempts and logs) hold this; the access log records the full address.
    """
    text = client_address(request)
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Address(int(address) & ~_HOST_BITS))
    return str(address)
