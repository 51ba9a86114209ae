"""Session lifetime: besides the idle timeout, every session ends a fixed time after login."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

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
