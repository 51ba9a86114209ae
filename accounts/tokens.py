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

What a successful check read (the token, its user without the password, the user's grants) is kept for
``RIGHTSGUARD_TOKEN_CACHE_SECONDS`` in the ``auth`` cache, which every web process shares (Redis; without Redis
nothing is kept), so that most requests do not read them again. The cache only ever says yes: whatever it holds that
would refuse the key (expired, the second factor now required) is checked again in the database, which alone refuses
and deletes. Everything that would end a token ends its cache entry at once, in every process: deleting it (revoked,
expired, evicted, with its user), a new password (``User.set_password``), and any change of the user's standing or
details through ``accounts/services.py`` (roles, activation, privileges, details). An ended entry is replaced by a
marker for the cache's lifetime, and a check that read the database before the change cannot put its old answer
back over the marker (entries are only ever *added*), so a change committed within that lifetime is never undone by
a request that was running meanwhile.
"""

import functools
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import mfa, scope
from accounts.authority import Actor, Grant
from accounts.models import ApiToken, User
from accounts.selectors import actor_for

logger = logging.getLogger(__name__)

KEY_BYTES = 32
# Recording the last use on every request would turn every API read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)
# Issuing one more evicts the least recently used: a script logging in in a loop cannot pile up rows.
MAX_TOKENS_PER_USER = 20
# The cache shared by every web process (settings.CACHES): a revocation must reach them all.
CACHE = "auth"
# What an ended entry is replaced by: nothing can be added over it until it expires.
ENDED = "ended"
# Kept in the cache with the token: never the user's password hash, nor the token's password fingerprint.
_USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")
_TOKEN_FIELDS = tuple(f.attname for f in ApiToken._meta.concrete_fields if f.attname != "password_fingerprint")


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
    _delete(ApiToken.objects.filter(user=user).exclude(pk__in=live.values("pk")))
    surplus = list(live.order_by("-last_used_at", "-pk").values_list("pk", flat=True)[MAX_TOKENS_PER_USER - 1 :])
    _delete(ApiToken.objects.filter(pk__in=surplus))
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


@dataclass(frozen=True)
class Authenticated:
    """A key that works: its token (with ``user``) and the user's grants as they were read with it."""

    token: ApiToken
    actor: Actor


def authenticate(key: str) -> Authenticated:
    """The token the key belongs to, with its user and their grants, if it still works; raises ``TokenRefused``
    otherwise."""
    key_hash, now = hash_key(key), timezone.now()
    kept = _cached(key_hash)
    if kept is not None:
        found = kept.accepted(now)
        if found is not None:
            if now - found.token.last_used_at >= TOUCH_INTERVAL and _cache_add(
                _touch_key(key_hash), 1, TOUCH_INTERVAL.total_seconds()
            ):
                _touch(found.token, now)
            return found
    found = _authenticate_in_database(key_hash, now)
    _remember(found)
    return found


def _authenticate_in_database(key_hash: str, now: datetime) -> Authenticated:
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    if token is None:
        raise TokenRefused(_("Invalid token."))
    user = token.user
    if now >= expires_at(token) or token.password_fingerprint != password_fingerprint(user):
        # Dead for good: gone from the user's list, and no later change brings it back.
        _delete(ApiToken.objects.filter(pk=token.pk))
        raise TokenRefused(_("Invalid token."))
    if not user.is_active:
        raise TokenRefused(_("Invalid token."))
    actor = actor_for(user)
    if not token.mfa_verified and mfa.mfa_required_for(user, actor):
        raise TokenRefused(
            _(
                "This token was issued without a two-factor code, which this account now needs. "
                "Obtain a new token with your code."
            ),
            code="mfa_required",
        )
    if now - token.last_used_at >= TOUCH_INTERVAL:
        _touch(token, now)
    return Authenticated(token=token, actor=actor)


# --- the cache of checked tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kept:
    """What a successful check read, as kept in the cache: plain values, rebuilt into model instances on use."""

    token: tuple[Any, ...]
    user: tuple[Any, ...]
    grants: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, found: Authenticated) -> "_Kept":
        token, user = found.token, found.token.user
        return cls(
            token=tuple(getattr(token, name) for name in _TOKEN_FIELDS),
            user=tuple(getattr(user, name) for name in _USER_FIELDS),
            grants=tuple((grant.role, grant.path) for grant in found.actor.grants),
        )

    def accepted(self, now: datetime) -> Authenticated | None:
        """The token, if what was read says it still works now; ``None`` sends the check to the database (only the
        database refuses: the token may have been used since, or the settings changed)."""
        user = User.from_db("default", _USER_FIELDS, self.user)
        token = ApiToken.from_db("default", _TOKEN_FIELDS, self.token)
        token.user = user
        actor = Actor(user_id=user.pk, is_active=user.is_active, grants=tuple(Grant(*g) for g in self.grants))
        if now >= expires_at(token) or not user.is_active:
            return None
        if not token.mfa_verified and mfa.mfa_required_for(user, actor):
            return None
        return Authenticated(token=token, actor=actor)


