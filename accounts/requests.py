"""The account behind a request, typed: pages, admin actions and the API run behind authentication."""

from typing import Any, Protocol

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
