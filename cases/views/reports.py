"""Yearly reports: the page with charts, exports (inline or in the background) and their downloads.

Only holders of an admin or supervisor membership see reports (403 otherwise), for units inside those
memberships' subtrees (404 otherwise, like any object out of scope): the rule is the case policy's
(cases/policy.py). Every export is in the access log, and nothing here may be cached (``never_cache`` sends
``Cache-Control: no-store``): the figures are confidential. Exports and downloads (not the page) need a recent
re-authentication (accounts/reauth.py): the page says so beforehand, and after the password the user is back on the
page with the export they asked for under way (the choice is kept in the session, never in a replayable URL). A PDF
takes seconds to draw, so it is always prepared in the background, with its progress on the page; the file the user
just asked for downloads by itself once ready."""

import tempfile

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.reauth import reauth_redirect, recently_reauthenticated
from accounts.requests import AuthenticatedRequest
from cases import policy
from cases.choices import AccessAction
from cases.models import ExportStatus, ReportExport, ReportFormat
from cases.reports import files, page, scope
from cases.reports.detail import stream_detail_csv
from cases.reports.services import (
    CONTENT_TYPES,
    download_name,
    export_file,
    record_export,
    render_export,
    request_export,
    runs_in_background,
)
from cases.reports.yearly import report_timezone, yearly_report
from cases.views.common import open_prepared

# The export asked for before re-authenticating, resumed on the report page after it; the background export that
# downloads by itself when ready.
PENDING_EXPORT = "cases.pending_export"
AUTO_DOWNLOAD = "cases.auto_download"
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


def _require_reporter(request: AuthenticatedRequest) -> Actor:
    actor: Actor = request.actor
    if not policy.can_report(actor):
        raise PermissionDenied(_("Reports are for administrators and supervisors."))
    return actor


def _unit(actor: Actor, code: str) -> OrgUnit:
    """The unit asked for (default: the user's highest), or 404 when it is outside the user's memberships."""
    unit = scope.report_unit(actor, code) if code else scope.default_report_unit(actor)
    if unit is None:
        raise Http404(_("No such unit in your area."))
    return unit


