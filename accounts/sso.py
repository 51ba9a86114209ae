"""Log-in through a directory (an OpenID Connect provider, accounts/oidc.py; LDAP, accounts/directory.py): which
account the directory's user is, and what the directory's groups grant.

Policy:

* The account is found by the police number the directory asserts (``User.badge_number``), never by a name, a
  user name or an e-mail address: a directory user called like a RightsGuard account is not that account. Two
  accounts with the same police number are ambiguous: neither logs in through a directory.
* A first log-in provisions an account with that police number, no password (it logs in only through the
  directory) and only the memberships the group mapping grants. Its name and e-mail address are taken then;
  afterwards they are RightsGuard's to change.
* A deactivated account stays refused whatever the directory says, and so does another system's account.
* Roles and units are RightsGuard's memberships. A directory group grants one only through an administrator's
  ``DirectoryGroupMapping`` whose role is in ``RIGHTSGUARD_SSO_GRANTABLE_ROLES``. Each log-in adds the mapped
  memberships the account lacks and removes those the directory granted before and no longer does; memberships
  granted in RightsGuard are never touched. Every change is an ``AccountAudit`` row (the system's, naming the
  directory and its groups).
"""

import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction

from accounts import services
from accounts.models import DIRECTORY_ROLES, DirectoryGroupMapping, Membership, OrgUnit, Role, User

logger = logging.getLogger(__name__)


class SignOnRefused(Exception):
    """The directory vouched for someone who may not log in here; the message says why (for the log only)."""


@dataclass(frozen=True)
class Identity:
    """What a directory asserted about the user, after it verified them."""

    directory: str  # SignOn
    police_number: str
    username: str = ""  # the directory's log-in name: only a suggestion for a new account's user name
    full_name: str = ""
    email: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)


@transaction.atomic
def sign_in(*, identity: Identity) -> User:
    """The account ``identity`` logs in as (provisioned on a first log-in), its memberships brought in line with the
    group mapping. Raises SignOnRefused, changing nothing."""
    number = identity.police_number.strip()
    if not number or len(number) > User._meta.get_field("badge_number").max_length:  # type: ignore[operator]
        raise SignOnRefused(f"{identity.directory}: no usable police number")
    _serialise_first_log_ins(number)
    accounts = list(User.objects.select_for_update().filter(badge_number=number)[:2])
    if len(accounts) > 1:
        raise SignOnRefused(f"{identity.directory}: police number {number} belongs to more than one account")
    user = accounts[0] if accounts else _provision(identity, number)
    if not user.is_active:
        raise SignOnRefused(f"{identity.directory}: account {user.pk} is deactivated")
    if Membership.objects.filter(user=user, role=Role.INTEGRATION).exists():
        raise SignOnRefused(f"{identity.directory}: account {user.pk} is another system's")
    apply_group_mapping(user=user, directory=identity.directory, groups=identity.groups)
    return user


def grantable_roles() -> frozenset[str]:
    """The roles a group mapping may grant on this installation: the allow-list, within what any mapping may."""
    return frozenset(settings.RIGHTSGUARD_SSO_GRANTABLE_ROLES) & {str(role) for role in DIRECTORY_ROLES}


@transaction.atomic
def apply_group_mapping(*, user: User, directory: str, groups: frozenset[str] | set[str]) -> None:
    """Bring the memberships ``directory`` manages for ``user`` in line with its mapping of ``groups``."""
    held = {g.casefold() for g in groups}
    wanted: dict[tuple[int, str], tuple[OrgUnit, list[str]]] = {}
    for row in DirectoryGroupMapping.objects.filter(directory=directory, role__in=grantable_roles()).select_related(
        "unit"
    ):
        if row.group.casefold() in held:
            unit, via = wanted.setdefault((row.unit_id, row.role), (row.unit, []))
            via.append(row.group)
    memberships = {(m.unit_id, m.role): m for m in Membership.objects.filter(user=user).select_related("unit")}
    for key, membership in memberships.items():
        if membership.managed_by == directory and key not in wanted:
            services.revoke_membership(membership=membership, note={"directory": directory, "groups": sorted(groups)})
    for key, (unit, via) in sorted(wanted.items(), key=lambda item: (item[1][0].path, item[0][1])):
        if key not in memberships:
            services.grant_directory_membership(
                user=user, unit=unit, role=key[1], directory=directory, groups=sorted(via)
            )


def _provision(identity: Identity, number: str) -> User:
    email = identity.email.strip()
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    user = services.create_user(
        username=_free_username(identity.username.strip(), number),
        password=None,
        full_name=identity.full_name.strip()[:100],
        badge_number=number,
        email=email,
    )
    logger.info("%s: provisioned account %s for police number %s", identity.directory, user.pk, number)
    return user


def _free_username(suggested: str, number: str) -> str:
    """The directory's log-in name when it is free and valid here, else one made from the police number."""
    validator = User.username_validator
    for candidate in (suggested, f"{suggested}-{number}" if suggested else "", f"pn-{number}"):
        if not candidate or len(candidate) > 150 or User.objects.filter(username__iexact=candidate).exists():
            continue
        try:
            validator(candidate)
        except ValidationError:
            continue
        return candidate
    raise SignOnRefused(f"no free user name for police number {number}")


def _serialise_first_log_ins(number: str) -> None:
    """Two first log-ins of one police number at once must not make two accounts: on PostgreSQL they take turns
    (a lock for the number, held until the transaction ends)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"sso:{number}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
