"""The office's dashboard at ``/`` for supervisors and administrators (``policy.has_dashboard``)."""

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import OrgUnit
from accounts.requests import AuthenticatedRequest
from cases import dashboard, dashboard_panels, policy
from cases.forms import DashboardForm


def _picker(units: QuerySet[OrgUnit], roots: list[OrgUnit], chosen: OrgUnit | None) -> QuerySet[OrgUnit]:
    """What the unit list offers, a few dozen units however wide the subtree: the actor's own units, the chosen
    unit with the units above it (up to the actor's own) and its sub-units."""
    shown = Q(pk__in=[u.pk for u in roots])
    if chosen is not None:
        parts = chosen.path.strip("/").split("/")
        above = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        shown |= Q(path__in=above) | Q(parent=chosen)
    else:
        shown |= Q(parent__in=roots)
    return units.filter(shown)


def dashboard_page(request: AuthenticatedRequest) -> HttpResponse:
    """The counts of the chosen unit's subtree (``?unit=<code>``, one of ``policy.queue_units``; by default the
    actor's own unit); a unit outside them is refused with a message beside the picker and nothing is counted, rather
    than showing a wider subtree."""
    actor = request.actor
    units = policy.queue_units(actor)
    roots = list(policy.queue_roots(actor))
    form = DashboardForm(request.GET or None, units=units, sorts=dashboard.SUB_UNIT_SORTS)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    chosen = data.get("unit") or (roots[0] if len(roots) == 1 else None)
    form.offer(_picker(units, roots, chosen))
    if not form.is_bound and chosen is not None:
        form.fields["unit"].initial = chosen
    if not valid:
        return render(request, "cases/dashboard.html", {"form": form, "board": None}, status=400)
    board = dashboard.build(actor, chosen, sort=data.get("sort") or "name")
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
        {
            "form": form,
            "board": board,
            "columns": columns,
            "unit_code": unit_code,
            "f": board.figures,
            "panels": dashboard_panels.panels(actor, board.unit),
        },
    )
