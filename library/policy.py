"""Who may see and do what with the typical-case library. Builds on the case policy (cases/policy.py), never around it.

- Proposing: a supervisor proposes a closed case they oversee (``cases.policy.can_oversee``); the write-up belongs to
  the unit they supervise it at (the nearest of their supervisor units above the case's).
- Editing (saving, accepting the proposed replacements, sending for approval, starting a revision): the supervisors of
  that unit or of a unit above it. Approving and publishing, returning: its administrators (or those above), never
  the last editor of the text (four eyes). Withdrawing, and declining a proposal never published: either.
- Managing (the editors' pages): the supervisors and administrators covering the write-up's unit see it in any state.
- Reading: a published write-up is read by everyone who belongs to a unit of the subtree it was published to, and by
  the supervisors and administrators above that subtree, who oversee it.
- The source case: named (and linked) only to those who see it (``cases.policy.can_see``).

A "no" to seeing is a 404 for the caller to give; a "no" to doing, on something seen, a 403. The services ask again,
under their lock.
"""

from django.db.models import Q, QuerySet

from accounts.authority import Actor
from accounts.models import OrgUnit, Role
from accounts.selectors import ancestor_paths, path_prefix_q
from cases import policy as case_policy
from cases.choices import CaseStatus
from cases.models import Case
from library.models import WriteUp
from library.workflow import APPROVER, EDITOR, TRANSITIONS, Transition

EDITOR_ROLE = Role.SUPERVISOR
APPROVER_ROLE = Role.ADMIN
MANAGER_ROLES = (Role.SUPERVISOR, Role.ADMIN)
OVERSEER_ROLES = (Role.SUPERVISOR, Role.ADMIN)


# --- proposing ---------------------------------------------------------------------------------------------------


def proposing_path(actor: Actor, case: Case) -> str | None:
    """The unit a proposal of ``case`` by ``actor`` belongs to: the nearest unit above the case's (or its own) that they
    supervise. None: they supervise none. Pure."""
    if not actor.is_active:
        return None
    covering = [p for p in actor.paths_for(EDITOR_ROLE) if case.unit_path.startswith(p)]
    return max(covering, key=len) if covering else None


def can_propose(actor: Actor, case: Case) -> bool:
    """A closed case, proposed by a supervisor who oversees it. Pure."""
    return (
        case.status == CaseStatus.CLOSED
        and proposing_path(actor, case) is not None
        and case_policy.can_oversee(actor, case)
    )


# --- managing ----------------------------------------------------------------------------------------------------


def manages_library(actor: Actor) -> bool:
    """Whether the actor has the editors' pages: supervisors and administrators."""
    return actor.is_active and bool(actor.paths_for(*MANAGER_ROLES))


def managed_writeups(actor: Actor) -> QuerySet[WriteUp]:
    """The write-ups of units the actor supervises or administers, whatever their state."""
    paths = actor.paths_for(*MANAGER_ROLES) if actor.is_active else ()
    if not paths:
        return WriteUp.objects.none()
    return WriteUp.objects.filter(path_prefix_q("unit__path", paths))


def can_manage(actor: Actor, writeup: WriteUp) -> bool:
    """Whether ``writeup`` is among ``managed_writeups(actor)``. Pure."""
    return actor.is_active and any(actor.covers(role, writeup.unit.path) for role in MANAGER_ROLES)


def edits(actor: Actor, writeup: WriteUp) -> bool:
    return actor.covers(EDITOR_ROLE, writeup.unit.path)


def approves(actor: Actor, writeup: WriteUp) -> bool:
    return actor.covers(APPROVER_ROLE, writeup.unit.path)


def may_take(actor: Actor, writeup: WriteUp, action: str) -> bool:
    """Whether the actor's role lets them take ``action`` on ``writeup`` at all, whatever its state: the editors' and
    the approvers' actions (library/workflow.py). Pure."""
    who = TRANSITIONS[action].who
    return (EDITOR in who and edits(actor, writeup)) or (APPROVER in who and approves(actor, writeup))


def is_last_editor(actor: Actor, writeup: WriteUp) -> bool:
    return writeup.last_editor_id is not None and writeup.last_editor_id == actor.user_id


