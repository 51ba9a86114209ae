"""The office's dashboard at ``/`` for supervisors and administrators (``policy.has_dashboard``)."""

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import OrgLevel
from accounts.requests import AuthenticatedRequest
from cases import dashboard, policy
from cases.forms import DashboardForm


def dashboard_page(request: AuthenticatedRequest) -> HttpResponse:
    """The counts of the chosen unit's subtree (``?unit=<code>``, one of ``policy.queue_units``); a unit outside
    them is refused with a message beside the picker and nothing is counted, rather than showing a wider subtree."""
    actor = request.actor
    units = policy.queue_units(actor)
    roots = policy.queue_roots(actor)
    # The picker lists units down to county level and the actor's own units; stations are reached from their
    # county's sub-unit table (any unit of the subtree is accepted).
    picker = units.filter(~Q(level=OrgLevel.STATION) | Q(pk__in=roots))
    form = DashboardForm(request.GET or None, units=units, picker=picker, sorts=dashboard.SUB_UNIT_SORTS)
    if form.is_bound and not form.is_valid():
        return render(request, "cases/dashboard.html", {"form": form, "board": None}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    board = dashboard.build(actor, data.get("unit"), sort=data.get("sort") or "name")
    sort_field, descending = board.sort.lstrip("-"), board.sort.startswith("-")
    columns = [
        {
            "key": key,
            "label": label,
            "aria_sort": ("descending" if descending else "ascending") if key == sort_field else "none",
            # A click sorts by the column, descending first for figures; a second click reverses the order.
            "next": (key if descending else f"-{key}") if key == sort_field else (key if key == "name" else f"-{key}"),
        }
        for key, label in dashboard.SUB_UNIT_COLUMNS
    ]
    unit_code = board.unit.code if board.unit else ""
    return render(
        request,
        "cases/dashboard.html",
        {"form": form, "board": board, "columns": columns, "unit_code": unit_code, "f": board.figures},
    )
