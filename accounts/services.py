"""Writes for users, units and memberships.

A change made by a person names them (``by``) and is checked against the administration rule of
``accounts/scope.py`` (``PermissionDenied`` otherwise); ``by=None`` is the system itself (the demo seed, a management
command). Every change of who may do what (memberships, passwords, activation, privileges) and of where the
account's security notices go (its e-mail address) writes an ``AccountAudit`` row in the same transaction.
"""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import scope, tokens
from accounts.models import (
    LEVEL_ORDER,
    AccountAudit,
    AccountChange,
    Membership,
    OrgLevel,
    OrgUnit,
    Role,
    SavedQueueFilter,
    User,
)

UNIT_CODE = re.compile(r"[0-9A-Za-z_-]{1,12}")


@transaction.atomic
def create_org_unit(
    *, code: str, name: str, level: str, parent: OrgUnit | None, name_en: str = "", by: User | None = None
) -> OrgUnit:
    """Create a unit below ``parent`` (or a root); its level must be below the parent's."""
    if by is not None and not scope.may_create_unit(by, parent):
        raise PermissionDenied(_("You may only add a unit below one you administer."))
    if not UNIT_CODE.fullmatch(code):
        # The code goes into the unit's path, addresses, file names and headers: plain characters only.
        raise ValidationError({"code": _("A unit code is 1 to 12 letters, digits, hyphens or underscores.")})
    if parent is None:
        path, depth = f"/{code}/", 0
    else:
        if LEVEL_ORDER.index(OrgLevel(level)) <= LEVEL_ORDER.index(OrgLevel(parent.level)):
            raise ValidationError({"level": _("A unit must be at a lower level than its parent.")})
        path, depth = f"{parent.path}{code}/", parent.depth + 1
    unit = OrgUnit(code=code, name=name, name_en=name_en, level=level, parent=parent, path=path, depth=depth)
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def rename_org_unit(*, unit: OrgUnit, name: str, name_en: str, by: User | None = None) -> OrgUnit:
    """Only the names change: the code and the position make up the path that cases copy."""
    if by is not None and not scope.may_administer_unit(by, unit):
        raise PermissionDenied(_("You may not change this unit."))
    unit.name, unit.name_en = name, name_en
    unit.full_clean(exclude=["code"])
    unit.save(update_fields=["name", "name_en"])
    return unit


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    full_name: str = "",
    badge_number: str = "",
    email: str = "",
    validate: bool = True,
    unit: OrgUnit | None = None,
    role: str = "",
    by: User | None = None,
) -> User:
    """Create an account, with a first membership when ``unit`` and ``role`` are given; the password passes the
    configured validators unless ``validate`` is off. An administrator creates accounts only with a role they may
    grant (an account without one is out of every administrator's reach)."""
    if by is not None and not (scope.may_change_privileges(by) if unit is None else scope.may_grant_at(by, unit, role)):
        raise PermissionDenied(_("You may only create an account with a role you may grant at a unit you administer."))
    if unit is not None and role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    user = User(username=username, full_name=full_name, badge_number=badge_number, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    _audit(
        by=by,
        subject=user,
        action=AccountChange.CREATED,
        after={"username": user.username, "is_active": True, "password": _password_state(user)},
    )
    if unit is not None:
        _grant(user=user, unit=unit, role=role, by=by)
    return user


@transaction.atomic
def grant_membership(*, user: User, unit: OrgUnit, role: str, by: User | None = None) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if by is not None and not scope.may_grant(by, subject=user, unit=unit, role=role):
        raise PermissionDenied(_("You may not grant this role to this account at this unit."))
    return _grant(user=user, unit=unit, role=role, by=by)


def _grant(
    *, user: User, unit: OrgUnit, role: str, by: User | None, managed_by: str = "", note: dict[str, Any] | None = None
) -> Membership:
    """``managed_by``: the directory whose group mapping grants it (accounts/sso.py), which ``note`` explains."""
    _check_account_kind(user, role)
    before = _memberships(user)
    membership, created = Membership.objects.get_or_create(
        user=user, unit=unit, role=role, defaults={"managed_by": managed_by}
    )
    if created:
        # A change of standing ends the user's API tokens: terminals log in again under the new roles (with the
        # second factor, where those need one), and a key copied before the change is worth nothing after it.
        tokens.revoke_tokens(user=user)
        _audit(
            by=by,
            subject=user,
            action=AccountChange.MEMBERSHIP_GRANTED,
            unit=unit,
            role=role,
            before=before,
            after={**_memberships(user), **(note or {})},
        )
    return membership


def _check_account_kind(user: User, role: str) -> None:
    """An integration account (another system: accounts/integration.py) holds integration memberships only, and has
    no password; a person's account holds none."""
    held = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    if role == Role.INTEGRATION:
        if held - {Role.INTEGRATION}:
            raise ValidationError(
                {"role": _("A person's account cannot be an integration account: create an account for the system.")}
            )
        if user.has_usable_password():
            raise ValidationError(
                {"role": _("An integration account has no password: disable password-based log-in for it first.")}
            )
    elif Role.INTEGRATION in held:
        raise ValidationError({"role": _("An integration account holds no other role.")})


@transaction.atomic
def revoke_membership(*, membership: Membership, by: User | None = None, note: dict[str, Any] | None = None) -> None:
    """``note``: why the system revoked it (a directory group mapping no longer granting it: accounts/sso.py)."""
    if by is not None and not scope.may_administer_membership(by, membership):
        raise PermissionDenied(_("You may not administer this account."))
    user = membership.user
    before = _memberships(user)
    membership.delete()
    tokens.revoke_tokens(user=user)
    _audit(
        by=by,
        subject=user,
        action=AccountChange.MEMBERSHIP_REVOKED,
        unit=membership.unit,
        role=membership.role,
        before=before,
        after={**_memberships(user), **(note or {})},
    )


@transaction.atomic
def grant_directory_membership(
    *, user: User, unit: OrgUnit, role: str, directory: str, groups: list[str]
) -> Membership:
    """A membership that a directory group mapping grants at log-in (the system's change, ``by=None``): marked as the
    directory's, so that its later log-ins may take it back. An existing membership granted here stays as it is."""
    return _grant(
        user=user, unit=unit, role=role, by=None, managed_by=directory, note={"directory": directory, "groups": groups}
    )


@transaction.atomic
def deactivate_user(*, user: User, by: User | None = None) -> User:
    """Deactivate an account; authorisation re-reads it on every request, so access ends at once."""
    _check_administers(by, user)
    was_active = _locked(user).is_active
    user.is_active = False
    user.save(update_fields=["is_active"])
    # Terminals' API tokens and browser sessions die with the account; reactivation requires a new log-in.
    tokens.revoke_tokens(user=user)
    end_sessions(user)
    if was_active:
        _audit(
            by=by,
            subject=user,
            action=AccountChange.DEACTIVATED,
            before={"is_active": True},
            after={"is_active": False},
        )
    return user


@transaction.atomic
def reactivate_user(*, user: User, by: User | None = None) -> User:
    """Let a deactivated account log in again (its old sessions and tokens stay ended)."""
    _check_administers(by, user)
    was_active = _locked(user).is_active
    user.is_active = True
    user.save(update_fields=["is_active"])
    tokens.forget_user(user)
    if not was_active:
        _audit(
            by=by,
            subject=user,
            action=AccountChange.REACTIVATED,
            before={"is_active": False},
            after={"is_active": True},
        )
    return user


@transaction.atomic
def set_password(*, user: User, password: str | None, by: User | None = None) -> User:
    """An administrator sets another account's password (``None``: password log-in disabled). The new password
    changes the account's session hash, which ends its sessions and API tokens."""
    _check_administers(by, user)
    before = _password_state(_locked(user))
    if password is not None and Membership.objects.filter(user=user, role=Role.INTEGRATION).exists():
        raise ValidationError(_("An integration account has no password: it uses the tokens issued for it."))
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    user.save(update_fields=["password"])
    action = AccountChange.PASSWORD_SET if password is not None else AccountChange.PASSWORD_DISABLED
    _audit(by=by, subject=user, action=action, before={"password": before}, after={"password": _password_state(user)})
    return user


# What the admin's account form changes directly: names, the e-mail address, police details.
ACCOUNT_DETAILS = frozenset(
    {"username", "first_name", "last_name", "email", "full_name", "badge_number", "phone", "language", "date_joined"}
)


@transaction.atomic
def update_user_details(*, user: User, changes: dict[str, Any], by: User | None = None) -> User:
    """Change an account's details (``ACCOUNT_DETAILS``). A new e-mail address is audited: the notices of changes to
    the account's second factor go there, so moving them elsewhere is a change of standing."""
    unknown = set(changes) - ACCOUNT_DETAILS
    if unknown:
        raise ValueError(f"Not account details: {sorted(unknown)}")
    _check_administers(by, user)
    stored = _locked(user)
    for name, value in changes.items():
        setattr(user, name, value)
    changed = [name for name in changes if getattr(stored, name) != getattr(user, name)]
    if not changed:
        return user
    user.full_clean(exclude=[field.name for field in User._meta.concrete_fields if field.name not in changed])
    user.save(update_fields=changed)
    # The API's cached token checks carry the user's details: the next request reads the new ones.
    tokens.forget_user(user)
    if "email" in changed:
        _audit(
            by=by,
            subject=user,
            action=AccountChange.EMAIL_CHANGED,
            before={"email": stored.email},
            after={"email": user.email},
        )
    return user


@transaction.atomic
def set_privileges(
    *,
    user: User,
    is_staff: bool,
    is_superuser: bool,
    groups: list[Group],
    permissions: list[Permission],
    by: User | None = None,
) -> User:
    """Staff status, superuser status, groups and permissions: superusers' business alone."""
    if by is not None and not scope.may_change_privileges(by):
        raise PermissionDenied(_("Only a superuser may change staff status, superuser status, groups or permissions."))
    before = _privileges(_locked(user))
    user.is_staff, user.is_superuser = is_staff, is_superuser
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.set(groups)
    user.user_permissions.set(permissions)
    # Staff and superusers must use the second factor: the API's cached token checks are read again.
    tokens.forget_user(user)
    after = _privileges(user)
    if after != before:
        _audit(by=by, subject=user, action=AccountChange.PRIVILEGES_CHANGED, before=before, after=after)
    return user


def _check_administers(by: User | None, user: User) -> None:
    if by is not None and not scope.may_administer_user(by, user):
        raise PermissionDenied(_("You may not administer this account."))


def _locked(user: User) -> User:
    """The account's row as stored, locked until the change commits (the object in hand may be stale)."""
    return User.objects.select_for_update().get(pk=user.pk)


def _memberships(user: User) -> dict[str, Any]:
    held = Membership.objects.filter(user=user).order_by("unit__path", "role").values_list("unit__code", "role")
    return {"memberships": [f"{code}:{role}" for code, role in held]}


def _password_state(user: User) -> str:
    # Never the hash: the record shows that a password exists, not anything that helps guess it.
    return "usable" if user.has_usable_password() else "unusable"


def _privileges(user: User) -> dict[str, Any]:
    return {
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(
            f"{app}.{codename}"
            for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
        ),
    }


def _audit(
    *,
    by: User | None,
    subject: User,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    unit: OrgUnit | None = None,
    role: str = "",
) -> AccountAudit:
    return AccountAudit.objects.create(
        actor=by, subject=subject, action=action, unit=unit, role=role, before=before or {}, after=after or {}
    )


def end_sessions(user: User) -> int:
    """Delete every stored session of ``user`` (database session backend); returns how many."""
    from django.contrib.sessions.models import Session

    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def save_queue_filter(*, user: User, name: str, query: str, shared_unit: OrgUnit | None = None) -> SavedQueueFilter:
    """Save (or overwrite, by name) the user's filter; with ``shared_unit``, the other supervisors of that unit, one
    the user supervises at, see it too (read-only)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the filter a name.")})
    if (
        shared_unit is not None
        and not Membership.objects.filter(user=user, unit=shared_unit, role=Role.SUPERVISOR).exists()
    ):
        raise ValidationError({"shared": _("You can only share a filter with a unit you supervise at.")})
    saved, _created = SavedQueueFilter.objects.update_or_create(
        user=user, name=name, defaults={"query": query[:1000], "shared_unit": shared_unit}
    )
    return saved


@transaction.atomic
def delete_queue_filter(*, saved: SavedQueueFilter, by: User) -> None:
    if saved.user_id != by.pk:
        raise ValidationError(_("You can only delete your own filters."))
    saved.delete()


def set_language_preference(*, user: User, language: str) -> User:
    """Remember the language the user chose, for what reaches them outside a page (e-mails)."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValueError(language)
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        tokens.forget_user(user)
    return user
