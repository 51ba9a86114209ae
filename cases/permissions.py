"""Capability predicates: pure functions of an ``Actor`` and a case, enforced inside the services.

Visibility (whether a case exists for a user at all) is a selector concern: ``cases_visible_to``. These
predicates decide what a user who can see a case may do to it; a "no" becomes ``PermissionDenied`` (403).
"""

from accounts.authority import Actor
from accounts.models import Role
from cases.choices import OPEN_STATUSES, TERMINAL_STATUSES, CaseStatus
from cases.models import Case
from cases.workflow import FILER, Transition, actions_from, transition_for


def performer_roles(actor: Actor, case: Case) -> set[str]:
    """The workflow performer roles the actor holds for this case."""
    if not actor.is_active:
        return set()
    roles = {role for role in (Role.SUPERVISOR, Role.ADMIN) if actor.covers(role, case.unit_path)}
    if case.filed_by_id == actor.user_id:
        roles.add(FILER)
    return roles


def can_perform(actor: Actor, case: Case, action: str) -> bool:
    t = transition_for(action)
    return t is not None and bool(t.performers & performer_roles(actor, case))


def available_actions(actor: Actor, case: Case) -> list[Transition]:
    """Actions legal from the case's status that this actor may take: what the UI offers."""
    roles = performer_roles(actor, case)
    return [t for t in actions_from(case.status) if t.performers & roles]


def can_file_in(actor: Actor, unit_path: str) -> bool:
    """Officers file for their own unit or a unit above it; supervisors open cases in their subtree."""
    if not actor.is_active:
        return False
    officer_here = any(g.role == Role.OFFICER and g.path.startswith(unit_path) for g in actor.grants)
    return officer_here or actor.covers(Role.SUPERVISOR, unit_path)


def can_edit_draft(actor: Actor, case: Case) -> bool:
    return actor.is_active and case.status == CaseStatus.DRAFT and case.filed_by_id == actor.user_id


def can_handle(actor: Actor, case: Case) -> bool:
    """Record handling (dispositions, support, findings, clock, assignment) on an open case."""
    return case.status in OPEN_STATUSES and actor.covers(Role.SUPERVISOR, case.unit_path)


def can_edit_parties(actor: Actor, case: Case) -> bool:
    """Add or change involved officers and suspects: the filer on a draft, a supervisor while open."""
    return can_edit_draft(actor, case) or can_handle(actor, case)


def can_add_material(actor: Actor, case: Case) -> bool:
    """Add notes and evidence: the filer until the case ends, a supervisor while it is open."""
    if not actor.is_active or case.status in TERMINAL_STATUSES:
        return False
    return case.filed_by_id == actor.user_id or can_handle(actor, case)


def can_see_sensitive(actor: Actor, case: Case) -> bool:
    """Suspects' ID numbers and officers' medical details: the supervisors handling the case."""
    return actor.covers(Role.SUPERVISOR, case.unit_path)
