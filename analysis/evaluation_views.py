"""The case analysis and evaluation report pages: the list (filters, "start a report"), a report's page (its figures,
the lessons and measures, the steps) and its PDF and XLSX files. Who sees and who acts is analysis/policy.py: no role
is 403, a report or a unit outside the reader's area 404, a step the reader may not take 403; a step on a page loaded
before someone else changed the report is 409, with the page as it is now and what was typed, and nothing is
written. Downloads ask for the password first, as the analysis page's (analysis/views.py)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.reauth import REAUTH_AT, reauth_redirect, recently_reauthenticated
from accounts.requests import AuthenticatedRequest
from analysis import evaluation, evaluation_files, policy, services
from analysis.choices import EvaluationState
from analysis.forms import (
    ApproveForm,
    EvaluationFilterForm,
    LessonsForm,
    ReturnForm,
    StartEvaluationForm,
    VersionedForm,
)
from analysis.models import EvaluationReport
from cases import policy as case_policy
from cases import services as case_services
from cases.choices import AccessAction
from cases.exceptions import IllegalTransition, StaleVersion

PAGE_SIZE = 25
# The download asked for before re-authenticating, resumed on the report's page just after it (once).
PENDING_FILE = "analysis.pending_evaluation_file"
RELATED = ("unit", "created_by", "written_by", "submitted_by", "approved_by", "returned_by")


def _reader(request: AuthenticatedRequest) -> Actor:
    actor: Actor = request.actor
    if not policy.has_evaluations(actor):
        raise PermissionDenied(_("The evaluation reports are for administrators and supervisors."))
    return actor


def _unit(actor: Actor, code: str) -> OrgUnit:
    """The unit named by its code, or 404 when it is outside the reader's area."""
    unit = OrgUnit.objects.filter(code=code).first() if code else None
    if unit is None or not case_policy.can_report_on(actor, unit):
        raise Http404(_("No such unit in your area."))
    return unit


def _options(units: list[OrgUnit], selected: OrgUnit | None) -> list[tuple[str, str, bool]]:
    top = min((u.depth for u in units), default=0)
    # Ideographic spaces indent in both languages and survive in a <select>, which ignores leading ASCII spaces.
    return [(u.code, "\u3000" * (u.depth - top) + u.display_name, u == selected) for u in units]


def _list_context(actor: Actor, form: EvaluationFilterForm, unit: OrgUnit | None) -> dict[str, Any]:
    readable = list(case_policy.picker_units(actor))
    if unit is not None and unit not in readable:
        readable = sorted([*readable, unit], key=lambda u: u.path)
    writable = [u for u in readable if policy.can_write_evaluation(actor, u)]
    this_year = timezone.localdate().year
    return {
        "form": form,
        "unit_options": _options(readable, unit),
        "start_options": _options(writable, unit if unit in writable else None),
        "start_form": StartEvaluationForm(initial={"year": this_year - 1, "quarter": 0}),
        "years": list(range(this_year, services.EVALUATION_FIRST_YEAR - 1, -1)),
    }


@never_cache
@require_GET
def evaluations_page(request: AuthenticatedRequest) -> HttpResponse:
    actor = _reader(request)
    form = EvaluationFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "analysis/evaluations.html", _list_context(actor, form, None), status=400)
    data = form.cleaned_data if form.is_bound else {}
    unit = _unit(actor, data["unit"]) if data.get("unit") else None
    reports = policy.visible_evaluations(actor).select_related(*RELATED)
    if unit is not None:
        reports = reports.filter(unit__path__startswith=unit.path)
    if data.get("year"):
        reports = reports.filter(year=data["year"])
    if data.get("state"):
        reports = reports.filter(state=data["state"])
    paginator = Paginator(reports.order_by("-year", "quarter", "unit__path", "-id"), PAGE_SIZE)
    page = paginator.get_page(data.get("page") or 1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **_list_context(actor, form, unit),
        "unit": unit,
        "count": paginator.count,
        "page": page,
        "rows": [(r, evaluation.Period(r.year, r.quarter).label()) for r in page],
        "query": query.urlencode(),
    }
    return render(request, "analysis/evaluations.html", context)


