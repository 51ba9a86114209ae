"""Reads of the early warnings and their settings, as the reader may see them (analysis/policy.py)."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from accounts.authority import Actor
from accounts.models import OrgUnit
from analysis import policy
from analysis.choices import WarningState
from analysis.models import EarlyWarning, WarningSettings


def current_settings() -> WarningSettings:
    """The latest settings; the defaults (unsaved) while nobody has set any."""
    latest = WarningSettings.objects.order_by("-changed_at", "-id").select_related("changed_by").first()
    return latest if latest is not None else WarningSettings(changed_at=timezone.now())


@dataclass(frozen=True)
class WarningFilters:
    """The warning list's filters, for the page and the API alike (empty: any)."""

    state: str = ""
    kind: str = ""
    unit: OrgUnit | None = None  # warnings owned by this unit or a unit below it


def warnings_for(actor: Actor, filters: WarningFilters | None = None) -> QuerySet[EarlyWarning]:
    """The warnings the actor sees, newest first, filtered, with what their rows show."""
    filters = filters or WarningFilters()
    qs = policy.visible_warnings(actor)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.unit is not None:
        qs = qs.filter(owner_unit__path__startswith=filters.unit.path)
    return qs.select_related("owner_unit", "case", "acknowledged_by", "resolved_by").order_by("-raised_at", "-id")


def open_warning_count(actor: Actor, unit: OrgUnit | None) -> int:
    """The open warnings the actor sees, of ``unit``'s subtree (None: all of theirs): the dashboard's figure."""
    return warnings_for(actor, WarningFilters(state=WarningState.OPEN, unit=unit)).count()
