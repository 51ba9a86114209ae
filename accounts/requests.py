"""The account behind a request, typed: pages, admin actions and the API run behind authentication."""

from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import PermissionDenied

from accounts.models import User


class _Request(Protocol):
    """A Django ``HttpRequest`` or a REST framework ``Request``: anything with the authenticated ``user``."""

    @property
    def user(self) -> Any: ...


def user_of(request: _Request) -> User:
    """The signed-in account making the request; a request without one is refused (403), never served."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


if TYPE_CHECKING:
    from django.http import HttpRequest
    from django_htmx.middleware import HtmxDetails
    from rest_framework.request import Request

    from accounts.authority import Actor

    class AuthenticatedRequest(HttpRequest):
        """A page request past the log-in and actor middleware (for annotations only)."""

        user: User
        actor: Actor
        htmx: HtmxDetails

    class ApiRequest(Request):
        """An API request past authentication (for annotations only)."""

        actor: Actor
        user: User  # authentication has run

else:
    from django.http import HttpRequest as AuthenticatedRequest
    from rest_framework.request import Request as ApiRequest

__all__ = ["ApiRequest", "AuthenticatedRequest", "user_of"]
