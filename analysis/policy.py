"""Who sees and who acts on the early warnings and the evaluation reports: the case policy's report scope
(cases/policy.py), one rule for the pages, the API, the dashboard's count and the admin site. The evaluation reports'
rules are at the end of the module.

- **Seeing**: the administrators and supervisors who may report on the warning's owner unit (``can_report_on``: of
  that unit or a unit above). A warning about a suspect with earlier cases against police is told only to those who
  are told of such matches on its case (``policy.sees_repeat_matches``: the supervisors covering it), since the match
  rests on an ID number the others do not read.
- **Acting** (acknowledging, resolving): the supervisors of the owner unit or of a unit above it. Administrators see
  and do not act, as on cases.

Nobody else learns that a warning exists: a warning outside what the reader sees is a 404; officers, who see none,
are refused the pages with 403.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.authority import Actor
from accounts.models import Membership, OrgUnit, Role
from accounts.selectors import ancestor_paths, path_prefix_q
from analysis.choices import WarningKind
from analysis.models import EarlyWarning, EvaluationReport
from cases import policy


def has_warnings(actor: Actor) -> bool:
    """Whether the warning pages are for the actor at all: the readers of reports."""
    return policy.can_report(actor)


def _supervised(actor: Actor) -> tuple[str, ...]:
    return actor.paths_for(Role.SUPERVISOR) if actor.is_active else ()


def visible_q(actor: Actor) -> Q:
    """The warnings the actor sees (see the module doc)."""
    seen = path_prefix_q("owner_unit__path", policy.report_paths(actor))
    matches = path_prefix_q("owner_unit__path", _supervised(actor))
    return seen & (~Q(kind=WarningKind.REPEAT_ATTACKER) | matches)


def visible_warnings(actor: Actor) -> QuerySet[EarlyWarning]:
    return EarlyWarning.objects.filter(visible_q(actor))


def can_see(actor: Actor, warning: EarlyWarning) -> bool:
    path = warning.owner_unit.path
    if not policy.can_report_on(actor, warning.owner_unit):
        return False
    return warning.kind != WarningKind.REPEAT_ATTACKER or policy.supervises(actor, path)


def can_act(actor: Actor, warning: EarlyWarning) -> bool:
    """Acknowledge or resolve it: a supervisor of the owner unit or of a unit above it."""
    return actor.is_active and policy.supervises(actor, warning.owner_unit.path)


# --- the case analysis and evaluation reports ---------------------------------------------------------------------
#
# - **Seeing** a unit's report: whoever may report on the unit (``can_report_on``: its administrators and supervisors
#   and those of the units above it). Officers are refused (403); a report of a unit outside the reader's area is a
#   404. Within a report, a suspect with earlier cases against police is named (masked) only to those the case policy
#   tells of such matches on that case (``sees_repeat_matches``), and a warning is listed only when the reader may
#   open it (``visible_q``); everyone else sees counts.
# - **Writing** (starting a report, its lessons, submitting it): the supervisors of the unit or of a unit above it.
# - **Approving or returning** it: the same supervisors, but none of its authors (who wrote its lessons or submitted
#   it, at any step, also before a return) — there is no office-head role, so the head's approval is the sign-off of
#   a supervisor who had no hand in it (four eyes). Administrators see and never act.


def told_of_repeat_attackers(actor: Actor, unit: OrgUnit) -> bool:
    """Whether a report of ``unit`` names its suspects with earlier cases against police to the actor (each one still
    only where the case policy tells them of matches on its case): the supervisors of the unit or of a unit above it,
    who read every ID number of its subtree in full. A suspect's earlier cases are counted over the whole subtree, so
    a reader who supervises only part of it (a county's supervisor who administers the city) would learn from the
    count of a match on a number they do not read, which the case policy never tells (``cases.policy.
    repeat_matches_visible``)."""
    return actor.is_active and policy.supervises(actor, unit.path)


def has_evaluations(actor: Actor) -> bool:
    """Whether the evaluation reports are for the actor at all: the readers of reports."""
    return policy.can_report(actor)


def visible_evaluations(actor: Actor) -> QuerySet[EvaluationReport]:
    return EvaluationReport.objects.filter(path_prefix_q("unit__path", policy.report_paths(actor)))


def can_see_evaluation(actor: Actor, report: EvaluationReport) -> bool:
    return policy.can_report_on(actor, report.unit)


def can_write_evaluation(actor: Actor, unit: OrgUnit) -> bool:
    """Start a report of ``unit``, write its lessons, submit it: a supervisor of the unit or of a unit above it."""
    return actor.is_active and policy.supervises(actor, unit.path)


def can_approve_evaluation(actor: Actor, report: EvaluationReport) -> bool:
    """Approve or return a report: a supervisor of its unit or above who neither wrote nor submitted it (four eyes)."""
    return (
        can_write_evaluation(actor, report.unit)
        and actor.user_id != report.submitted_by_id
        and actor.user_id not in report.authors
    )


def approvers_to_tell(unit: OrgUnit, authors: Iterable[int]) -> list[int]:
    """Who is told that a report waits for approval: the active supervisors of the nearest unit, from ``unit``
    upwards, that has one who is not among its ``authors`` (the unit's own office when it has a supervisor who had no
    hand in it, else the office above it), never an author. Each of them may approve it."""
    held: dict[str, set[int]] = {}
    rows = Membership.objects.filter(
        role=Role.SUPERVISOR, unit__path__in=ancestor_paths(unit.path), user__is_active=True
    ).values_list("unit__path", "user_id")
    for path, user_id in rows:
        held.setdefault(path, set()).add(user_id)
    hands = set(authors)
    for path in reversed(ancestor_paths(unit.path)):
        others = held.get(path, set()) - hands
        if others:
            return sorted(others)
    return []