def _source_ip(request: AuthenticatedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@never_cache
@require_GET
def reports_page(request: AuthenticatedRequest) -> HttpResponse:
    actor = _require_reporter(request)
    form = ReportQueryForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        options = page.unit_options(list(policy.picker_units(actor)), _unit(actor, ""))
        return render(
            request, "reports/page.html", {"form": form, "unit_options": options, "years": _years()}, status=400
        )
    data = form.cleaned_data if form.is_bound else {"unit": "", "year": _this_year()}
    unit = _unit(actor, data["unit"])
    report = yearly_report(unit=unit, year=data["year"])
    exports = _recent_exports(request)
    auto_download = _auto_download(request)
    for job in exports:
        if job.pk == auto_download:
            _auto_download(request, job)
    context = {
        **page.report_context(report),
        "form": form,
        "unit": unit,
        "unit_options": page.unit_options(list(policy.picker_units(actor)), unit),
        "years": _years(),
        "formats": ReportFormat.choices,
        "exports": exports,
        "background": runs_in_background(unit=unit, year=report.year),
        "password_first": not recently_reauthenticated(request),
        "reauth_minutes": max(1, settings.RIGHTSGUARD_REAUTH_SECONDS // 60),
        "resume_format": _resumed_export(request, unit=unit, year=report.year),
        "auto_download": auto_download,
    }
    return render(request, "reports/page.html", context)


def _resumed_export(request: AuthenticatedRequest, *, unit: OrgUnit, year: int) -> str:
    """The format of the export this user asked for just before re-authenticating, for this page, once."""
    pending = request.session.get(PENDING_EXPORT)
    if not isinstance(pending, dict) or (pending.get("unit"), pending.get("year")) != (unit.code, year):
        return ""
    if not recently_reauthenticated(request):
        return ""
    del request.session[PENDING_EXPORT]
    fmt = pending.get("format")
    return fmt if fmt in ReportFormat.values else ""


def _auto_download(request: AuthenticatedRequest, job: ReportExport | None = None) -> int | None:
    """The background export to download as soon as it is ready; forgotten once it is."""
    pk = request.session.get(AUTO_DOWNLOAD)
    if not isinstance(pk, int):
        return None
    if (
        job is not None
        and job.pk == pk
        and job.status in (ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED)
    ):
        del request.session[AUTO_DOWNLOAD]
    return pk


def _back_to(unit: OrgUnit, year: int) -> str:
    return f"{reverse('cases:reports')}?unit={unit.code}&year={year}#exports"


def in_background(*, unit: OrgUnit, year: int, fmt: str) -> bool:
    """Big scopes, and every PDF (drawing its charts takes seconds), are prepared by a task with progress."""
    return fmt == ReportFormat.PDF or runs_in_background(unit=unit, year=year)


def _years() -> list[int]:
    return list(range(_this_year(), FIRST_YEAR - 1, -1))


def _recent_exports(request: AuthenticatedRequest) -> list[ReportExport]:
    """The user's latest exports that they may still open (those of units they no longer cover are left out)."""
    return list(
        policy.visible_exports(request.actor).select_related("unit").order_by("-created_at", "-id")[:RECENT_EXPORTS]
    )


@never_cache
@require_POST
def export(request: AuthenticatedRequest) -> HttpResponseBase:
    """Small scopes get the file in the response; big ones are queued and the page shows their progress."""
    actor = _require_reporter(request)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The export request was not valid."), status=400, content_type="text/plain")
    unit = _unit(actor, form.cleaned_data["unit"])
    year, fmt = form.cleaned_data["year"], form.cleaned_data["format"]
    if not recently_reauthenticated(request):
        # A POST cannot be replayed by a redirect: the choice waits in the session, and the report page resumes it
        # once the password is confirmed.
        request.session[PENDING_EXPORT] = {"unit": unit.code, "year": year, "format": fmt}
        return reauth_redirect(request, _back_to(unit, year))
    language = translation.get_language() or "en"
    if in_background(unit=unit, year=year, fmt=fmt):
        job = request_export(
            user=request.user, unit=unit, year=year, fmt=fmt, language=language, source_ip=_source_ip(request)
        )
        request.session[AUTO_DOWNLOAD] = job.pk
        messages.info(
            request,
            _("Your %(format)s file is being prepared; its progress shows below, and it downloads when ready.")
            % {"format": ReportFormat(fmt).label},
        )
        return redirect(_back_to(unit, year))
    record_export(
        user=request.user, unit=unit, year=year, fmt=fmt, language=language, via="web", source_ip=_source_ip(request)
    )
    name = download_name(unit=unit, year=year, fmt=fmt)
    if fmt == ReportFormat.DETAIL:
        response = StreamingHttpResponse(stream_detail_csv(unit=unit, year=year), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    # Summary files are small; past a few MB they would go to disk rather than stay in the worker's memory.
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    render_export(unit=unit, year=year, fmt=fmt, out=buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt])


def _own_export(request: AuthenticatedRequest, pk: int) -> ReportExport:
    """The user's own export, if they still cover its unit; anyone else's is a 404."""
    actor = _require_reporter(request)
    return get_object_or_404(policy.visible_exports(actor).select_related("unit"), pk=pk)


@never_cache
@require_GET
def export_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One export's row; htmx polls it every two seconds until the file is ready or the export failed."""
    job = _own_export(request, pk)
    template = "reports/_export.html" if request.htmx else "reports/export.html"
    return render(request, template, {"job": job, "auto_download": _auto_download(request, job)})


@never_cache
@require_GET
def export_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    job = _own_export(request, pk)
    if not recently_reauthenticated(request):
        # Back to the report page, where the file downloads by itself once the password is confirmed.
        request.session[AUTO_DOWNLOAD] = job.pk
        return reauth_redirect(request, _back_to(job.unit, job.year))
    handle = open_prepared(request, job, export_file(job))
    if isinstance(handle, HttpResponse):
        return handle
    try:
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
    except BaseException:
        handle.close()
        raise
    name = download_name(unit=job.unit, year=job.year, fmt=job.format)
    return files.download_response(handle, filename=name, content_type=CONTENT_TYPES[ReportFormat(job.format)])
