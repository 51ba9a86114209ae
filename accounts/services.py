"""Writes for users, units and memberships."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tokens
from accounts.models import LEVEL_ORDER, Membership, OrgLevel, OrgUnit, Role, SavedQueueFilter, User


@transaction.atomic
def create_org_unit(*, code: str, name: str, level: str, parent: OrgUnit | None, name_en: str = "") -> OrgUnit:
    """Create a unit below ``parent`` (or a root); its level must be below the parent's."""
    if "/" in code or not code.strip():
        raise ValidationError({"code": _("A unit code must be non-empty and contain no slash.")})
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


def create_user(
    *,
    username: str,
    password: str | None,
    full_name: str = "",
    badge_number: str = "",
    email: str = "",
    validate: bool = True,
) -> User:
    """Create an account; the password passes the configured validators unless ``validate`` is off."""
    user = User(username=username, full_name=full_name, badge_number=badge_number, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def grant_membership(*, user: User, unit: OrgUnit, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    membership, created = Membership.objects.get_or_create(user=user, unit=unit, role=role)
    if created:
        # A change of standing ends the user's API tokens: terminals log in again under the new roles (with the
        # second factor, where those need one), and a key copied before the change is worth nothing after it.
        tokens.revoke_tokens(user=user)
    return membership


@transaction.atomic
def revoke_membership(*, membership: Membership) -> None:
    membership.delete()
    tokens.revoke_tokens(user=membership.user)


@transaction.atomic
def deactivate_user(*, user: User) -> User:
    """Deactivate an account; authorisation re-reads it on every request, so access ends at once."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    # Terminals' API tokens and browser sessions die with the account; reactivation requires a new log-in.
    tokens.revoke_tokens(user=user)
    end_sessions(user)
    return user


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
def save_queue_filter(*, user: User, name: str, query: str) -> SavedQueueFilter:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the filter a name.")})
    saved, _created = SavedQueueFilter.objects.update_or_create(user=user, name=name, defaults={"query": query[:1000]})
    return saved


@transaction.atomic
def delete_queue_filter(*, saved: SavedQueueFilter, by: User) -> None:
    if saved.user_id != by.pk:
        raise ValidationError(_("You can only delete your own filters."))
    saved.delete()
