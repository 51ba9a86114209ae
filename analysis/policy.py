"""Who sees and who acts on the early warnings: the case policy's report scope (cases/policy.py), one rule for the
pages, the API, the dashboard's count and the admin site.

- **Seeing**: the administrators and supervisors who may report on the warning's owner unit (``can_report_on``: of
  that unit or a unit above). A warning about a suspect with earlier cases against police is told only to those who
  are told of such matches on its case (``policy.sees_repeat_matches``: the supervisors covering it), since the match
  rests on an ID number the others do not read.
- **Acting** (acknowledging, resolving): the supervisors of the owner unit or of a unit above it. Administrators see
  and do not act, as on cases.

Nobody else learns that a warning exists: a warning outside what the reader sees is a 404; officers, who see none,
are refused the pages with 403.
"""

from django.db.models import Q, QuerySet

from accounts.authority import Actor
from accounts.models import Role
from accounts.selectors import path_prefix_q
from analysis.choices import WarningKind
from analysis.models import EarlyWarning
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
