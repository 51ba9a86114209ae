"""The analysis pages: a unit's figures for a year, with charts and tables whose figures link to the queue, and their
CSV and XLSX files. For administrators and supervisors, on the units they may report on (cases/policy.py: no role is
403, a unit outside their area 404), as the yearly report."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.reauth import REAUTH_AT, reauth_redirect, recently_reauthenticated
from accounts.requests import AuthenticatedRequest
from analysis import figures, tables
from cases import policy
from cases import services as case_services
from cases.choices import AccessAction
from cases.reports.grid import linked_grid
from cases.reports.layout import Chart, Series, as_of_label
from cases.reports.page import chart_data, unit_options

FIRST_YEAR = 2015  # as the yearly report: records were migrated in as far back as 2015
# The download asked for before re-authenticating, resumed on the analysis page just after it (once).
PENDING_FILE = "analysis.pending_file"


def _this_year() -> int:
    return timezone.localdate().year


class AnalysisForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=12, required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False)
    table = forms.CharField(max_length=20, required=False)

    def clean_year(self) -> int:
        year = self.cleaned_data.get("year")
        if year is None:  # not given; a 0 is a year given, and refused below
            year = _this_year()
        if not FIRST_YEAR <= year <= _this_year():
            raise forms.ValidationError(
                _("Choose a year from %(first)s to %(last)s.") % {"first": FIRST_YEAR, "last": _this_year()}
            )
        return year


def _reader(request: AuthenticatedRequest) -> Actor:
    actor: Actor = request.actor
    if not policy.can_report(actor):
        raise PermissionDenied(_("The analysis is for administrators and supervisors."))
    return actor


def _default_unit(actor: Actor) -> OrgUnit | None:
    paths = policy.report_paths(actor)
    return OrgUnit.objects.filter(path__in=paths).order_by("depth", "path").first() if paths else None


def _unit(actor: Actor, code: str) -> OrgUnit:
    """The unit asked for (default: the reader's highest), or 404 when it is outside the reader's area."""
    if not code:
        unit = _default_unit(actor)
    else:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is not None and not policy.can_report_on(actor, unit):
            unit = None
    if unit is None:
        raise Http404(_("No such unit in your area."))
    return unit


def _years() -> list[int]:
    return list(range(_this_year(), FIRST_YEAR - 1, -1))


def _charts(a: figures.Analysis) -> tuple[Chart, ...]:
    months = tuple(str(m) for m in range(1, 13))
    units = [r for r in a.rows if r.cases_per_100 is not None]
    charts = [
        Chart(
            key="months",
            title=_("Cases by month of submission"),
            kind="bar",
            labels=months,
            series=(
                Series(str(a.year), tuple(float(a.months[m][0]) for m in range(1, 13))),
                Series(str(a.previous_year), tuple(float(a.months[m][1]) for m in range(1, 13))),
            ),
            table="months",
            rows=tuple(range(12)),
            span=(0, 12),
        ),
        Chart(
            key="years",
            title=_("Cases and officers injured by year"),
            kind="line",
            labels=tuple(str(y) for y in sorted(a.years)),
            series=(
                Series(_("Cases"), tuple(float(a.years[y][0]) for y in sorted(a.years))),
                Series(_("Officers injured"), tuple(float(a.years[y][1]) for y in sorted(a.years))),
            ),
            table="years",
            rows=tuple(range(len(a.years))),
            span=(0, len(a.years)),
        ),
    ]
    if units:
        charts.append(
            Chart(
                key="rates",
                title=_("Cases per 100 officers, by sub-unit"),
                kind="hbar",
                labels=tuple(tables.unit_title(r.unit) for r in units if r.unit is not None),
                series=(Series(str(a.year), tuple(float(r.cases_per_100 or 0) for r in units)),),
                table="units",
                rows=tuple(range(len(units))),
                span=(0, len(units)),
            )
        )
    return tuple(charts)


def _resumed_file(request: AuthenticatedRequest, unit: OrgUnit, year: int) -> tuple[str, str]:
    """The (format, table) of the download this reader asked for on this page just before re-authenticating, once:
    only just before, so a download abandoned at the password page is not resumed when the password is confirmed
    later for something else. ("", "") when there is none."""
    pending = request.session.get(PENDING_FILE)
    if not isinstance(pending, dict) or (pending.get("unit"), pending.get("year")) != (unit.code, year):
        return "", ""
    if not recently_reauthenticated(request):
        return "", ""
    del request.session[PENDING_FILE]
    asked, confirmed = pending.get("at"), request.session.get(REAUTH_AT)
    if not isinstance(asked, int | float) or not isinstance(confirmed, int | float):
        return "", ""
    if not 0 <= confirmed - asked <= settings.RIGHTSGUARD_REAUTH_SECONDS:
        return "", ""
    fmt, table = pending.get("format"), pending.get("table") or ""
    if fmt not in tables.FORMATS or (fmt == "csv" and table not in tables.TABLE_KEYS):
        return "", ""
    return fmt, table


def _with_precision(data: dict[str, Any]) -> dict[str, Any]:
    """The rates chart's axis reads hundredths (a rate per 100 officers is usually below one); counts stay whole."""
    for chart in data["charts"]:
        if chart["key"] == "rates":
            chart["precision"] = 2
    return data


def _heat_levels(a: figures.Analysis) -> dict[tuple[int, int], int]:
    """Each heat map cell's shade, 0 (none) to 5 (the busiest hour of the week)."""
    top = max(a.heat.values(), default=0)
    return {cell: (0 if not n or not top else 1 + (4 * n) // top) for cell, n in a.heat.items()}


@never_cache
@require_GET
def analysis_page(request: AuthenticatedRequest) -> HttpResponse:
    actor = _reader(request)
    form = AnalysisForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        unit = _unit(actor, "")
        refused = {
            "form": form,
            "unit_options": unit_options(list(policy.picker_units(actor)), unit),
            "years": _years(),
        }
        return render(request, "analysis/page.html", refused, status=400)
    data = form.cleaned_data if form.is_bound else {"unit": "", "year": _this_year()}
    unit = _unit(actor, data["unit"])
    a = figures.analyse(unit=unit, year=data["year"])
    charts = _charts(a)
    grids = tables.grids(a)
    heat = next(g for g in grids if g.key == "heat")
    levels = _heat_levels(a)
    heat_rows = [
        (row, [(text, link, levels.get((day, h), 0)) for h, (text, _f, link) in enumerate(cells[:-1])], cells[-1])
        for day, (row, cells) in enumerate(linked_grid(heat), start=1)
    ]
    context: dict[str, Any] = {
        "form": form,
        "analysis": a,
        "unit": unit,
        "unit_title": tables.unit_title(unit),
        "unit_options": unit_options(list(policy.picker_units(actor)), unit),
        "years": _years(),
        "grids": [(grid, linked_grid(grid)) for grid in grids if grid.key != "heat"],
        "heat": heat,
        "heat_rows": heat_rows,
        "charts": charts,
        "chart_data": _with_precision(chart_data(charts)),
        "kpis": [
            (_("Cases %(year)s") % {"year": a.year}, a.total.cases),
            (_("Cases %(year)s") % {"year": a.previous_year}, a.total.cases_before),
            (_("Officers injured %(year)s") % {"year": a.year}, a.total.injured),
            (_("Cases per 100 officers"), a.total.cases_per_100),
        ],
        "resume": _resumed_file(request, unit, a.year),
        "figures_as_of": as_of_label(a.figures_as_of),
        "password_first": not recently_reauthenticated(request),
        "reauth_minutes": max(1, settings.RIGHTSGUARD_REAUTH_SECONDS // 60),
    }
    return render(request, "analysis/page.html", context)


@never_cache
@require_GET
def analysis_file(request: AuthenticatedRequest, fmt: str) -> HttpResponse:
    """A table as CSV (``table``: its key) or every table as XLSX, in the page's language; logged. Like every export,
    it needs the password confirmed recently (after the checks of who may see it)."""
    if fmt not in tables.FORMATS:
        raise Http404(_("No such format."))
    actor = _reader(request)
    form = AnalysisForm(request.GET)
    if not form.is_valid():
        return HttpResponse(_("The export request was not valid."), status=400, content_type="text/plain")
    unit = _unit(actor, form.cleaned_data["unit"])
    year, key = form.cleaned_data["year"], form.cleaned_data["table"] or ""
    if fmt == "csv" and key not in tables.TABLE_KEYS:
        raise Http404(_("No such table."))
    if not recently_reauthenticated(request):
        asked = {"unit": unit.code, "year": year, "format": fmt, "table": key, "at": timezone.now().timestamp()}
        request.session[PENDING_FILE] = asked
        return reauth_redirect(request, tables.analysis_link(unit, year))
    a = figures.analyse(unit=unit, year=year)
    data = tables.render_file(a, fmt, key if fmt == "csv" else "")
    case_services.log_access(
        request=request,
        action=AccessAction.EXPORT,
        object_ref=(
            f"analysis unit={unit.code} year={year} format={fmt} table={key or 'all'} lang={get_language() or 'en'}"
        ),
    )
    response = HttpResponse(data, content_type=tables.CONTENT_TYPES[fmt])
    # The unit's code is an administrator's text: quoted or percent-encoded (RFC 6266), never written raw into a header.
    name = tables.file_name(a, fmt, key if fmt == "csv" else "")
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response
