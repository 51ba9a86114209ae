"""A webhook receiver on loopback, started by a test: a real HTTP server in a thread that checks each delivery's
signature as a receiving system would, and answers as the test tells it (a status per request, a redirect, a body,
a slow trickle)."""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """What a receiving system does: recompute the HMAC-SHA-256 over the timestamp, a dot and the raw body with
        the shared secret, compare in constant time, and refuse a stale timestamp."""
        timestamp = headers.get("X-RightsGuard-Timestamp", "")
        given = headers.get("X-RightsGuard-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given, f"sha256={expected}")


def start(secret: str) -> Receiver:
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
    threading.Thread(target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return receiver


def stop(receiver: Receiver) -> None:
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()
