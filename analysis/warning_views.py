"""The early-warning pages: the list (filters, count, each warning's sentence) and a warning's page with its steps.
Who sees and who acts is analysis/policy.py: no role is 403, a warning or a unit outside the reader's area 404, a step
the reader may not take 403; a step on a page loaded before someone else acted is 409, with the page as it is now
and what was typed, and nothing is written."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.authority import Actor
from accounts.models import OrgUnit
from accounts.requests import AuthenticatedRequest
from analysis import explain, policy, selectors, services
from analysis.choices import WarningKind, WarningState
from analysis.forms import AcknowledgeForm, ResolveForm, StepForm, WarningFilterForm
from analysis.models import EarlyWarning
from cases import policy as case_policy
from cases import selectors as case_selectors
from cases.exceptions import IllegalTransition, StaleVersion
from rightsguard.text import when

PAGE_SIZE = 25


def _reader(request: AuthenticatedRequest) -> Actor:
    actor: Actor = request.actor
    if not policy.has_warnings(actor):
        raise PermissionDenied(_("The early warnings are for administrators and supervisors."))
    return actor


def _unit(actor: Actor, code: str) -> OrgUnit | None:
    """The unit filtered on (None: every unit of the reader's), or 404 when it is outside the reader's area."""
    if not code:
        return None
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None or not case_policy.can_report_on(actor, unit):
        raise Http404(_("No such unit in your area."))
    return unit


def _options(actor: Actor, unit: OrgUnit | None) -> list[tuple[str, str, bool]]:
    """(code, name indented by depth, selected) for the unit filter: the units the analysis's picker offers, and the
    one filtered on."""
    units = list(case_policy.picker_units(actor))
    if unit is not None and unit not in units:
        units = sorted([*units, unit], key=lambda u: u.path)
    top = min((u.depth for u in units), default=0)
    # Ideographic spaces indent in both languages and survive in a <select>, which ignores leading ASCII spaces.
    return [(u.code, "\u3000" * (u.depth - top) + u.display_name, u == unit) for u in units]


@never_cache
@require_GET
def warnings_page(request: AuthenticatedRequest) -> HttpResponse:
    actor = _reader(request)
    form = WarningFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request, "analysis/warnings.html", {"form": form, "unit_options": _options(actor, None)}, status=400
        )
    data = form.cleaned_data if form.is_bound else {}
    unit = _unit(actor, data.get("unit") or "")
    filters = selectors.WarningFilters(state=data.get("state") or "", kind=data.get("kind") or "", unit=unit)
    paginator = Paginator(selectors.warnings_for(actor, filters), PAGE_SIZE)
    page = paginator.get_page(data.get("page") or 1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "unit": unit,
        "unit_options": _options(actor, unit),
        "count": paginator.count,
        "page": page,
        "rows": [(w, explain.explanation(w.kind, w.figures, w.owner_unit.display_name)) for w in page],
        "query": query.urlencode(),
    }
    return render(request, "analysis/warnings.html", context)


def _warning(request: AuthenticatedRequest, pk: int) -> EarlyWarning:
    visible = policy.visible_warnings(_reader(request)).select_related(
        "owner_unit", "case", "acknowledged_by", "resolved_by"
    )
    return get_object_or_404(visible, pk=pk)


def figure_rows(warning: EarlyWarning) -> list[tuple[str, str]]:
    """The numbers behind a rise, as the page's table shows them; none for a repeat warning (its sentence says all)."""
    f = warning.figures
    if warning.kind not in (WarningKind.UNIT_RISE, WarningKind.SCENARIO_RISE):
        return []
    window, baseline = f.get("window", {}), f.get("baseline", {})
    return [
        (_("Window"), f"{when(window.get('start'))} – {when(window.get('end'))}"),
        (_("Cases in the window"), str(f.get("observed", ""))),
        (
            _("Baseline"),
            _("%(start)s – %(end)s: %(cases)d cases")
            % {
                "start": when(baseline.get("start")),
                "end": when(baseline.get("end")),
                "cases": int(baseline.get("cases", 0)),
            },
        ),
        (_("Expected in the window"), f"{float(f.get('expected', 0)):.2f}"),
        (_("Control limit"), str(f.get("limit", ""))),
        (
            _("p-value"),
            _("%(p)s (level %(alpha)s)")
            % {"p": explain.p_value_text(float(f.get("p_value", 0))), "alpha": f.get("alpha", "")},
        ),
    ]


@dataclass(frozen=True)
class Stale:
    """Why a step was refused (the warning changed, or is past that step), and what had been typed."""

    message: str
    typed: str


def _detail(
    request: AuthenticatedRequest,
    warning: EarlyWarning,
    *,
    status: int = 200,
    stale: Stale | None = None,
    bound: StepForm | None = None,
) -> HttpResponse:
    actor = request.actor
    initial = {"version": warning.version}
    earlier = (
        case_selectors.earlier_cases_against_police(actor, warning.case)
        if warning.kind == WarningKind.REPEAT_ATTACKER and warning.case is not None
        else []
    )
    context: dict[str, Any] = {
        "warning": warning,
        "sentence": explain.explanation(warning.kind, warning.figures, warning.owner_unit.display_name),
        "figure_rows": figure_rows(warning),
        "earlier": earlier,
        "can_act": policy.can_act(actor, warning),
        "stale": stale,
        "acknowledge_form": bound if isinstance(bound, AcknowledgeForm) else AcknowledgeForm(initial=initial),
        "resolve_form": bound if isinstance(bound, ResolveForm) else ResolveForm(initial=initial),
        "states": WarningState,
    }
    return render(request, "analysis/warning.html", context, status=status)


@never_cache
@require_GET
def warning_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail(request, _warning(request, pk))


def _step(request: AuthenticatedRequest, pk: int, form_class: type[StepForm], step: Any, done: str) -> HttpResponse:
    """Check who may act before reading the form; call the step with the version the page showed; back to the page,
    or the page again with the form's errors (400), or as it is now with the refusal and what was typed (409)."""
    warning = _warning(request, pk)
    if not policy.can_act(request.actor, warning):
        raise PermissionDenied(str(services.ACT_REFUSAL))
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(request, warning, status=400, bound=form)
    try:
        step(
            warning=warning,
            by=request.user,
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except (StaleVersion, IllegalTransition) as error:
        stale = Stale(message=" ".join(error.messages), typed=form.cleaned_data["note"])
        return _detail(request, _warning(request, pk), status=409, stale=stale)
    except ValidationError as error:
        said = error.message_dict.get("note", error.messages) if hasattr(error, "error_dict") else error.messages
        for message in said:
            form.add_error("note", message)
        return _detail(request, warning, status=400, bound=form)
    messages.success(request, done)
    return redirect("analysis:warning", pk=warning.pk)


@require_POST
def warning_acknowledge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _step(request, pk, AcknowledgeForm, services.acknowledge_warning, _("The warning is acknowledged."))


@require_POST
def warning_resolve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _step(request, pk, ResolveForm, services.resolve_warning, _("The warning is resolved."))
