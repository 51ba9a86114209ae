"""API tokens for terminals: one per device, named, hashed at rest, short-lived and revoked with the account's
standing.

- A token is issued by ``POST /api/v1/auth/token/`` (password, plus the second factor where it is required); its
  key is shown once. Only its SHA-256 is stored: the key has 256 random bits, so a plain hash suffices and a
  copy of the database gives no usable key.
- It expires ``RIGHTSGUARD_TOKEN_IDLE_DAYS`` after its last use and ``RIGHTSGUARD_TOKEN_MAX_DAYS`` after it was
  issued, whichever comes first. Its last use is recorded at most once a minute, not on every request.
- It dies when the password changes, however it was changed (the change page, the admin site, ``manage.py
  changepassword``): it carries the user's session authentication hash from when it was issued, as Django's
  sessions do. It is deleted when the account is deactivated, when its two-factor log-in is reset, and when a
  membership of the user is granted, changed or revoked.
- A token issued without a second-factor check stops working as soon as the user must use two-factor log-in.
- Its user lists and revokes their own tokens (API and ``/accounts/tokens/``); administrators revoke them in the
  admin site.
"""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import mfa, scope
from accounts.models import ApiToken, User

logger = logging.getLogger(__name__)

KEY_BYTES = 32
# Recording the last use on every request would turn every API read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)
# Issuing one more evicts the least recently used: a script logging in in a loop cannot pile up rows.
MAX_TOKENS_PER_USER = 20


class TokenRefused(Exception):
    """The key does not authenticate anyone; ``code`` is the API's error code."""

    def __init__(self, message: str, code: str = "authentication_failed") -> None:
        super().__init__(message)
        self.code = code


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(user: User) -> str:
    return user.get_session_auth_hash()


def idle_limit() -> timedelta:
    return timedelta(days=settings.RIGHTSGUARD_TOKEN_IDLE_DAYS)


def lifetime() -> timedelta:
    return timedelta(days=settings.RIGHTSGUARD_TOKEN_MAX_DAYS)


def expires_at(token: ApiToken) -> datetime:
    """When the token stops working unless it is used before (the idle limit) — never later than its lifetime."""
    return min(token.created_at + lifetime(), token.last_used_at + idle_limit())


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    now = timezone.now()
    return ApiToken.objects.filter(
        user=user,
        password_fingerprint=password_fingerprint(user),
        created_at__gt=now - lifetime(),
        last_used_at__gt=now - idle_limit(),
    ).order_by("-created_at", "-pk")


def tokens_administered_by(user: User) -> QuerySet[ApiToken]:
    """Tokens an administrator may see and revoke in the admin site: of the accounts they administer
    (``accounts/scope.py``)."""
    return ApiToken.objects.filter(user__in=scope.administered_users(user).values("pk"))


@transaction.atomic
def issue_token(*, user: User, name: str, mfa_verified: bool) -> tuple[ApiToken, str]:
    """A new token for one of the user's devices, and its key (which is not stored and cannot be shown again)."""
    # Serialises issuing for the user, so the cap below holds under concurrent log-ins.
    User.objects.select_for_update().filter(pk=user.pk).first()
    live = tokens_of(user)
    ApiToken.objects.filter(user=user).exclude(pk__in=live.values("pk")).delete()
    surplus = list(live.order_by("-last_used_at", "-pk").values_list("pk", flat=True)[MAX_TOKENS_PER_USER - 1 :])
    ApiToken.objects.filter(pk__in=surplus).delete()
    key = secrets.token_urlsafe(KEY_BYTES)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:60] or "terminal",
        key_hash=hash_key(key),
        mfa_verified=mfa_verified,
        password_fingerprint=password_fingerprint(user),
        created_at=now,
        last_used_at=now,
    )
    return token, key


def authenticate(key: str) -> ApiToken:
    """The token the key belongs to, with its user, if it still works; raises ``TokenRefused`` otherwise."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None:
        raise TokenRefused(_("Invalid token."))
    user, now = token.user, timezone.now()
    if now >= expires_at(token) or token.password_fingerprint != password_fingerprint(user):
        # Dead for good: gone from the user's list, and no later change brings it back.
        token.delete()
        raise TokenRefused(_("Invalid token."))
    if not user.is_active:
        raise TokenRefused(_("Invalid token."))
    if not token.mfa_verified and mfa.mfa_required_for(user):
        raise TokenRefused(
            _(
                "This token was issued without a two-factor code, which this account now needs. "
                "Obtain a new token with your code."
            ),
            code="mfa_required",
        )
    if now - token.last_used_at >= TOUCH_INTERVAL:
        _touch(token, now)
    return token


def _touch(token: ApiToken, now: datetime) -> None:
    """Record the token's use: bookkeeping, so a database that refuses writes (read-only, full) does not refuse
    the request that uses it; the use is recorded by a later request."""
    try:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    except DatabaseError as error:
        logger.warning("The last use of API token %s was not recorded: %s", token.pk, error)
        return
    token.last_used_at = now


@transaction.atomic
def revoke_token(*, token: ApiToken) -> None:
    token.delete()


@transaction.atomic
def revoke_tokens(*, user: User) -> int:
    """Delete every API token of ``user``; returns how many."""
    deleted, _by_model = ApiToken.objects.filter(user=user).delete()
    return deleted
