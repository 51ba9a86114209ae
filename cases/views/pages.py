"""Home, the notification inbox and the rule catalogue."""

from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.requests import AuthenticatedRequest
from cases import policy, selectors
from cases.models import CaseEvent
from cases.rules.catalogue import rule_catalogue
from cases.services.audit import log_denied
from cases.views.dashboard import dashboard_page


def home(request: AuthenticatedRequest) -> HttpResponse:
    """Supervisors and administrators land on the dashboard; officers see their own applications."""
    if policy.has_dashboard(request.actor):
        return dashboard_page(request)
    # Only what the table shows: a case row is wide (narrative, facts), and an officer may have filed hundreds.
    cases = list(
        selectors.cases_filed_by(request.user).only(
            "pk", "reference", "status", "kind", "summary", "stage_due_at", "unit", "created_at"
        )[:100]
    )
    latest = dict(
        CaseEvent.objects.filter(case__in=cases).values("case").annotate(last=Max("id")).values_list("case", "last")
    )
    events = {
        e.case_id: e
        for e in CaseEvent.objects.filter(pk__in=latest.values()).only("case_id", "kind", "action", "data", "at")
    }
    rows = [(case, events.get(case.pk)) for case in cases]
    return render(request, "cases/home.html", {"rows": rows, "can_file": policy.can_file(request.actor)})


def rules(request: AuthenticatedRequest) -> HttpResponse:
    """The rule catalogue: every rule the flags come from, read from the rules themselves."""
    if not policy.can_read_rule_catalogue(request.actor):
        raise PermissionDenied(_("The rule catalogue is for members of a unit."))
    return render(request, "cases/rules.html", {"catalogue": rule_catalogue()})


def permission_denied(request: AuthenticatedRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page; every refusal is written to the access log."""
    log_denied(request=request, object_ref=request.path, outcome="forbidden")
    return render(request, "403.html", {"exception": exception}, status=403)