def state_allows(writeup: WriteUp, action: str) -> bool:
    """Whether the write-up's state allows ``action``: withdrawal also needs a version readers read, declining a
    write-up never published. Pure."""
    if writeup.state not in TRANSITIONS[action].sources:
        return False
    if action == "decline":
        return writeup.published_version_id is None
    return writeup.listed if action == "withdraw" else True


def can_take(actor: Actor, writeup: WriteUp, action: str) -> bool:
    """``may_take`` in the write-up's state now, and for publication, by someone other than the last editor. Pure."""
    if not (may_take(actor, writeup, action) and state_allows(writeup, action)):
        return False
    return not (action == "publish" and is_last_editor(actor, writeup))


def available_actions(actor: Actor, writeup: WriteUp) -> list[Transition]:
    """What the editors' page offers the actor now."""
    return [t for action, t in TRANSITIONS.items() if action != "anonymise" and can_take(actor, writeup, action)]


def scope_units(writeup: WriteUp) -> QuerySet[OrgUnit]:
    """The subtrees a write-up may be published to: its unit's, or that of a unit below it."""
    return OrgUnit.objects.filter(path__startswith=writeup.unit.path).order_by("path")


def may_publish_to(writeup: WriteUp, unit: OrgUnit) -> bool:
    return unit.path.startswith(writeup.unit.path)


# --- reading -----------------------------------------------------------------------------------------------------


def has_library(actor: Actor) -> bool:
    """Whether the actor reads the library at all: anyone holding a membership."""
    return actor.is_active and bool(actor.grants)


def scope_q(actor: Actor) -> Q:
    """What the actor reads of what is published to a subtree (``scope_path``): published to a subtree holding a unit
    they belong to (any role), or lying under a unit they supervise or administer. The reading rule of the typical
    cases and of the guidance tips alike."""
    if not actor.is_active or not actor.grants:
        return Q(pk__in=[])
    above = sorted({path for grant in actor.grants for path in ancestor_paths(grant.path)})
    q = Q(scope_path__in=above)
    overseen = actor.paths_for(*OVERSEER_ROLES)
    if overseen:
        q |= path_prefix_q("scope_path", overseen)
    return q


def reads_in(actor: Actor, scope_path: str) -> bool:
    """Whether what is published to ``scope_path`` is within ``scope_q(actor)``. Pure."""
    return any(grant.path.startswith(scope_path) for grant in actor.grants) or any(
        path.startswith(scope_path) or scope_path.startswith(path) for path in actor.paths_for(*OVERSEER_ROLES)
    )


def reading_q(actor: Actor) -> Q:
    """The write-ups the actor reads: listed, and published to a subtree they read in (``scope_q``)."""
    return Q(listed=True) & scope_q(actor)


def readable_writeups(actor: Actor) -> QuerySet[WriteUp]:
    return WriteUp.objects.filter(reading_q(actor))


def can_read(actor: Actor, writeup: WriteUp) -> bool:
    """Whether ``writeup`` is among ``readable_writeups(actor)``. Pure."""
    if not (actor.is_active and writeup.listed and writeup.scope_path):
        return False
    return reads_in(actor, writeup.scope_path)


def reader_unit_path(actor: Actor, scope_path: str) -> str | None:
    """The unit a read is counted for: the reader's deepest unit within the subtree read in, else (one overseeing it
    from above) their nearest unit above it. Pure."""
    paths = [grant.path for grant in actor.grants]
    within = [p for p in paths if p.startswith(scope_path)]
    if within:
        return max(within, key=len)
    above = [p for p in paths if scope_path.startswith(p)]
    return max(above, key=len) if above else None


def read_count_paths(actor: Actor) -> tuple[str, ...]:
    """The subtrees whose read counts the actor sees: those they supervise or administer."""
    return actor.paths_for(*OVERSEER_ROLES) if actor.is_active else ()


def sees_source(actor: Actor, case: Case) -> bool:
    """Whether the source case is named to the actor (a reader who could not see the case never learns which it
    was): those who see it."""
    return case_policy.can_see(actor, case)
