"""Where a request comes from, as every address-based rule in the project reads it."""

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the peer Django sees (``REMOTE_ADDR``), never a header the client can write. Behind a
    trusted proxy rightsguard/proxies.py has already set it to the client the proxy forwarded."""
    return request.META.get("REMOTE_ADDR") or None
