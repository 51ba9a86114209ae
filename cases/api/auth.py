"""API tokens for terminals: obtained with username and password (plus the second factor where two-factor
log-in is required), revoked by the caller. This and the health probes are the only endpoints open to anonymous
callers (.semgrep/rules.yml).
"""

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy
from django_otp import match_token
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import mfa
from cases.api import serializers as s
from cases.api.schema import errors, responses
from cases.api.views import ApiView, validated


class InvalidCredentials(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("Unable to log in with the given username and password.")
    default_code = "invalid_credentials"


class SecondFactorRequired(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy(
        "This account needs its two-factor code (otp_token): from the authenticator app, or a recovery code. "
        "Set up two-factor log-in in the browser first if you have not."
    )
    default_code = "otp_required"


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = gettext_lazy("Too many failed log-ins. Try again later.")
    default_code = "locked_out"


class TokenView(ApiView):
    # Obtain (POST, with username and password) or revoke (DELETE) the caller's API token.

    def get_authenticators(self) -> list[Any]:
        # Obtaining a token is how a terminal logs in: no session, hence no CSRF, on that request.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list[Any]:
        if getattr(self.request, "method", None) == "POST":
            return [AllowAny()]
        return super().get_permissions()

    @extend_schema(
        summary=gettext_lazy("Obtain an API token"),
        description=gettext_lazy(
            "Send it as 'Authorization: Token <token>'. Inactive accounts get no token; accounts that must use "
            "two-factor log-in also send otp_token. Repeated failures from one address lock it out for a while, for "
            "that username or altogether (429)."
        ),
        request=s.CredentialsSerializer,
        responses=responses({200: s.TokenSerializer}, 400, 429),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = validated(s.CredentialsSerializer, request)
        # The DRF request (not the Django one) goes to authenticate(): the lockout check marks *it*, so this view
        # answers a lockout in the API's format instead of the login page's HTML.
        user = authenticate(request, username=data["username"], password=data["password"])
        if getattr(request, "axes_locked_out", False):
            raise LockedOut()
        if user is None or not user.is_active:
            raise InvalidCredentials()
        # A token must not be a way around two-factor log-in.
        if mfa.mfa_required_for(user) and match_token(user, data.get("otp_token", "")) is None:
            raise SecondFactorRequired()
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(summary=gettext_lazy("Revoke the caller's API token"), responses={204: None, **errors(401, 403)})
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
