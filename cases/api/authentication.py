"""``Authorization: Token <key>`` for terminals, checked by the token policy of ``accounts/tokens.py``."""

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from accounts import tokens
from accounts.authority import Actor
from accounts.middleware import use_actor
from rightsguard import logs


class ApiTokenAuthentication(TokenAuthentication):
    # One instance per request (DRF makes the authenticators for each), so the actor read with the token is this
    # request's.
    actor: Actor | None = None

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is not None:
            logs.user_id.set(found[0].pk)  # cleared when the request finishes (``logs.clear``)
        if found is not None and self.actor is not None:
            # The grants were read (or taken from the cache) with the token: the request's actor need not read them.
            use_actor(request._request, user=found[0], actor=self.actor)
        return found

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        try:
            found = tokens.authenticate(key)
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused), code=refused.code) from None
        self.actor = found.actor
        return found.token.user, found.token