def cache_seconds() -> int:
    return settings.RIGHTSGUARD_TOKEN_CACHE_SECONDS


@functools.cache
def _namespace(secret_key: str) -> str:
    # A new SECRET_KEY changes every password fingerprint, which ends every token: it starts a new namespace too.
    return hashlib.sha256(b"rightsguard api token cache v1:" + secret_key.encode()).hexdigest()[:16]


def _key(key_hash: str) -> str:
    return f"apitoken:{_namespace(settings.SECRET_KEY)}:{key_hash}"


def _touch_key(key_hash: str) -> str:
    return f"{_key(key_hash)}:touched"


def _cache() -> BaseCache:
    return caches[CACHE]


def _cache_get(key: str) -> Any:
    """A cache read; an unreachable cache is a miss (the database answers), never an error."""
    if cache_seconds() <= 0:
        return None
    try:
        return _cache().get(key)
    except Exception as error:  # any back end's connection error
        logger.warning("The API token cache could not be read: %s", error)
        return None


def _cache_add(key: str, value: Any, seconds: float | None = None) -> bool:
    """Add ``key`` unless it is there already (then, or when the cache is unreachable, ``False``)."""
    if cache_seconds() <= 0:
        return False
    try:
        return bool(_cache().add(key, value, timeout=cache_seconds() if seconds is None else seconds))
    except Exception as error:  # any back end's connection error
        logger.warning("The API token cache could not be written: %s", error)
        return False


def _cached(key_hash: str) -> _Kept | None:
    kept = _cache_get(_key(key_hash))
    return kept if isinstance(kept, _Kept) else None


def _remember(found: Authenticated) -> None:
    # Added, never set: an entry ended meanwhile (by a change committed after this request read the database) stays
    # ended.
    _cache_add(_key(found.token.key_hash), _Kept.of(found))


def forget(key_hashes: Iterable[str]) -> None:
    """End the cache entries of these tokens in every process, now and again when the transaction commits."""
    ended = {_key(key_hash): ENDED for key_hash in key_hashes}
    if not ended or cache_seconds() <= 0:
        return

    def end() -> None:
        try:
            _cache().set_many(ended, timeout=cache_seconds())
        except Exception as error:  # any back end's connection error
            logger.error("The API token cache could not be told that %d tokens ended: %s", len(ended), error)

    end()
    transaction.on_commit(end)


def forget_user(user: User) -> None:
    """End the cache entries of every token of ``user``: their user or grants changed."""
    if user.pk is not None:
        forget(ApiToken.objects.filter(user_id=user.pk).values_list("key_hash", flat=True))


def _delete(tokens: QuerySet[ApiToken]) -> int:
    forget(tokens.values_list("key_hash", flat=True))
    deleted, _by_model = tokens.delete()
    return deleted


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
    _delete(ApiToken.objects.filter(pk=token.pk))


@transaction.atomic
def revoke_tokens(*, user: User) -> int:
    """Delete every API token of ``user``; returns how many."""
    # Serialises with issuing (which locks the same row): a token issued meanwhile is either listed here or not yet
    # there to be used.
    User.objects.select_for_update().filter(pk=user.pk).first()
    return _delete(ApiToken.objects.filter(user=user))
