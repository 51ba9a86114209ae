"""Retention pages: what the daily job will seal and anonymise in a month (administrators, with a CSV of it), and a
case's legal hold (an administrator of its unit places or lifts it, with a reason)."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.requests import AuthenticatedRequest
from cases import policy, retention
from cases.choices import AccessAction
from cases.reports.cells import csv_blocks
from cases.services import retention as retention_services
from cases.services.audit import log_access
from cases.views.common import attach_errors, visible_case


class MonthForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("Month (YYYY-MM)"), required=False, max_length=7)

    def clean_month(self) -> object:
        text = self.cleaned_data["month"]
        if not text:
            return retention.next_month()
        try:
            return retention.parse_month(text)
        except ValueError as exc:
            raise ValidationError(_("Give the month as YYYY-MM."), code="invalid") from exc


class HoldForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def _require_plan_reader(request: AuthenticatedRequest) -> None:
    if not policy.can_read_retention_plan(request.actor):
        raise PermissionDenied(_("Only administrators read the retention plan."))


@never_cache
@require_GET
def plan(request: AuthenticatedRequest) -> HttpResponse:
    """The cases the retention job will seal or anonymise in the month, in the subtrees the user administers."""
    _require_plan_reader(request)
    form = MonthForm(request.GET)
    if not form.is_valid():
        return render(request, "cases/retention_plan.html", {"form": form, "rows": [], "month": None}, status=400)
    month = form.cleaned_data["month"]
    rows = retention.retention_plan(month, paths=policy.retention_paths(request.actor))
    context = {"form": form, "rows": rows, "month": month, "periods": retention.periods().values()}
    return render(request, "cases/retention_plan.html", context)


@never_cache
@require_GET
def plan_csv(request: AuthenticatedRequest) -> HttpResponse | StreamingHttpResponse:
    """The plan as CSV (every cell through the injection guard); each download is in the access log."""
    _require_plan_reader(request)
    form = MonthForm(request.GET)
    if not form.is_valid():
        return HttpResponse(_("Give the month as YYYY-MM."), status=400, content_type="text/plain")
    month = form.cleaned_data["month"]
    rows = retention.retention_plan(month, paths=policy.retention_paths(request.actor))
    log_access(request=request, action=AccessAction.EXPORT, object_ref=f"retention-plan:{month:%Y-%m}")
    response = StreamingHttpResponse(csv_blocks(retention.plan_csv_rows(rows)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="rightsguard-retention-{month:%Y-%m}.csv"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def legal_hold(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A case's legal hold: the form to place it or lift it, for an administrator of the case's unit."""
    case = visible_case(request, pk)
    if not policy.can_hold(request.actor, case):
        raise PermissionDenied(_("Only an administrator of the case's unit places or lifts a hold."))
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        change = retention_services.lift_legal_hold if case.legal_hold else retention_services.place_legal_hold
        try:
            change(case=case, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return redirect("cases:legal-hold", pk=case.pk)
    if request.method == "GET":
        log_access(request=request, action=AccessAction.VIEW, case=case, object_ref=case.reference)
    status = 400 if request.method == "POST" else 200
    return render(request, "cases/legal_hold.html", {"case": case, "form": form}, status=status)
