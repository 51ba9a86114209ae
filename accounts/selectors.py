"""Reads for users, units and memberships."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.authority import ANONYMOUS, Actor, Grant
from accounts.models import Membership, OrgUnit, Role, SavedQueueFilter, User


def actor_for(user: User | AnonymousUser) -> Actor:
    """Snapshot of the user's grants, read fresh so membership changes apply on the next request. The one way an
    ``Actor`` is built: once per request (``request.actor``, accounts/middleware.py), service call or task."""
    if not user.is_authenticated:
        return ANONYMOUS
    grants = tuple(
        Grant(role=role, path=path)
        for role, path in Membership.objects.filter(user=user).values_list("role", "unit__path").order_by("unit__path")
    )
    return Actor(user_id=user.pk, is_active=user.is_active, grants=grants)


def units_under(unit: OrgUnit) -> QuerySet[OrgUnit]:
    """The unit and all its descendants."""
    return OrgUnit.objects.filter(path__startswith=unit.path)


def units_visible_to(user: User) -> QuerySet[OrgUnit]:
    """Units in the subtrees of the user's memberships (any role)."""
    actor = actor_for(user)
    paths = actor.paths_for(*Role.values)
    if not actor.is_active or not paths:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path_prefix_q("path", paths))


def supervisors_covering(path: str) -> QuerySet[User]:
    """Active supervisors whose nearest covering unit holds the case at ``path``.

    Walks up from the unit to the first ancestor that has any supervisor, so a county case alerts the
    county office rather than every supervisor up to the ministry.
    """
    ancestors = ancestor_paths(path)
    held = set(
        Membership.objects.filter(role=Role.SUPERVISOR, unit__path__in=ancestors, user__is_active=True).values_list(
            "unit__path", flat=True
        )
    )
    for ancestor in reversed(ancestors):
        if ancestor in held:
            return User.objects.filter(
                is_active=True, memberships__role=Role.SUPERVISOR, memberships__unit__path=ancestor
            ).distinct()
    return User.objects.none()


def ancestor_paths(path: str) -> list[str]:
    """The paths of the unit at ``path`` and of every unit above it, root first."""
    codes = [c for c in path.strip("/").split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def supervisors_of_unit_and_above(path: str) -> QuerySet[User]:
    """Active supervisors who cover the unit at ``path`` (those who may be put in charge of its cases)."""
    return (
        User.objects.filter(
            is_active=True, memberships__role=Role.SUPERVISOR, memberships__unit__path__in=ancestor_paths(path)
        )
        .distinct()
        .order_by("username")
    )


def administrators_over(path: str) -> QuerySet[User]:
    """Active administrators of the unit at ``path`` or of a unit above it."""
    return (
        User.objects.filter(
            is_active=True, memberships__role=Role.ADMIN, memberships__unit__path__in=ancestor_paths(path)
        )
        .distinct()
        .order_by("username")
    )


def path_prefix_q(field: str, paths: tuple[str, ...] | list[str]) -> Q:
    """``field`` starts with any of ``paths``; an empty list matches nothing."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


# --- saved queue filters shared with a unit ---------------------------------------------------------------------------
#
# A supervisor shares a saved filter with the unit they supervise at (their highest, when they supervise at several):
# the other supervisors of that same unit see it beside their own, read-only. The unit itself, not its subtree: a
# filter names units and views of the owner's office, which a supervisor of a unit below may not cover, and a
# sub-unit keeps its own standard views.


def share_unit(actor: Actor) -> OrgUnit | None:
    """The unit a filter the actor saves is shared with: that of their highest supervisor membership."""
    paths = sorted(actor.paths_for(Role.SUPERVISOR), key=lambda path: (len(path), path))
    return OrgUnit.objects.filter(path=paths[0]).first() if actor.is_active and paths else None


def shared_queue_filters(*, actor: Actor) -> QuerySet[SavedQueueFilter]:
    """Filters others shared with a unit the actor supervises at, while their owner still supervises there."""
    paths = actor.paths_for(Role.SUPERVISOR)
    if not actor.is_active or not paths:
        return SavedQueueFilter.objects.none()
    owner_still_there = Membership.objects.filter(
        user=OuterRef("user"), unit=OuterRef("shared_unit"), role=Role.SUPERVISOR
    )
    return (
        SavedQueueFilter.objects.filter(shared_unit__path__in=paths, user__is_active=True)
        .filter(Exists(owner_still_there))
        .exclude(user_id=actor.user_id)
        .select_related("user", "shared_unit")
        .order_by("name", "pk")
    )
