"""Session lifetime: besides the idle timeout, every session ends a fixed time after login."""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext

from accounts import mfa

LOGIN_AT = "rg_login_at"


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
            and not user.is_verified()
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
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
