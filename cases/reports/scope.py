"""Which unit the report page shows. Who may report, and on which units, is the case policy's (cases/policy.py):
these reads only pick among the units it allows; the views turn "no role" into 403 and "not your unit" into 404."""

from accounts.authority import Actor
from accounts.models import OrgUnit
from cases import policy


def default_report_unit(actor: Actor) -> OrgUnit | None:
    """The highest unit among the actor's report memberships (the widest view)."""
    paths = policy.report_paths(actor)
    return OrgUnit.objects.filter(path__in=paths).order_by("depth", "path").first() if paths else None


def report_unit(actor: Actor, code: str) -> OrgUnit | None:
    """The unit with ``code`` if the actor may report on it, else None (the caller answers 404)."""
    unit = OrgUnit.objects.filter(code=code).first()
    return unit if unit is not None and policy.can_report_on(actor, unit) else None


def outermost_report_units(actor: Actor) -> list[OrgUnit]:
    """The units at the top of the actor's report subtrees, none inside another: "every unit you oversee"."""
    paths = policy.report_paths(actor)
    tops = {p for p in paths if not any(p != q and p.startswith(q) for q in paths)}
    return list(OrgUnit.objects.filter(path__in=tops).order_by("path"))
