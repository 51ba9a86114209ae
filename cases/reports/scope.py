"""Who may see yearly reports, and for which units: holders of an admin or supervisor membership, for the subtree
of any of those memberships. Pure reads; the views turn "no role" into 403 and "not your unit" into 404."""

from django.db.models import Q, QuerySet

from accounts.authority import Actor
from accounts.models import OrgLevel, OrgUnit, Role
from accounts.selectors import path_prefix_q

REPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR)


def report_paths(actor: Actor) -> tuple[str, ...]:
    """The subtrees the actor may report on (empty: no reports at all)."""
    return actor.paths_for(*REPORT_ROLES) if actor.is_active else ()


def outermost_report_units(actor: Actor) -> list[OrgUnit]:
    """The units at the top of the actor's report subtrees, none inside another: "every unit you oversee"."""
    paths = report_paths(actor)
    tops = {p for p in paths if not any(p != q and p.startswith(q) for q in paths)}
    return list(OrgUnit.objects.filter(path__in=tops).order_by("path"))


def can_report(actor: Actor) -> bool:
    return bool(report_paths(actor))


def covers_unit(actor: Actor, unit: OrgUnit) -> bool:
    return any(unit.path.startswith(path) for path in report_paths(actor))


def default_report_unit(actor: Actor) -> OrgUnit | None:
    """The highest unit among the actor's report memberships (the widest view)."""
    paths = report_paths(actor)
    return OrgUnit.objects.filter(path__in=paths).order_by("depth", "path").first() if paths else None


def report_unit(actor: Actor, code: str) -> OrgUnit | None:
    """The unit with ``code`` if the actor may report on it, else None (the caller answers 404)."""
    unit = OrgUnit.objects.filter(code=code).first()
    return unit if unit is not None and covers_unit(actor, unit) else None


def picker_units(actor: Actor) -> QuerySet[OrgUnit]:
    """Units offered in the page's picker: the covered subtrees down to county level, plus the membership units
    themselves. Stations are reached from their county's sub-unit table, which keeps the list short nationally."""
    paths = report_paths(actor)
    if not paths:
        return OrgUnit.objects.none()
    shown = ~Q(level=OrgLevel.STATION) | Q(path__in=paths)
    return OrgUnit.objects.filter(path_prefix_q("path", paths) & shown).order_by("path")
