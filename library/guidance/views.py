"""The tips' pages. Thin: parse the input, call one service or selector, render. A tip the caller may not read (or
manage, on the editors' pages) is a 404; a step they may not take on one they see a 403, checked before the body is
read. A form sent from a page that is out of date is answered 409 with what was typed still in it."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.requests import AuthenticatedRequest
from library import offline
from library import policy as library_policy
from library.forms import NoteForm, StepForm
from library.guidance import policy, selectors, services
from library.guidance.choices import TIP_COLUMNS, TipState
from library.guidance.forms import NewTipForm, TipFilterForm, TipForm, TipPublishForm
from library.guidance.models import Tip
from library.guidance.workflow import TRANSITIONS
from library.step_views import StepPage, service_errors, take_step

LANGUAGES = [("zh", gettext_lazy("Chinese")), ("en", gettext_lazy("English"))]


# --- reading -------------------------------------------------------------------------------------------------------


def _require_library(request: AuthenticatedRequest) -> None:
    if not library_policy.has_library(request.actor):
        raise PermissionDenied(_("The guidance tips are for members of a unit."))


@never_cache
@require_GET
@offline.offline_copy()
def tips_list(request: AuthenticatedRequest) -> HttpResponse:
    """The tips in force for the reader, the most urgent first: their titles, tags and validity, each opened to read."""
    _require_library(request)
    form = TipFilterForm(request.GET or None)
    filters = selectors.TipFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.TipFilters(**form.cleaned_data)
    tips = selectors.tips_in_force(request.actor, filters=filters)
    response = render(
        request,
        "library/tips.html",
        {
            "form": form,
            "rows": [(tip, selectors.shown(tip), selectors.tags_of(tip)) for tip in tips],
            "filtered": bool(filters.scenario or filters.kind),
            "writes": policy.writes_tips(request.actor),
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )
    return offline.keep_until(response, [tip.valid_until for tip in tips])


@never_cache
@require_GET
@offline.offline_copy()
def tip_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A tip in force for the reader, readable on a phone. Its first opening by this reader is counted."""
    _require_library(request)
    readable = policy.readable_tips(request.actor, selectors.today()).select_related("scope_unit", "unit")
    tip = get_object_or_404(readable, pk=pk)
    services.record_tip_read(tip=tip, by=request.user)
    response = render(
        request,
        "library/tip.html",
        {
            "tip": tip,
            "text": selectors.shown(tip),
            "tags": selectors.tags_of(tip),
            "manages": policy.can_manage(request.actor, tip),
        },
    )
    return offline.keep_until(response, [tip.valid_until])


# --- writing and approving -----------------------------------------------------------------------------------------


def _require_writes(request: AuthenticatedRequest) -> None:
    if not policy.writes_tips(request.actor):
        raise PermissionDenied(str(services.MANAGE_REFUSAL))


@require_GET
def manage_tips(request: AuthenticatedRequest) -> HttpResponse:
    _require_writes(request)
    state = request.GET.get("state", "")
    if state not in TipState.values:
        state = ""
    counts = selectors.managed_counts(request.actor)
    return render(
        request,
        "library/tips_manage.html",
        {
            "tips": selectors.managed_for(request.actor, state)[:200],
            "state": state,
            "states": [(value, label, counts[value]) for value, label in TipState.choices],
        },
    )


@require_http_methods(["GET", "POST"])
def new_tip(request: AuthenticatedRequest) -> HttpResponse:
    """Write a new tip of a unit the writer supervises or administers."""
    _require_writes(request)
    units = policy.writing_units(request.actor)
    if request.method == "GET":
        first = units.first()
        initial = {"unit": first.code if first else "", "valid_from": selectors.today()}
        return render(
            request, "library/tip_new.html", {"form": _with_languages(NewTipForm(initial=initial, units=units))}
        )
    form = NewTipForm(request.POST, units=units)
    if form.is_valid():
        try:
            tip = services.create_tip(by=request.user, unit=form.cleaned_data["unit"], data=form.tip_input())
        except ValidationError as error:
            form.add_service_errors(service_errors(error))
        else:
            messages.success(request, _("Draft saved. Send it for approval when it is ready."))
            return redirect("library:tip-edit", pk=tip.pk)
    return render(request, "library/tip_new.html", {"form": _with_languages(form)}, status=400)


def _with_languages(form: Any) -> Any:
    form.languages = [(language, label, form.language_fields(language)) for language, label in LANGUAGES]
    return form


