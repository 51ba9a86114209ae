"""Yearly reports: the page with charts, exports (inline or in the background) and their downloads.

Only holders of an admin or supervisor membership see reports (403 otherwise), for units inside those
memberships' subtrees (404 otherwise, like any object out of scope). Every export is in the access log.
"""

import tempfile
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.authority import Actor
from accounts.models import OrgUnit
from cases.choices import AccessAction
from cases.models import ExportStatus, ReportExport, ReportFormat
from cases.reports import scope
from cases.reports.detail import stream_detail_csv
from cases.reports.layout import Table, display_rows, format_value, report_charts, report_tables, unit_label
from cases.reports.services import (
    CONTENT_TYPES,
    download_name,
    export_file,
    record_export,
    render_export,
    request_export,
    runs_in_background,
)
from cases.reports.yearly import YearlyReport, report_timezone, unit_ref, yearly_report
from cases.views.common import actor_of

FIRST_YEAR = 2015  # the regulation dates from 2019; older records were migrated in as far back as 2015
RECENT_EXPORTS = 8


def _this_year() -> int:
    return timezone.localtime(timezone.now(), report_timezone()).year


class ReportQueryForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=12, required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False)

    def clean_year(self) -> int:
        year = self.cleaned_data.get("year") or _this_year()
        if not FIRST_YEAR <= year <= _this_year():
            raise forms.ValidationError(
                _("Choose a year from %(first)s to %(last)s.") % {"first": FIRST_YEAR, "last": _this_year()}
            )
        return year


class ExportForm(ReportQueryForm):
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=ReportFormat.choices)


