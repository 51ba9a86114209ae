"""Sending a webhook without becoming a way into the intranet (SSRF).

A subscription's address is whatever an administrator typed, and the names in it resolve to whatever the DNS says
at the moment of sending. So:

- Only hosts of ``RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS`` are sent to: a host name listed exactly, a subdomain of a
  ``*.domain`` entry, or an address inside a listed address or CIDR range. Nothing is allowed by default.
- Every address the host resolves to must be public (``ipaddress``'s ``is_global``: not loopback, private,
  link-local, shared, reserved, multicast or unspecified; an IPv6 address carrying an IPv4 one, IPv4-mapped,
  -compatible or -translated, NAT64 or 6to4, is judged by the IPv4 one), unless an entry of the list names it (the
  address, or a range holding it): an intranet receiver at 10.20.3.4 is reached only because an administrator of the
  deployment wrote 10.20.0.0/16 into the setting, and a name that resolves to 127.0.0.1 is refused unless 127.0.0.1
  is written there. One address that fails refuses them all.
- The name is resolved once per attempt, checked, and the connection is made to the address checked (the Host header
  and TLS's server name and certificate check still use the name): a DNS answer changed between the check and the
  connection (rebinding) cannot redirect the request.
- Redirects are not followed (a 3xx is a failed attempt), the whole exchange must finish within
  ``RIGHTSGUARD_WEBHOOK_TIMEOUT_SECONDS`` (connect, send, answer: a receiver that trickles is cut off), and at most
  ``RIGHTSGUARD_WEBHOOK_MAX_RESPONSE_BYTES`` of the answer are read.

The address is checked when a subscription is saved (``check_url``, which resolves the name too) and again on every
attempt (``send``).
"""

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = {"http": 80, "https": 443}
SIGNATURE_HEADER = "X-RightsGuard-Signature"
TIMESTAMP_HEADER = "X-RightsGuard-Timestamp"
EVENT_HEADER = "X-RightsGuard-Event"
DELIVERY_HEADER = "X-RightsGuard-Delivery"
USER_AGENT = "RightsGuard-Webhooks/1"


class Refused(Exception):
    """The address may not be sent to; the message says why (for the administrator and the delivery log)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, without brackets
    port: int
    path: str  # with the query


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    suffixes: tuple[str, ...]  # ".example.gov" for "*.example.gov"
    networks: tuple[IPNetwork, ...]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most RIGHTSGUARD_WEBHOOK_MAX_RESPONSE_BYTES
    address: str  # the address connected to
    duration_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def allow_list() -> AllowList:
    return _parse(tuple(settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS))


@cache
def _parse(entries: tuple[str, ...]) -> AllowList:
    hosts: set[str] = set()
    suffixes: list[str] = []
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().lower().strip("[]")
        if not entry:
            continue
        if entry.startswith("*."):
            suffixes.append(entry[1:])
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if "/" in entry or ":" in entry:
                raise ImproperlyConfigured(
                    f"RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS holds {raw!r}: neither a host name nor an address or range."
                ) from None
            hosts.add(entry)
    return AllowList(frozenset(hosts), tuple(suffixes), tuple(networks))


def parse_url(url: str) -> Target:
    """The parts of a subscription's address, or ``Refused``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(_("This is not a valid address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused(_("Only http and https addresses can receive webhooks."))
    if parts.username or parts.password:
        raise Refused(_("The address may not hold a user name or password: the signature authenticates."))
    host = (parts.hostname or "").lower()
    if not host:
        raise Refused(_("The address has no host."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], path=path)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _listed(address: IPAddress, allowed: AllowList) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    candidates = [address, mapped] if mapped is not None else [address]
    return any(a.version == net.version and a in net for a in candidates for net in allowed.networks)


# IPv6 ranges that are not global although ``is_global`` (Python 3.11) says they are: the local-use NAT64 prefix
# (RFC 8215), which translates to the intranet's IPv4 addresses, and the deprecated site-local range (RFC 3879).
_NOT_GLOBAL_V6 = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("fec0::/10"))
# IPv6 forms whose last 32 bits are an IPv4 address they reach or are translated to: IPv4-compatible (RFC 4291, ::/96),
# IPv4-translated (SIIT, RFC 2765) and the well-known NAT64 prefix (RFC 6052).
_EMBEDDING_V6 = (
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("64:ff9b::/96"),
)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches (mapped, compatible, translated, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _EMBEDDING_V6):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress, allowed: AllowList | None = None) -> bool:
    """Public, or named by an entry of the allow-list (the address or a range holding it). An IPv6 address carrying
    an IPv4 one is judged by the IPv4 one: 64:ff9b::a9fe:a9fe reaches 169.254.169.254 through a NAT64 gateway."""
    allowed = allowed or allow_list()
    if _listed(address, allowed):
        return True
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_allowed(embedded, allowed)
    if any(address in net for net in _NOT_GLOBAL_V6 if address.version == net.version):
        return False
    return address.is_global and not address.is_multicast


