"""Who administers whom: the one rule behind the admin site and the account services.

An administrator (a membership with role ``admin``) administers

- the units of their subtrees (the unit of the membership and everything below it);
- the accounts whose every membership lies strictly below them: in a unit under one of their administrator
  units, or at such a unit itself with a lower role than administrator. So never their own account (nobody changes
  their own standing), never a fellow administrator of their unit or of a unit above (a peer or a superior cannot be
  locked out, reset or stripped of their role by an equal), never a superuser's, never one that holds a role
  anywhere else (whoever could set its password would gain that role), never one without memberships (only
  superusers reach those);

and may grant only what leaves the account strictly below them: at a unit under one of their administrator units
any role up to administrator, at their administrator unit itself only the lower roles (no new peers). Staff
status, superuser status, groups and permissions are for superusers alone; superusers administer everything. The
settings every unit shares (the stage time limits) belong to the administrators of the whole tree (a unit without
a parent).

The querysets are the rule; the predicates ask them about one object, so a list, a form's choices, an object
check and a service cannot disagree.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import ROLE_ORDER, Membership, OrgUnit, Role, User
from accounts.selectors import actor_for, path_prefix_q


def admin_paths(user: User) -> tuple[str, ...]:
    """The subtrees ``user`` administers (empty for anyone inactive or without an ``admin`` membership)."""
    actor = actor_for(user)
    return actor.paths_for(Role.ADMIN) if actor.is_active else ()


def _is_superuser(user: User) -> bool:
    return user.is_active and user.is_superuser


def administers_anything(user: User) -> bool:
    """Whether the account pages of the admin site have anything for ``user``."""
    return _is_superuser(user) or bool(admin_paths(user))


def administered_units(user: User) -> QuerySet[OrgUnit]:
    if _is_superuser(user):
        return OrgUnit.objects.all()
    return OrgUnit.objects.filter(path_prefix_q("path", admin_paths(user)))


def _roles_below(role: str) -> list[str]:
    return [held for held in ROLE_ORDER if role_rank(held) < role_rank(role)]


def _strictly_below_q(paths: tuple[str, ...]) -> Q:
    """Memberships strictly below an administrator of ``paths``: at a unit under one of them, or at one of them
    with a role lower than administrator."""
    q = Q(pk__in=[])
    for path in paths:
        q |= (Q(unit__path__startswith=path) & ~Q(unit__path=path)) | Q(
            unit__path=path, role__in=_roles_below(Role.ADMIN)
        )
    return q


def administered_users(user: User) -> QuerySet[User]:
    if _is_superuser(user):
        return User.objects.all()
    paths = admin_paths(user)
    if not paths:
        return User.objects.none()
    memberships = Membership.objects.filter(user=OuterRef("pk"))
    below = _strictly_below_q(paths)
    return (
        User.objects.filter(is_superuser=False)
        .exclude(pk=user.pk)
        .filter(Exists(memberships.filter(below)))
        .exclude(Exists(memberships.exclude(below)))
    )


def administered_memberships(user: User) -> QuerySet[Membership]:
    if _is_superuser(user):
        return Membership.objects.all()
    return Membership.objects.filter(user__in=administered_users(user).values("pk"))


def may_administer_unit(user: User, unit: OrgUnit) -> bool:
    return administered_units(user).filter(pk=unit.pk).exists()


def may_administer_user(user: User, subject: User) -> bool:
    return administered_users(user).filter(pk=subject.pk).exists()


def may_administer_membership(user: User, membership: Membership) -> bool:
    return administered_memberships(user).filter(pk=membership.pk).exists()


def role_rank(role: str) -> int:
    return ROLE_ORDER.index(Role(role))


def grantable_roles(user: User, unit: OrgUnit | None = None) -> list[str]:
    """The roles ``user`` may grant at ``unit`` (or at any unit they administer): those that leave the account
    strictly below them (administrator below their administrator units, the lower roles at those units)."""
    if _is_superuser(user):
        return list(ROLE_ORDER)
    paths = admin_paths(user)
    if not paths:
        return []
    if unit is None:
        # Administrator itself at the units below theirs (the unit chosen is checked when the grant is made).
        return list(ROLE_ORDER)
    if any(unit.path.startswith(path) and unit.path != path for path in paths):
        return list(ROLE_ORDER)
    if unit.path in paths:
        return _roles_below(Role.ADMIN)
    return []


def may_grant_at(user: User, unit: OrgUnit, role: str) -> bool:
    """Whether ``user`` may give someone ``role`` at ``unit`` (the unit in their subtrees, the role up to theirs)."""
    return role in grantable_roles(user, unit)


def may_grant(user: User, *, subject: User, unit: OrgUnit, role: str) -> bool:
    return may_administer_user(user, subject) and may_grant_at(user, unit, role)


def may_create_unit(user: User, parent: OrgUnit | None) -> bool:
    """A new unit below one ``user`` administers; a new root is for superusers."""
    return _is_superuser(user) if parent is None else may_administer_unit(user, parent)


def may_change_privileges(user: User) -> bool:
    """Staff status, superuser status, groups and permissions."""
    return _is_superuser(user)


def may_change_shared_settings(user: User) -> bool:
    """Settings every unit shares (the stage time limits): the administrators of a whole tree."""
    return _is_superuser(user) or any(path.count("/") == 2 for path in admin_paths(user))