def _require_reporter(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    if not scope.can_report(actor):
        raise PermissionDenied(_("Reports are for administrators and supervisors."))
    return actor


def _unit(actor: Actor, code: str) -> OrgUnit:
    """The unit asked for (default: the user's highest), or 404 when it is outside the user's memberships."""
    unit = scope.report_unit(actor, code) if code else scope.default_report_unit(actor)
    if unit is None:
        raise Http404(_("No such unit in your area."))
    return unit


def _no_store(response: HttpResponse) -> HttpResponse:
    # Report figures and files are not to linger in shared or browser caches.
    response["Cache-Control"] = "no-store"
    return response


def _source_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


KPIS = ("cases", "officers", "injured", "deaths", "convicted", "findings", "support", "closure_median")


def _kpis(tables: Any) -> list[dict[str, Any]]:
    """The headline figures shown as cards above the charts."""
    overview = {row.key: row for row in tables[0].rows}
    picked = [overview[key] for key in KPIS]
    return [
        {
            "label": row.label,
            "value": format_value(row.current, row.format),
            "previous": format_value(row.previous, row.format),
            "pct": row.change_pct,
        }
        for row in picked
    ]


def _chart_data(charts: Any) -> dict[str, Any]:
    return {
        "charts": [
            {
                "key": c.key,
                "title": c.title,
                "kind": c.kind,
                "labels": list(c.labels),
                "series": [{"name": s.name, "values": list(s.values)} for s in c.series],
            }
            for c in charts
        ]
    }


@never_cache
@require_GET
def reports_page(request: HttpRequest) -> HttpResponse:
    actor = _require_reporter(request)
    form = ReportQueryForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        context = {"form": form, "unit_options": _unit_options(actor, _unit(actor, "")), "years": _years()}
        return render(request, "reports/page.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {"unit": "", "year": _this_year()}
    unit = _unit(actor, data["unit"])
    report = yearly_report(unit=unit, year=data["year"])
    tables = report_tables(report)
    charts = report_charts(report, tables)
    context = {
        "form": form,
        "report": report,
        "unit": unit,
        "unit_label": unit_label(report.unit),
        "unit_options": _unit_options(actor, unit),
        "years": _years(),
        "kpis": _kpis(tables),
        "tables": [(table, _page_rows(table, report)) for table in tables],
        "chart_data": _chart_data(charts),
        "charts": charts,
        "formats": ReportFormat.choices,
        "exports": _recent_exports(request),
        "background": runs_in_background(unit=unit, year=report.year),
    }
    return _no_store(render(request, "reports/page.html", context))


def _unit_options(actor: Actor, current: OrgUnit) -> list[tuple[str, str, bool]]:
    """(code, label indented by depth, selected) for the picker; the current unit is always offered."""
    units = list(scope.picker_units(actor))
    if current not in units:
        units = sorted([*units, current], key=lambda u: u.path)
    top = min(u.depth for u in units)
    return [(u.code, "\u3000" * (u.depth - top) + unit_label(unit_ref(u)), u == current) for u in units]


def _page_rows(table: Table, report: YearlyReport) -> list[dict[str, Any]]:
    """A table's rows as text; each sub-unit links to its own report (a drill-down)."""
    links = [""] * len(table.rows)
    if table.key == "by_subunit":
        base = reverse("cases:reports")
        links = [
            "" if s.own else f"{base}?{urlencode({'unit': s.unit.code, 'year': report.year})}"
            for s in report.cases.by_subunit
        ]
    return [
        {"label": row.label, "current": current, "previous": previous, "change": change, "pct": pct, "href": href}
        for (row, current, previous, change, pct), href in zip(display_rows(table), links, strict=True)
    ]


def _years() -> list[int]:
    return list(range(_this_year(), FIRST_YEAR - 1, -1))


def _recent_exports(request: HttpRequest) -> list[ReportExport]:
    return list(
        ReportExport.objects.filter(requested_by=request.user)
        .select_related("unit")
        .order_by("-created_at", "-id")[:RECENT_EXPORTS]
    )


@never_cache
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """Small scopes get the file in the response; big ones are queued and the page shows their progress."""
    actor = _require_reporter(request)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The export request was not valid."), status=400, content_type="text/plain")
    unit = _unit(actor, form.cleaned_data["unit"])
    year, fmt = form.cleaned_data["year"], form.cleaned_data["format"]
    language = translation.get_language() or "en"
    if runs_in_background(unit=unit, year=year):
        request_export(
            user=request.user, unit=unit, year=year, fmt=fmt, language=language, source_ip=_source_ip(request)
        )
        return redirect(f"{reverse('cases:reports')}?unit={unit.code}&year={year}#exports")
    record_export(
        user=request.user, unit=unit, year=year, fmt=fmt, language=language, via="web", source_ip=_source_ip(request)
    )
    name = download_name(unit=unit, year=year, fmt=fmt)
    if fmt == ReportFormat.DETAIL:
        response: HttpResponse = StreamingHttpResponse(
            stream_detail_csv(unit=unit, year=year), content_type=CONTENT_TYPES[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return _no_store(response)
    # Summary files are small; past a few MB they would go to disk rather than stay in the worker's memory.
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    render_export(unit=unit, year=year, fmt=fmt, out=buffer)
    buffer.seek(0)
    return _no_store(FileResponse(buffer, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt]))


def _own_export(request: HttpRequest, pk: int) -> ReportExport:
    """The user's own export, if they still cover its unit; anyone else's is a 404."""
    actor = _require_reporter(request)
    job = get_object_or_404(ReportExport.objects.select_related("unit"), pk=pk, requested_by=request.user)
    if not scope.covers_unit(actor, job.unit):
        raise Http404
    return job


@never_cache
@require_GET
def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One export's row; htmx polls it every two seconds until the file is ready or the export failed."""
    job = _own_export(request, pk)
    template = "reports/_export.html" if request.htmx else "reports/export.html"
    return _no_store(render(request, template, {"job": job}))


@never_cache
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_export(request, pk)
    path = export_file(job)
    if job.status != ExportStatus.DONE or not path.exists():
        raise Http404(_("This export is not ready."))
    record_export(
        user=request.user,
        unit=job.unit,
        year=job.year,
        fmt=job.format,
        language=job.language,
        via=f"download:{job.pk}",
        source_ip=_source_ip(request),
        action=AccessAction.DOWNLOAD,
    )
    name = download_name(unit=job.unit, year=job.year, fmt=job.format)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=CONTENT_TYPES[job.format])
    return _no_store(response)
