"""A unit's training record (library/training.py): its page and its files. For the supervisors and administrators of
the unit (no such role: 403; a unit outside their area: 404). A file, like every export, needs the password confirmed
recently (after the checks of who may see it), and is written to the access log."""

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import OrgUnit
from accounts.reauth import reauth_needed
from accounts.requests import AuthenticatedRequest
from cases import policy as case_policy
from cases import services as case_services
from cases.choices import AccessAction
from library import policy, training
from library.forms import Styled


class TrainingForm(Styled):
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=12, required=False)
    start = forms.DateField(
        label=pgettext_lazy("period", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=pgettext_lazy("period", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    material = forms.ChoiceField(
        label=gettext_lazy("Material"),
        required=False,
        choices=[
            ("", gettext_lazy("Typical cases and tips")),
            (training.TYPICAL_CASE, gettext_lazy("Typical cases")),
            (training.TIP, gettext_lazy("Guidance tips")),
        ],
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The last day cannot be before the first."))
        return cleaned


def _require_reader(request: AuthenticatedRequest) -> None:
    if not policy.read_count_paths(request.actor):
        raise PermissionDenied(_("Training records are for the supervisors and administrators of a unit."))


def _filters(request: AuthenticatedRequest, form: TrainingForm) -> training.TrainingFilters:
    """The filters asked for; the unit defaults to the reader's highest, and one outside their area is a 404."""
    data = form.cleaned_data
    code = data.get("unit") or ""
    unit = OrgUnit.objects.filter(code=code).first() if code else training.default_unit(request.actor)
    if unit is None or not training.may_see(request.actor, unit):
        raise Http404(_("No such unit in your area."))
    return training.TrainingFilters(
        unit=unit, start=data.get("start"), end=data.get("end"), material=data.get("material") or ""
    )


@never_cache
@require_GET
def training_page(request: AuthenticatedRequest) -> HttpResponse:
    _require_reader(request)
    form = TrainingForm(request.GET)
    # An invalid filter is left out (its error shown): the record of what was valid is shown all the same.
    status = 200 if form.is_valid() else 400
    filters = _filters(request, form)
    units = [u for u in case_policy.picker_units(request.actor) if training.may_see(request.actor, u)]
    if filters.unit not in units:
        units = sorted([*units, filters.unit], key=lambda u: u.path)
    top = min(u.depth for u in units)
    query = request.GET.urlencode()
    return render(
        request,
        "library/training.html",
        {
            "form": form,
            "filters": filters,
            "units": [(u.code, "\u3000" * (u.depth - top) + u.display_name, u == filters.unit) for u in units],
            "rows": list(training.training_rows(filters, limit=training.PAGE_ROWS)),
            "counts": training.training_counts(filters),
            "page_rows": training.PAGE_ROWS,
            "query": query,
        },
        status=status,
    )


@never_cache
@require_GET
def training_file(request: AuthenticatedRequest, fmt: str) -> HttpResponseBase:
    """The record as CSV or XLSX, in the page's language; logged."""
    if fmt not in training.FORMATS:
        raise Http404(_("No such format."))
    _require_reader(request)
    form = TrainingForm(request.GET)
    if not form.is_valid():
        return HttpResponse(_("The export request was not valid."), status=400, content_type="text/plain")
    filters = _filters(request, form)
    pending = reauth_needed(request, request.get_full_path())
    if pending is not None:
        return pending
    case_services.log_access(
        request=request,
        action=AccessAction.EXPORT,
        object_ref=(
            f"library training unit={filters.unit.code} start={filters.start or ''} end={filters.end or ''} "
            f"material={filters.material or 'all'} format={fmt} lang={get_language() or 'en'}"
        ),
    )
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(training.csv_file(filters), content_type=training.CONTENT_TYPES[fmt])
    else:
        response = HttpResponse(training.xlsx_file(filters), content_type=training.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, training.file_name(filters, fmt)) or "attachment"
    return response
