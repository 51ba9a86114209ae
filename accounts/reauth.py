"""Re-authentication: before revealing masked data or exporting reports, the user re-enters their password (and,
when their account has an authenticator, a current code) unless they did so within ``RIGHTSGUARD_REAUTH_SECONDS``.

The time of the last re-authentication is kept in the session (``REAUTH_AT``); logging in does not count. This
applies to browser sessions, on the pages and when they call the API; API token clients are terminals and follow
the terminal rule of cases/sensitive.py.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

REAUTH_AT = "rg_reauth_at"

View = Callable[..., HttpResponse]


def recently_reauthenticated(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_AT)
    if not isinstance(at, int | float):
        return False
    age = timezone.now().timestamp() - at
    return 0 <= age <= settings.RIGHTSGUARD_REAUTH_SECONDS


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[REAUTH_AT] = timezone.now().timestamp()


def reauth_url(next_url: str) -> str:
    return f"{reverse('reauth')}?{urlencode({'next': next_url})}"


def reauth_redirect(request: HttpRequest, next_url: str) -> HttpResponse:
    """To the re-authentication page, then back to ``next_url``; htmx requests get a full-page redirect."""
    target = reauth_url(next_url)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(target)
    return redirect(target)


def reauth_needed(request: HttpRequest, next_url: str) -> HttpResponse | None:
    """For views that decide who may act first: None when the user re-authenticated recently, else the redirect
    to answer with."""
    return None if recently_reauthenticated(request) else reauth_redirect(request, next_url)


def require_recent_reauth(back: Callable[..., str] | None = None) -> Callable[[View], View]:
    """Send the user to re-authenticate first unless they did so recently.

    After re-authenticating the user returns to ``back(request, *args, **kwargs)`` when given, else (GET) to the
    URL they asked for. A form's POST cannot be replayed by a redirect: they return to the page with the form and
    submit it again.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if recently_reauthenticated(request):
                return view(request, *args, **kwargs)
            if back is not None:
                next_url = back(request, *args, **kwargs)
            elif request.method in ("GET", "HEAD"):
                next_url = request.get_full_path()
            else:
                next_url = settings.LOGIN_REDIRECT_URL
            return reauth_redirect(request, next_url)

        return wrapped

    return decorate
