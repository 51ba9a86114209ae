"""Log-in through an OpenID Connect provider: the authorization code flow with state, nonce and PKCE (S256).

What the provider says about the user is read from its ID token alone, and only after the token passed every check:
its signature against the provider's published keys (JWKS) with an asymmetric algorithm we allow
(``RIGHTSGUARD_OIDC_SIGNING_ALGORITHMS``; never "none", never a shared secret), the issuer we are configured with
(the discovery document must name the same one), our client id among its audiences (and as ``azp`` if present),
its expiry and issue time, and the nonce this browser session sent. The query string of the callback, the user info
endpoint and anything else the browser could carry never decide who the user is or whether they passed a second
factor. The redirect URI is fixed by the settings, the code is exchanged with the session's PKCE verifier, and every
call to the provider has a timeout.
"""

import functools
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App, OAuthError
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from joserfc.errors import JoseError
from requests import RequestException

from accounts.models import SignOn
from accounts.sso import Identity

logger = logging.getLogger(__name__)

# Where the page asked for before the log-in waits in the session while the browser is at the provider.
NEXT_KEY = "rg_oidc_next"
# Seconds of clock difference tolerated on the token's times.
LEEWAY = 60


class SignOnFailed(Exception):
    """The provider did not vouch for anyone (refused, unreachable, or its answer failed a check); for the log."""


@dataclass(frozen=True)
class Verified:
    identity: Identity
    # Whether the verified ID token asserts a second factor (``amr``/``acr``, as configured).
    second_factor: bool


def enabled() -> bool:
    return bool(settings.RIGHTSGUARD_OIDC_ISSUER)


def provider_name() -> str:
    return str(settings.RIGHTSGUARD_OIDC_PROVIDER_NAME)


class _Provider(DjangoOAuth2App):
    """Authlib's client, held to the configured issuer and signature algorithms whatever the discovery says."""

    def load_server_metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = super().load_server_metadata()
        if metadata.get("issuer") != settings.RIGHTSGUARD_OIDC_ISSUER:
            raise OAuthError(description="the discovery document names another issuer")
        metadata["id_token_signing_alg_values_supported"] = _algorithms()
        return metadata


def _algorithms() -> list[str]:
    algorithms = [a for a in settings.RIGHTSGUARD_OIDC_SIGNING_ALGORITHMS if a[:2] in {"RS", "PS", "ES", "Ed"}]
    if not algorithms:
        raise ImproperlyConfigured("RIGHTSGUARD_OIDC_SIGNING_ALGORITHMS allows no asymmetric signature algorithm.")
    return algorithms


def _check_transport(issuer: str) -> None:
    """TLS to the provider, except on loopback (a provider on the same host, as in the tests)."""
    parts = urlsplit(issuer)
    if parts.scheme == "https":
        return
    try:
        loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = False
    if not (parts.scheme == "http" and loopback):
        raise ImproperlyConfigured("RIGHTSGUARD_OIDC_ISSUER must be an https:// address.")


@functools.lru_cache(maxsize=4)
def _provider(issuer: str, client_id: str, client_secret: str, scopes: str, timeout: int, ca_file: str) -> _Provider:
    """One client per configuration, keeping the provider's discovery document and keys between log-ins (keys are
    fetched again when a token names one not seen yet)."""
    _check_transport(issuer)
    scope = scopes.split()
    if "openid" not in scope:
        scope.insert(0, "openid")
    return _Provider(
        DjangoIntegration("rightsguard-oidc"),
        name="rightsguard-oidc",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(scope),
            "code_challenge_method": "S256",
            "default_timeout": timeout,
            "verify": ca_file or True,
        },
    )


def _client() -> _Provider:
    return _provider(
        settings.RIGHTSGUARD_OIDC_ISSUER,
        settings.RIGHTSGUARD_OIDC_CLIENT_ID,
        settings.RIGHTSGUARD_OIDC_CLIENT_SECRET,
        settings.RIGHTSGUARD_OIDC_SCOPES,
        settings.RIGHTSGUARD_OIDC_TIMEOUT,
        settings.RIGHTSGUARD_OIDC_CA_FILE,
    )


def begin(request: HttpRequest, *, next_url: str) -> HttpResponse:
    """Send the browser to the provider; the state, nonce and PKCE verifier stay in this session."""
    request.session[NEXT_KEY] = next_url
    try:
        response: HttpResponse = _client().authorize_redirect(request, settings.RIGHTSGUARD_OIDC_REDIRECT_URI)
    except (OAuthError, RequestException, ValueError) as error:
        raise SignOnFailed(f"could not reach the provider: {error}") from error
    return response


def finish(request: HttpRequest) -> Verified:
    """Check the provider's answer and the ID token it issues for it; raises SignOnFailed."""
    client = _client()
    issuer = settings.RIGHTSGUARD_OIDC_ISSUER
    try:
        token = client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "values": [client.client_id]},
            },
            leeway=LEEWAY,
        )
    except (OAuthError, JoseError, RequestException, ValueError, KeyError, TypeError) as error:
        raise SignOnFailed(f"{type(error).__name__}: {error}") from error
    claims = token.get("userinfo")
    # Authlib verifies an ID token only when one came back: without one nobody is vouched for.
    if not claims:
        raise SignOnFailed("the provider returned no ID token")
    number = claims.get(settings.RIGHTSGUARD_OIDC_ID_CLAIM)
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not number.strip():
        raise SignOnFailed(f"the ID token has no {settings.RIGHTSGUARD_OIDC_ID_CLAIM} claim")
    groups = claims.get(settings.RIGHTSGUARD_OIDC_GROUPS_CLAIM) or []
    identity = Identity(
        directory=SignOn.OIDC,
        police_number=number,
        username=_text(claims.get("preferred_username")),
        full_name=_text(claims.get("name")),
        # An address the provider has not verified could be anyone's: security notices go there.
        email=_text(claims.get("email")) if claims.get("email_verified") is True else "",
        groups=frozenset(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else frozenset(),
    )
    return Verified(identity=identity, second_factor=_asserts_second_factor(claims))


def _asserts_second_factor(claims: dict[str, Any]) -> bool:
    amr = claims.get("amr")
    methods = {m for m in amr if isinstance(m, str)} if isinstance(amr, list) else set()
    acr = claims.get("acr")
    return bool(methods & set(settings.RIGHTSGUARD_OIDC_MFA_AMR)) or (
        isinstance(acr, str) and acr in set(settings.RIGHTSGUARD_OIDC_MFA_ACR)
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def take_next(session: SessionBase) -> str:
    return str(session.pop(NEXT_KEY, "/"))