@require_POST
def evaluation_start(request: AuthenticatedRequest) -> HttpResponse:
    """Start the unit's report for the period, or open the one it has: a unit has one report per period."""
    actor = _reader(request)
    form = StartEvaluationForm(request.POST)
    if not form.is_valid():
        return render(request, "analysis/evaluations.html", _start_refused(actor, form), status=400)
    unit = _unit(actor, form.cleaned_data["unit"])
    if not policy.can_write_evaluation(actor, unit):
        raise PermissionDenied(str(services.WRITE_REFUSAL))
    try:
        report, created = services.start_evaluation(
            unit=unit, year=form.cleaned_data["year"], quarter=form.cleaned_data["quarter"], by=request.user
        )
    except ValidationError as error:
        for field, said in error.message_dict.items():
            form.add_error(field if field in form.fields else None, said)
        return render(request, "analysis/evaluations.html", _start_refused(actor, form), status=400)
    if created:
        messages.success(request, _("The report is started as a draft."))
    else:
        messages.info(request, _("This unit has a report for that period already: here it is."))
    return redirect("analysis:evaluation", pk=report.pk)


def _start_refused(actor: Actor, form: StartEvaluationForm) -> dict[str, Any]:
    context = _list_context(actor, EvaluationFilterForm(), None)
    context.update(start_form=form, count=None, rows=[], page=None, query="")
    return context


def _report(request: AuthenticatedRequest, pk: int) -> EvaluationReport:
    visible = policy.visible_evaluations(_reader(request)).select_related(*RELATED)
    return get_object_or_404(visible, pk=pk)


def reading_of(report: EvaluationReport, actor: Actor) -> evaluation.Reading:
    """The report's figures as the reader may read them: as approved, or live before."""
    data = (
        report.figures
        if report.state == EvaluationState.APPROVED
        else evaluation.compute(unit=report.unit, year=report.year, quarter=report.quarter)
    )
    return evaluation.read(data, actor, report.unit)


@dataclass(frozen=True)
class Stale:
    """Why a step was refused (the report changed, or is past that step), and what had been typed."""

    message: str
    typed: str


def _resumed_file(request: AuthenticatedRequest, report: EvaluationReport) -> str:
    """The format of the file this reader asked for on this report just before re-authenticating, once; only just
    before, so a download abandoned at the password page is not resumed when the password is confirmed later for
    something else. "" when there is none."""
    pending = request.session.get(PENDING_FILE)
    if not isinstance(pending, dict) or pending.get("report") != report.pk:
        return ""
    if not recently_reauthenticated(request):
        return ""
    del request.session[PENDING_FILE]
    asked, confirmed = pending.get("at"), request.session.get(REAUTH_AT)
    if not isinstance(asked, int | float) or not isinstance(confirmed, int | float):
        return ""
    if not 0 <= confirmed - asked <= settings.RIGHTSGUARD_REAUTH_SECONDS:
        return ""
    fmt = pending.get("format")
    return fmt if fmt in evaluation_files.FORMATS else ""


