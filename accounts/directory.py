"""Log-in against an LDAP directory (django-auth-ldap), through the ordinary log-in form after RightsGuard's own
accounts (``RIGHTSGUARD_LDAP_*`` settings).

The typed user name is looked up with the service account's bind (``RIGHTSGUARD_LDAP_USER_FILTER``, the name escaped
by django-auth-ldap before it goes into the filter), then the password is checked by binding as the entry found.
The entry's police number attribute picks the account (accounts/sso.py); its groups go through the group mapping.
An entry that is gone, or that the filter excludes (a disabled account), is not found: the log-in fails like a wrong
password. The directory never passes RightsGuard's second factor: the two-factor step follows as for any password.
"""

from typing import Any

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend
from django_auth_ldap.config import GroupOfNamesType, LDAPSearch, LDAPSettings

from accounts import sso
from accounts.models import SignOn, User

# django-auth-ldap reads overrides of its settings from Django settings with this prefix; none is ever set: the
# configuration is the one built from RIGHTSGUARD_LDAP_* below.
_NO_OVERRIDES = "RIGHTSGUARD_DJANGO_AUTH_LDAP_"


def directory_settings() -> dict[str, Any]:
    """django-auth-ldap's settings, from RIGHTSGUARD_LDAP_*."""
    timeout = settings.RIGHTSGUARD_LDAP_TIMEOUT
    options: dict[int, Any] = {
        # No call to the directory waits longer than this: connecting, and each operation.
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        ldap.OPT_REFERRALS: 0,
    }
    if settings.RIGHTSGUARD_LDAP_CA_FILE:
        options[ldap.OPT_X_TLS_CACERTFILE] = settings.RIGHTSGUARD_LDAP_CA_FILE
    if settings.RIGHTSGUARD_LDAP_URI.startswith("ldaps://") or settings.RIGHTSGUARD_LDAP_START_TLS:
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        # Last: a new TLS context picks up the options above.
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    attributes = [
        settings.RIGHTSGUARD_LDAP_ID_ATTRIBUTE,
        settings.RIGHTSGUARD_LDAP_NAME_ATTRIBUTE,
        settings.RIGHTSGUARD_LDAP_EMAIL_ATTRIBUTE,
    ]
    config: dict[str, Any] = {
        "SERVER_URI": settings.RIGHTSGUARD_LDAP_URI,
        "BIND_DN": settings.RIGHTSGUARD_LDAP_BIND_DN,
        "BIND_PASSWORD": settings.RIGHTSGUARD_LDAP_BIND_PASSWORD,
        "START_TLS": settings.RIGHTSGUARD_LDAP_START_TLS,
        "CONNECTION_OPTIONS": options,
        "USER_SEARCH": LDAPSearch(
            settings.RIGHTSGUARD_LDAP_USER_BASE,
            ldap.SCOPE_SUBTREE,
            settings.RIGHTSGUARD_LDAP_USER_FILTER,
            attrlist=attributes,
        ),
        "USER_ATTRLIST": attributes,
        # accounts/sso.py alone writes the account: django-auth-ldap copies no attribute and saves nothing.
        "USER_ATTR_MAP": {},
        "ALWAYS_UPDATE_USER": False,
        "CACHE_TIMEOUT": 0,
        "REQUIRE_GROUP": settings.RIGHTSGUARD_LDAP_REQUIRE_GROUP or None,
        "DENY_GROUP": settings.RIGHTSGUARD_LDAP_DENY_GROUP or None,
    }
    if settings.RIGHTSGUARD_LDAP_GROUP_BASE:
        config["GROUP_SEARCH"] = LDAPSearch(
            settings.RIGHTSGUARD_LDAP_GROUP_BASE, ldap.SCOPE_SUBTREE, settings.RIGHTSGUARD_LDAP_GROUP_FILTER
        )
        config["GROUP_TYPE"] = GroupOfNamesType()
    return config


def _first(attrs: Any, name: str) -> str:
    values = attrs.get(name) if attrs else None
    return str(values[0]).strip() if values else ""


class DirectoryBackend(LDAPBackend):
    _directory_settings: LDAPSettings | None = None

    @property
    def settings(self) -> LDAPSettings:
        # Read when a log-in needs it (one backend object per log-in), so the configuration is the current one.
        if self._directory_settings is None:
            self._directory_settings = LDAPSettings(_NO_OVERRIDES, directory_settings())
        return self._directory_settings

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        """The account of the directory entry that just proved its password (accounts/sso.py picks it by the police
        number, provisions it on a first log-in and applies the group mapping)."""
        attrs = ldap_user.attrs
        identity = sso.Identity(
            directory=SignOn.LDAP,
            police_number=_first(attrs, settings.RIGHTSGUARD_LDAP_ID_ATTRIBUTE),
            username=username,
            full_name=_first(attrs, settings.RIGHTSGUARD_LDAP_NAME_ATTRIBUTE),
            email=_first(attrs, settings.RIGHTSGUARD_LDAP_EMAIL_ATTRIBUTE),
            groups=frozenset(ldap_user.group_dns) if settings.RIGHTSGUARD_LDAP_GROUP_BASE else frozenset(),
        )
        try:
            return sso.sign_in(identity=identity), False
        except sso.SignOnRefused as refused:
            # django-auth-ldap answers this as a failed log-in (and the lockout counts it).
            raise ldap_user.AuthenticationFailed(str(refused)) from refused

    def get_user(self, user_id: int) -> User | None:
        # As Django's own backend: a deactivated account's session ends on its next request.
        user: User | None = super().get_user(user_id)
        return user if user is not None and user.is_active else None
