"""``Authorization: Token <key>`` for terminals, checked by the token policy of ``accounts/tokens.py``."""

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts import tokens


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        try:
            token = tokens.authenticate(key)
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused), code=refused.code) from None
        return token.user, token
