"""A small OpenID Connect provider on loopback for the single sign-on tests: discovery, JWKS, an authorization
endpoint that approves the user "signed in" at the provider (no page), and a token endpoint that checks the client's
secret, the redirect URI and the PKCE verifier and issues an RS256 ID token.

It is a real HTTP server: RightsGuard reaches it over the network as it would a real provider, and the tests play
the browser (they follow the redirects). ``tamper`` makes the token endpoint answer as a forged or broken provider
would, to prove that only a verified ID token is believed.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

KEY_ID = "provider-key-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class ProviderUser:
    police_number: str
    name: str = ""
    preferred_username: str = ""
    groups: list[str] = field(default_factory=list)
    amr: list[str] = field(default_factory=lambda: ["pwd"])
    acr: str = ""
    email: str = ""
    # Disabled at the provider: it refuses to authenticate them (error=access_denied back to the client).
    disabled: bool = False


class Provider:
    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        # Same key id, never published: a token it signs is a forgery.
        self.forger = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        self.users: dict[str, ProviderUser] = {}
        self.signed_in: str | None = None
        self.tamper = ""
        self.discovery_issuer: str | None = None
        self.codes: dict[str, dict[str, Any]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "Provider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.users.clear()
        self.signed_in = None
        self.tamper = ""
        self.discovery_issuer = None
        self.codes.clear()
        self.authorize_requests.clear()

    # --- endpoints -------------------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            # A broken provider might announce anything: RightsGuard keeps to its own list.
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != self.redirect_uri:
            return 400, {}, b"unknown client or redirect URI"
        state = query.get("state", "")
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 302, {"Location": self._back(error="invalid_request", state=state)}, b""
        user = self.users.get(self.signed_in or "")
        if user is None or user.disabled:
            return 302, {"Location": self._back(error="access_denied", state=state)}, b""
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "login": self.signed_in,
            "nonce": query.get("nonce"),
            "challenge": query.get("code_challenge"),
            "redirect_uri": query["redirect_uri"],
        }
        return 302, {"Location": self._back(code=code, state=state)}, b""

    def token(self, headers: Any, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        if not verifier or _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        answer: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if self.tamper != "no_id_token":
            answer["id_token"] = self.id_token(self.users[grant["login"]], login=grant["login"], nonce=grant["nonce"])
        return 200, answer

    def id_token(self, user: ProviderUser, *, login: str, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": login,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "police_number": user.police_number,
            "name": user.name,
            "preferred_username": user.preferred_username or login,
            "groups": user.groups,
            "amr": user.amr,
        }
        if user.acr:
            claims["acr"] = user.acr
        if user.email:
            claims |= {"email": user.email, "email_verified": True}
        header = {"alg": "RS256", "kid": KEY_ID}
        match self.tamper:
            case "wrong_audience":
                # Another client's token, naming us as the authorised party: still not meant for us.
                claims |= {"aud": ["another-client"], "azp": self.client_id}
            case "wrong_issuer":
                claims["iss"] = "http://127.0.0.1:1"
            case "expired":
                claims |= {"iat": now - 7200, "exp": now - 3600}
            case "wrong_nonce":
                claims["nonce"] = "a-nonce-from-another-log-in"
            case "no_nonce":
                claims.pop("nonce")
            case "unsigned":
                return ".".join([_b64(json.dumps({"alg": "none"}).encode()), _b64(json.dumps(claims).encode()), ""])
            case "foreign_key":
                return jwt.encode(header, claims, self.forger)
            case "shared_secret":
                return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(self.client_secret.encode()))
        return jwt.encode(header, claims, self.key)

    def _back(self, **params: str) -> str:
        return f"{self.redirect_uri}?{urlencode(params)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data: Any) -> None:
                self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider.discovery())
                elif url.path == "/jwks":
                    self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    status, headers, body = provider.authorize(query)
                    self._send(status, body, headers)
                else:
                    self._send(404, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path == "/token":
                    status, data = provider.token(self.headers, form)
                    self._json(status, data)
                else:
                    self._send(404, b"")

        return Handler
