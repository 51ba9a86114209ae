"""The dashboard's count of open early warnings (registered in analysis/apps.py, shown by cases/dashboard_panels.py)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.authority import Actor
from accounts.models import OrgUnit
from analysis import policy, selectors
from analysis.choices import WarningState
from cases.dashboard_panels import Panel


def open_warnings_panel(actor: Actor, unit: OrgUnit | None) -> Panel | None:
    """The open warnings the actor sees over ``unit``'s subtree (None: all of theirs), linked to their list."""
    if not policy.has_warnings(actor):
        return None
    count = selectors.open_warning_count(actor, unit)
    query = {"state": WarningState.OPEN, **({"unit": unit.code} if unit is not None else {})}
    return Panel(
        key="open_warnings",
        title=_("Open early warnings"),
        count=count,
        url=f"{reverse('analysis:warnings')}?{urlencode(query)}",
        label=ngettext("%(n)d open early warning. Show it.", "%(n)d open early warnings. Show them.", count)
        % {"n": count},
    )
