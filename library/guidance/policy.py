"""Who may write, approve and read guidance tips. Builds on the library's policy (library/policy.py) and the case
policy, never around them.

- Writing (a new tip, saving, sending for approval, starting a new tip from one): the supervisors and administrators
  of the tip's unit or of a unit above it. A new tip belongs to a unit the writer supervises or administers.
- Approving and publishing, returning: the administrators of the tip's unit or above it, never the one who wrote it
  nor the one who made its last change (four eyes). Publishing to the tip's unit's subtree or a part of it.
- Withdrawing: either.
- Managing (the editors' pages): the supervisors and administrators covering the tip's unit see it in any state.
- Reading: a published tip, while it is valid (from its first day to its last, local days), by everyone who belongs to
  a unit of the subtree it was published to, and by the supervisors and administrators above that subtree.
- Pushed to: every active account holding a role at a unit of that subtree (the officers of the scope), once.

A "no" to seeing is a 404 for the caller to give; a "no" to doing, on something seen, a 403. The services ask again,
under their lock.
"""

from datetime import date

from django.db.models import Q, QuerySet

from accounts.authority import Actor
from accounts.models import Membership, OrgUnit, Role
from accounts.selectors import path_prefix_q
from library import policy as library_policy
from library.guidance.choices import TipState
from library.guidance.models import Tip
from library.guidance.workflow import APPROVER, EDITOR, TRANSITIONS, Transition

EDITOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)
APPROVER_ROLE = Role.ADMIN


# --- writing and approving -----------------------------------------------------------------------------------------


def writes_tips(actor: Actor) -> bool:
    """Whether the actor has the editors' pages of the tips: supervisors and administrators."""
    return actor.is_active and bool(actor.paths_for(*EDITOR_ROLES))


def writing_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The units a new tip of the actor's may belong to: those they supervise or administer."""
    paths = actor.paths_for(*EDITOR_ROLES) if actor.is_active else ()
    return OrgUnit.objects.filter(path__in=paths).order_by("path")


def may_write_for(actor: Actor, unit: OrgUnit) -> bool:
    """Whether the actor may write a tip of ``unit``: they supervise or administer it, or a unit above it. Pure."""
    return actor.is_active and any(actor.covers(role, unit.path) for role in EDITOR_ROLES)


def managed_tips(actor: Actor) -> QuerySet[Tip]:
    """The tips of units the actor supervises or administers, whatever their state."""
    paths = actor.paths_for(*EDITOR_ROLES) if actor.is_active else ()
    if not paths:
        return Tip.objects.none()
    return Tip.objects.filter(path_prefix_q("unit__path", paths))


def can_manage(actor: Actor, tip: Tip) -> bool:
    """Whether ``tip`` is among ``managed_tips(actor)``. Pure (the tip's unit is read already)."""
    return actor.is_active and any(actor.covers(role, tip.unit.path) for role in EDITOR_ROLES)


def edits(actor: Actor, tip: Tip) -> bool:
    return can_manage(actor, tip)


def approves(actor: Actor, tip: Tip) -> bool:
    return actor.covers(APPROVER_ROLE, tip.unit.path)


def may_take(actor: Actor, tip: Tip, action: str) -> bool:
    """Whether the actor's role lets them take ``action`` on ``tip`` at all, whatever its state. Pure."""
    who = TRANSITIONS[action].who
    return (EDITOR in who and edits(actor, tip)) or (APPROVER in who and approves(actor, tip))


def wrote(actor: Actor, tip: Tip) -> bool:
    """Whether the actor wrote the tip or made its last change: then someone else approves it."""
    return actor.user_id in (tip.author_id, tip.last_editor_id)


def state_allows(tip: Tip, action: str) -> bool:
    """Whether the tip's state allows ``action`` (library/guidance/workflow.py). Pure."""
    return tip.state in TRANSITIONS[action].sources


def can_take(actor: Actor, tip: Tip, action: str) -> bool:
    """``may_take`` in the tip's state now, and for publication, by someone who did not write it. Pure."""
    if not (may_take(actor, tip, action) and state_allows(tip, action)):
        return False
    return not (action == "publish" and wrote(actor, tip))


def available_actions(actor: Actor, tip: Tip) -> list[Transition]:
    return [t for action, t in TRANSITIONS.items() if action != "save" and can_take(actor, tip, action)]


def scope_units(tip: Tip) -> QuerySet[OrgUnit]:
    """The subtrees a tip may be published to: its unit's, or that of a unit below it."""
    return OrgUnit.objects.filter(path__startswith=tip.unit.path).order_by("path")


def may_publish_to(tip: Tip, unit: OrgUnit) -> bool:
    return unit.path.startswith(tip.unit.path)


# --- reading -------------------------------------------------------------------------------------------------------


def in_force_q(today: date) -> Q:
    """Published and valid on ``today`` (a local day)."""
    return Q(state=TipState.PUBLISHED, valid_from__lte=today) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def scope_q(actor: Actor) -> Q:
    """The tips published to a subtree holding a unit the actor belongs to (any role), or lying under a unit they
    supervise or administer: the library's reading rule (library/policy.py ``scope_q``)."""
    return library_policy.scope_q(actor) & ~Q(scope_path="")


def readable_tips(actor: Actor, today: date) -> QuerySet[Tip]:
    """The tips in force for the actor on ``today``."""
    return Tip.objects.filter(in_force_q(today) & scope_q(actor))


def ever_published_to(actor: Actor) -> QuerySet[Tip]:
    """Every tip published (and perhaps since withdrawn) to a subtree the actor reads in: what the terminals' sync
    dates its last change by."""
    return Tip.objects.filter(scope_q(actor), published_at__isnull=False)


def can_read(actor: Actor, tip: Tip, today: date) -> bool:
    """Whether ``tip`` is among ``readable_tips(actor, today)``. Pure."""
    if not (actor.is_active and tip.state == TipState.PUBLISHED and tip.scope_path):
        return False
    if tip.valid_from > today or (tip.valid_until is not None and tip.valid_until < today):
        return False
    return library_policy.reads_in(actor, tip.scope_path)


def reader_unit_path(actor: Actor, scope_path: str) -> str | None:
    """The unit a read of a tip is counted for, as for a typical case (library/policy.py). Pure."""
    return library_policy.reader_unit_path(actor, scope_path)


def pushed_to(scope_path: str) -> "QuerySet[Membership, int]":
    """Who a tip published to ``scope_path`` is pushed to: the active accounts holding a role at a unit of the subtree,
    as user ids, each once."""
    return (
        Membership.objects.filter(unit__path__startswith=scope_path, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