def host_allowed(host: str, allowed: AllowList | None = None) -> bool:
    allowed = allowed or allow_list()
    literal = _literal(host)
    if literal is not None:
        return _listed(literal, allowed)
    return host in allowed.hosts or any(host.endswith(suffix) for suffix in allowed.suffixes)


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses the name resolves to now (the boundary the tests replace to play a DNS rebinding)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def checked_addresses(target: Target) -> list[IPAddress]:
    """The addresses to connect to, resolved once and each checked; ``Refused`` if the host or any address is not
    allowed."""
    allowed = allow_list()
    if not host_allowed(target.host, allowed):
        raise Refused(
            _("%(host)s is not among the hosts webhooks may be sent to (RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS).")
            % {"host": target.host}
        )
    literal = _literal(target.host)
    try:
        addresses = [literal] if literal is not None else resolve(target.host, target.port)
    except (OSError, UnicodeError):  # UnicodeError: a name whose ASCII form DNS cannot hold (a label too long)
        raise Refused(_("%(host)s does not resolve.") % {"host": target.host}) from None
    if not addresses:
        raise Refused(_("%(host)s does not resolve.") % {"host": target.host})
    for address in addresses:
        if not address_allowed(address, allowed):
            raise Refused(
                _(
                    "%(host)s resolves to %(address)s, a loopback, private, link-local or reserved address that "
                    "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS does not name."
                )
                % {"host": target.host, "address": address}
            )
    return addresses


def check_url(url: str) -> Target:
    """What a subscription's address must pass when it is saved: a valid http(s) address of an allowed host whose
    addresses are allowed now. ``Refused`` otherwise."""
    target = parse_url(url)
    checked_addresses(target)
    return target


# --- signing -----------------------------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the HMAC-SHA-256, under the subscription's secret, of the timestamp, a dot and the body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(*, secret: str, body: bytes, event: str, delivery: str, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


# --- sending ----------------------------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header names the host."""

    live_sock: socket.socket | None = None

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = self.live_sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address; TLS's server name and certificate check use the host name."""

    live_sock: socket.socket | None = None

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self.live_sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def send(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` under the rules above; ``Refused`` for an address not allowed, ``OSError`` (or an
    ``http.client`` error) for a receiver that could not be reached or answered wrongly in time."""
    target = parse_url(url)
    address = str(checked_addresses(target)[0])
    timeout = float(settings.RIGHTSGUARD_WEBHOOK_TIMEOUT_SECONDS)
    limit = int(settings.RIGHTSGUARD_WEBHOOK_MAX_RESPONSE_BYTES)
    connection: Any
    if target.scheme == "https":
        context = _tls_context()
        connection = _PinnedHTTPSConnection(target.host, target.port, address, timeout, context)
    else:
        connection = _PinnedHTTPConnection(target.host, target.port, address, timeout)
    started = time.monotonic()
    # The whole exchange within the timeout: each read also has it, but a receiver sending a byte at a time would
    # otherwise hold the worker for as long as it likes.
    deadline = threading.Timer(timeout, _cut_off, args=(connection,))
    deadline.daemon = True
    deadline.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        received = response.read(limit)
        status = response.status
    finally:
        deadline.cancel()
        connection.close()
    if time.monotonic() - started >= timeout:
        raise TimeoutError(_("The receiver did not answer within %(seconds)s seconds.") % {"seconds": timeout})
    return Answer(status=status, body=received, address=address, duration_ms=int((time.monotonic() - started) * 1000))


def _tls_context() -> ssl.SSLContext:
    """The system's certificate authorities, or the intranet's own (RIGHTSGUARD_WEBHOOK_CA_FILE). A file that cannot
    be read is the deployment's error, not the receiver's (``ImproperlyConfigured``: no attempt is counted)."""
    cafile = settings.RIGHTSGUARD_WEBHOOK_CA_FILE or None
    try:
        return ssl.create_default_context(cafile=cafile)
    except OSError as exc:  # ssl.SSLError too: a file that holds no certificate
        raise ImproperlyConfigured(f"RIGHTSGUARD_WEBHOOK_CA_FILE {cafile} cannot be loaded: {exc}") from exc


def _cut_off(connection: Any) -> None:
    # The socket as connected: once the answer says the connection closes after it, http.client hands the socket to
    # the answer and forgets it (``connection.sock`` is None), and the answer is still being read from it.
    sock = getattr(connection, "live_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # closed meanwhile: nothing left to cut
            sock.shutdown(socket.SHUT_RDWR)
