"""A webhook receiver on loopback, started by a test: a real HTTP server in a thread that checks each delivery's
signature as a receiving system would, and answers as the test tells it (a status per request, a redirect, a body,
a slow trickle)."""

import hashlib
import hmac
import json
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# How old a signed timestamp a receiver accepts (replays of an old delivery are refused).
TOLERANCE_SECONDS = 300


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    answers: deque = field(default_factory=deque)  # statuses to answer, in turn; 200 once they run out
    requests: list[Received] = field(default_factory=list)
    redirect_to: str = ""
    body: bytes = b"ok"
    trickle_seconds: float = 0.0  # pause between the answer's bytes
    delay_seconds: float = 0.0  # pause before answering
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    def url(self, host: str = "127.0.0.1", path: str = "/hook", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """What a receiving system does: recompute the HMAC-SHA-256 over the timestamp, a dot and the raw body with
        the shared secret, compare in constant time, and refuse a stale timestamp."""
        timestamp = headers.get("X-RightsGuard-Timestamp", "")
        given = headers.get("X-RightsGuard-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given, f"sha256={expected}")


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` signed by its own key (PEM files): the receiver's, and the CA a sender trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{host}.pem", directory / f"{host}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def start(secret: str, tls: tuple[Path, Path] | None = None) -> Receiver:
    """A receiver on a free loopback port; ``tls``: its certificate and key files (https)."""
    receiver = Receiver(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = dict(self.headers.items())
            receiver.requests.append(Received(self.path, headers, body, receiver.verify(headers, body)))
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            if receiver.redirect_to:
                self.send_response(302)
                self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = receiver.answers.popleft() if receiver.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            try:
                if receiver.trickle_seconds:
                    for byte in receiver.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(receiver.trickle_seconds)
                else:
                    self.wfile.write(receiver.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender stopped reading: its limits at work

        def log_message(self, format: str, *args: Any) -> None:
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    threading.Thread(target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return receiver


def stop(receiver: Receiver) -> None:
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()