def _managed(request: AuthenticatedRequest, pk: int) -> Tip:
    _require_writes(request)
    managed = policy.managed_tips(request.actor).select_related(
        "unit", "scope_unit", "author", "last_editor", "approved_by", "replaces"
    )
    return get_object_or_404(managed, pk=pk)


def _edit_page(
    request: AuthenticatedRequest,
    tip: Tip,
    *,
    status: int = 200,
    bound: dict[str, Any] | None = None,
    refusal: str = "",
    check: list[str] | None = None,
) -> HttpResponse:
    actor = request.actor
    bound = bound or {}
    version = {"version": tip.version}
    can = {action: policy.can_take(actor, tip, action) for action in TRANSITIONS}
    form = bound.get("save") or TipForm(initial=TipForm.initial_for(tip))
    context: dict[str, Any] = {
        "tip": tip,
        "can": can,
        "four_eyes": policy.approves(actor, tip) and tip.state == TipState.SUBMITTED and policy.wrote(actor, tip),
        "form": _with_languages(form),
        "text": selectors.shown(tip),
        "tags": selectors.tags_of(tip),
        "check": check or [],
        "refusal": refusal,
        "submit_form": bound.get("submit") or StepForm(initial=version),
        "copy_form": bound.get("copy") or StepForm(initial=version),
        "return_form": bound.get("return") or NoteForm(initial=version, prefix="return"),
        "withdraw_form": bound.get("withdraw") or NoteForm(initial=version, prefix="withdraw"),
        "publish_form": bound.get("publish")
        or TipPublishForm(initial={**version, "scope_unit": tip.unit.code}, units=policy.scope_units(tip)),
        "log": selectors.log_of(tip)[:30],
        "reads": selectors.reads_of(tip) if tip.published_at else None,
        "in_force": policy.can_read(actor, tip, selectors.today()),
    }
    return render(request, "library/tip_edit.html", context, status=status)


@never_cache
@require_GET
def tip_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The editors' page of a tip: its draft (or its text, once sent on), its history and the steps the reader may
    take."""
    return _edit_page(request, _managed(request, pk))


def _form_for(action: str, request: AuthenticatedRequest, tip: Tip) -> Any:
    if action == "save":
        return TipForm(request.POST)
    if action in ("return", "withdraw"):
        return NoteForm(request.POST, prefix=action)
    if action == "publish":
        return TipPublishForm(request.POST, units=policy.scope_units(tip))
    return StepForm(request.POST)


def _call(action: str, tip: Tip, request: AuthenticatedRequest, form: Any) -> Tip:
    by, data = request.user, form.cleaned_data
    version = data["version"]
    if action == "save":
        return services.save_tip(tip=tip, by=by, data=form.tip_input(), expected_version=version)
    if action == "submit":
        return services.submit_tip(tip=tip, by=by, expected_version=version)
    if action == "return":
        return services.return_tip(tip=tip, by=by, note=data["note"], expected_version=version)
    if action == "publish":
        return services.publish_tip(tip=tip, by=by, scope_unit=data["scope_unit"], expected_version=version)
    if action == "withdraw":
        return services.withdraw_tip(tip=tip, by=by, note=data["note"], expected_version=version)
    return services.copy_tip(tip=tip, by=by)


DONE = {
    "save": gettext_lazy("Draft saved."),
    "submit": gettext_lazy("Sent for approval."),
    "return": gettext_lazy("Returned to the editor."),
    "publish": gettext_lazy("Published: every officer of the units chosen is told, and reads it while it is valid."),
    "withdraw": gettext_lazy("Withdrawn: officers and their terminals no longer have it."),
    "copy": gettext_lazy("A new draft written from the tip: publishing it withdraws the one it replaces."),
}


STEPS = StepPage(
    actions=TRANSITIONS,
    refusals=services.REFUSALS,
    may_take=policy.may_take,
    managed=_managed,
    form_for=_form_for,
    call=_call,
    edit_page=_edit_page,
    # What the completeness check found is about the draft, not the step's form: listed above the draft.
    about_the_draft=(*TIP_COLUMNS, "valid_until"),
    done=DONE,
    edit_route="library:tip-edit",
)


@require_POST
def tip_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    """One step of the tips' workflow (library/guidance/workflow.py) from the editors' page."""
    return take_step(STEPS, request, pk, action)
