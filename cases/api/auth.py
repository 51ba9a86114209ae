"""API tokens for terminals: obtained with username and password (plus the second factor where two-factor
log-in is required), one per device; listed and revoked by their user. Obtaining one is, with the health probes,
the only thing open to anonymous callers (.semgrep/rules.yml). The token policy is in accounts/tokens.py.
"""

from typing import Any

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from django_otp import match_token
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import mfa, tokens
from accounts.models import ApiToken
from accounts.requests import user_of
from accounts.selectors import actor_for
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
    # Obtain a new token (POST, with username and password) or revoke the one the request is sent with (DELETE).

    def get_authenticators(self) -> list[Any]:
        # Obtaining a token is how a terminal logs in: no session, hence no CSRF, on that request.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list[Any]:
        if getattr(self.request, "method", None) == "POST":
            return [AllowAny()]
        return super().get_permissions()  # type: ignore[return-value]

    @extend_schema(
        summary=gettext_lazy("Obtain an API token"),
        description=gettext_lazy(
            "A new token for one device each time: send it as 'Authorization: Token <token>'; its key is shown only "
            "in this answer. It ends after RIGHTSGUARD_TOKEN_IDLE_DAYS without use, RIGHTSGUARD_TOKEN_MAX_DAYS "
            "after it was issued, and when the password, the two-factor log-in or the account's roles change or the "
            "account is deactivated. Inactive accounts get no token; accounts that must use two-factor log-in also "
            "send otp_token. Repeated failures from one address lock it out for a while, for that username or "
            "altogether (429)."
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
        # An integration account never logs in with a password (accounts/integration.py): answered as a wrong one.
        if user is None or not user.is_active or actor_for(user).is_integration:
            raise InvalidCredentials()
        # A token must not be a way around two-factor log-in; a code that was sent must be right.
        code = data.get("otp_token", "").strip()
        verified = bool(code) and match_token(user, code) is not None
        if (code or mfa.mfa_required_for(user)) and not verified:
            raise SecondFactorRequired()
        token, key = tokens.issue_token(user=user, name=data.get("name", ""), mfa_verified=verified)
        return Response(s.TokenSerializer(token, context={"request": request, "key": key}).data)

    @extend_schema(
        summary=gettext_lazy("Revoke the token this request is sent with"),
        description=gettext_lazy(
            "Logs the terminal out. A browser session has no token: nothing is revoked. Other tokens of one's own "
            "are revoked with DELETE /api/v1/auth/tokens/{id}/."
        ),
        responses={204: None, **errors(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            tokens.revoke_token(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(ApiView):
    @extend_schema(
        summary=gettext_lazy("The caller's API tokens that still work"),
        description=gettext_lazy(
            "One per device, newest first, without their keys; 'current' marks the one this request is sent with. "
            "Obtaining a token when twenty work already revokes the one used least recently."
        ),
        responses=responses({200: s.ApiTokenSerializer(many=True)}, 401, 403),
    )
    def get(self, request: Request) -> Response:
        mine = tokens.tokens_of(user_of(request))
        return Response(s.ApiTokenSerializer(mine, many=True, context={"request": request}).data)


class TokenDetailView(ApiView):
    @extend_schema(
        summary=gettext_lazy("Revoke one of the caller's API tokens"),
        description=gettext_lazy("Another person's token is not found (404), and stays as it was."),
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(tokens.tokens_of(user_of(request)), pk=pk)
        tokens.revoke_token(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
