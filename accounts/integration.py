"""Integration accounts: another system of the intranet (the 110 command centre's dispatch system) calling the
endpoints made for it, never a person.

- An integration account holds memberships of the role ``integration`` only (one per subtree it serves), and a
  person's account holds none: ``accounts.services`` refuses a grant that would mix them, and one for an account
  with a password. It cannot log in in the browser nor obtain a token with a password; its tokens are issued by
  ``manage.py issue_integration_token`` and follow the token policy of ``accounts/tokens.py`` (idle and absolute
  expiry, revocation with any change of the account's standing).
- Its token is refused (403) by every API endpoint but those made for it, which say so by their permission
  (``IntegrationAccounts``); every other endpoint has the default permission, ``PeopleOnly``.
- A browser session of one, were one ever made (``force_login``, a password set in the shell), is refused on every
  page (``IntegrationSessionRefused``): the grants give it nothing to read anyway, this makes it certain.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from accounts.authority import Actor
from accounts.selectors import actor_for


def _actor(request: Any) -> Actor:
    actor = getattr(request, "actor", None)
    return actor if actor is not None else actor_for(request.user)


def is_integration_request(request: Any) -> bool:
    """Whether the request's authenticated account is an integration account."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and _actor(request).is_integration)


class PeopleOnly(IsAuthenticated):
    """The API's default permission: an authenticated person. An integration account is refused (403) here: it calls
    only the endpoints made for it."""

    message = gettext_lazy("An integration account may only call the endpoints made for it.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and not is_integration_request(request)


class IntegrationAccounts(IsAuthenticated):
    """The endpoints made for other systems: an authenticated integration account only (403 for a person)."""

    message = gettext_lazy("Only an integration account may call this endpoint.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and is_integration_request(request)


class IntegrationSessionRefused:
    """A browser session of an integration account gets 403 on every page and every API call: another system has no
    business in the browser, whatever it is let to do through its token."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_integration_request(request):
            return JsonResponse(
                {"code": "permission_denied", "detail": _("An integration account cannot use the browser.")},
                status=403,
            )
        return self.get_response(request)
