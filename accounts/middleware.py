"""Session lifetime: besides the idle timeout, every session ends a fixed time after login."""

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext

from accounts import mfa
from accounts.authority import Actor
from accounts.selectors import actor_for

LOGIN_AT = "rg_login_at"


class RequestActor(LazyObject):
    """``request.actor``: the grants of the request's user, read on first use and then kept for that user.

    The user is the one the request has when the actor is used, not when the middleware ran: the API authenticates
    a token later, and then puts the token's user on the underlying request (which a DRF request reads
    ``actor`` from). An actor read for one user is never handed out for another: one read before the API
    authenticated (anonymous, no grants) is read again for the authenticated user, as is one read before a log-in.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.__dict__["_request"] = request
        super().__init__()

    @property
    def _wrapped(self) -> Actor | object:
        # What every proxied access reads first: ``empty`` makes LazyObject call _setup() for the current user.
        kept = self.__dict__
        return kept["_actor"] if kept.get("_user") is kept["_request"].user else empty

    def _setup(self) -> None:
        user = self.__dict__["_request"].user
        self.__dict__.update(_user=user, _actor=actor_for(user))


def use_actor(request: HttpRequest, *, user: Any, actor: Actor) -> None:
    """Give ``request.actor`` the grants of ``user`` read elsewhere (with an API token), kept only while ``user`` is
    the request's user."""
    held = getattr(request, "actor", None)
    if isinstance(held, RequestActor):
        held.__dict__.update(_user=user, _actor=actor)


class ActorMiddleware:
    """Gives every request its ``request.actor`` (one membership query, only when something asks)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = RequestActor(request)  # type: ignore[attr-defined]
        return self.get_response(request)


# When the session's idle expiry was last pushed forward (a POSIX timestamp, in the session).
SEEN_AT = "rg_seen_at"
# Pushing it forward writes the session row and sends its cookie again: once a minute keeps the idle timeout to within
# a minute without a write on every request.
IDLE_REFRESH_SECONDS = 60


class IdleExpiryMiddleware:
    """The idle timeout: a session ends ``SESSION_COOKIE_AGE`` after its last request, to within a minute.

    Instead of saving every session on every request (``SESSION_SAVE_EVERY_REQUEST``), a request saves it when the
    expiry was last pushed forward a minute ago or more, or when it changed the session anyway. Goes right after
    ``SessionMiddleware``, so that it sees the session as every other part of the request left it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # No session cookie and nothing stored: nothing to keep alive (and nothing is read to find that out).
        if session is None or session.is_empty():
            return response
        now = timezone.now().timestamp()
        if session.modified:
            session[SEEN_AT] = now  # saved anyway
            return response
        seen = session.get(SEEN_AT)
        # A cookie naming no live session has loaded as empty: it is not made into one.
        if not session.is_empty() and (seen is None or now - seen >= IDLE_REFRESH_SECONDS):
            session[SEEN_AT] = now
        return response


class AbsoluteSessionLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = timezone.now().timestamp()
            started = request.session.get(LOGIN_AT)
            if started is None:
                request.session[LOGIN_AT] = now
            elif now - started > settings.RIGHTSGUARD_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(f"{settings.LOGIN_URL}?next={request.path}")
        return self.get_response(request)


# Reachable before the second factor: the factor's own pages, leaving, and what every page needs.
MFA_EXEMPT_PREFIXES = ("/accounts/mfa/", "/accounts/logout/", "/static/", "/healthz", "/readyz", "/i18n/")


class RequireMFAMiddleware:
    """Whoever ``mfa.mfa_required_for`` names (supervisors, administrators, staff, superusers) must complete
    two-factor log-in before anything else (when required).

    Browser pages redirect to the verification (or enrolment) page; API calls on a session get a 403.
    Requires django_otp's OTPMiddleware before it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and not mfa.log_in_step_passed(request, user)
            and mfa.mfa_required_for(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "mfa_required", "detail": gettext("Complete two-factor log-in first.")}, status=403
                )
            target = "/accounts/mfa/" if mfa.has_confirmed_device(user) else "/accounts/mfa/setup/"
            return redirect(f"{target}?next={request.get_full_path()}")
        return self.get_response(request)


class RequestIdMiddleware:
    """A random id per request, echoed in ``X-Request-ID`` and written to the access log, to tie records together."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response