def _detail(
    request: AuthenticatedRequest,
    report: EvaluationReport,
    *,
    status: int = 200,
    stale: Stale | None = None,
    bound: VersionedForm | None = None,
) -> HttpResponse:
    actor = request.actor
    initial = {"version": report.version}
    reading = reading_of(report, actor)
    context: dict[str, Any] = {
        "report": report,
        "period": reading.period.label(),
        **evaluation_files.page_context(report, reading),
        "can_write": policy.can_write_evaluation(actor, report.unit),
        "can_decide": policy.can_approve_evaluation(actor, report),
        "states": EvaluationState,
        "stale": stale,
        "lessons_form": bound
        if isinstance(bound, LessonsForm)
        else LessonsForm(initial={**initial, "lessons": report.lessons}),
        "approve_form": bound if isinstance(bound, ApproveForm) else ApproveForm(initial=initial),
        "return_form": bound if isinstance(bound, ReturnForm) else ReturnForm(initial=initial),
        "resume_format": _resumed_file(request, report),
        "password_first": not recently_reauthenticated(request),
        "reauth_minutes": max(1, settings.RIGHTSGUARD_REAUTH_SECONDS // 60),
    }
    return render(request, "analysis/evaluation.html", context, status=status)


@never_cache
@require_GET
def evaluation_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail(request, _report(request, pk))


def _step(
    request: AuthenticatedRequest, pk: int, form_class: type[VersionedForm], done: str, *, submit: bool = False
) -> HttpResponse:
    """Check who may act before reading the form; take the step with the version the page showed; back to the page,
    or the page again with the form's errors (400), or as it is now with the refusal and what was typed (409)."""
    report = _report(request, pk)
    actor = request.actor
    deciding = form_class in (ApproveForm, ReturnForm)
    if not policy.can_write_evaluation(actor, report.unit):
        raise PermissionDenied(str(services.WRITE_REFUSAL))
    if deciding and not policy.can_approve_evaluation(actor, report):
        raise PermissionDenied(str(services.FOUR_EYES_REFUSAL))
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(request, report, status=400, bound=form)
    data, version = form.cleaned_data, form.cleaned_data["version"]
    typed = data.get("lessons", data.get("note", ""))
    try:
        if form_class is ApproveForm:
            services.approve_evaluation(report=report, by=request.user, expected_version=version)
        elif form_class is ReturnForm:
            services.return_evaluation(report=report, by=request.user, note=data["note"], expected_version=version)
        elif submit:
            services.submit_evaluation(
                report=report, by=request.user, lessons=data["lessons"], expected_version=version
            )
        else:
            services.save_lessons(report=report, by=request.user, lessons=data["lessons"], expected_version=version)
    except (StaleVersion, IllegalTransition) as error:
        stale = Stale(message=" ".join(error.messages), typed=typed)
        return _detail(request, _report(request, pk), status=409, stale=stale)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, said in error.message_dict.items():
                form.add_error(field if field in form.fields else None, said)
        else:
            form.add_error(None, error.messages)
        return _detail(request, report, status=400, bound=form)
    messages.success(request, done)
    return redirect("analysis:evaluation", pk=report.pk)


@require_POST
def evaluation_lessons(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _step(request, pk, LessonsForm, _("The lessons and measures are saved."))


@require_POST
def evaluation_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _step(request, pk, LessonsForm, _("The report is submitted for approval."), submit=True)


@require_POST
def evaluation_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _step(request, pk, ApproveForm, _("The report is approved; its figures are kept as they are now."))


@require_POST
def evaluation_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _step(request, pk, ReturnForm, _("The report is returned to its writers."))


@never_cache
@require_GET
def evaluation_file(request: AuthenticatedRequest, pk: int, fmt: str) -> HttpResponse:
    """The report as a PDF or XLSX file in the page's language; logged. Like every export, it needs the password
    confirmed recently (after the checks of who may see it); after the password the reader is back on the report's
    page, which fetches the file."""
    if fmt not in evaluation_files.FORMATS:
        raise Http404(_("No such format."))
    report = _report(request, pk)
    if not recently_reauthenticated(request):
        request.session[PENDING_FILE] = {"report": report.pk, "format": fmt, "at": timezone.now().timestamp()}
        return reauth_redirect(request, reverse("analysis:evaluation", args=[report.pk]))
    reading = reading_of(report, request.actor)
    data = evaluation_files.render_file(report, reading, fmt)
    case_services.log_access(
        request=request,
        action=AccessAction.EXPORT,
        object_ref=(
            f"evaluation report={report.pk} unit={report.unit.code} year={report.year} quarter={report.quarter} "
            f"state={report.state} format={fmt} lang={get_language() or 'en'}"
        ),
    )
    response = HttpResponse(data, content_type=evaluation_files.CONTENT_TYPES[fmt])
    # Named by the report's id only (evaluation_files.file_name): nothing typed by anyone reaches the header.
    response["Content-Disposition"] = content_disposition_header(True, evaluation_files.file_name(report, fmt)) or ""
    return response
