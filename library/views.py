"""The library's pages. Thin: parse the input, call one service or selector, render. A write-up the caller may not read
(or manage, on the editors' pages) is a 404; a step they may not take on one they see a 403, checked before the body
is read. A form sent from a page that is out of date is answered 409 with what was typed still in it."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.requests import AuthenticatedRequest
from cases import policy as case_policy
from library import policy, selectors, services
from library.choices import CHECKED, TEXT_FIELDS, WriteUpState
from library.forms import FeedbackForm, NoteForm, ProposeForm, PublishForm, ReaderFilterForm, StepForm, WriteUpForm
from library.models import WriteUp
from library.step_views import StepPage, take_step
from library.workflow import TRANSITIONS

# --- reading -------------------------------------------------------------------------------------------------------


def _require_library(request: AuthenticatedRequest) -> None:
    if not policy.has_library(request.actor):
        raise PermissionDenied(_("The typical cases are for members of a unit."))


@require_GET
def library_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_library(request)
    actor = request.actor
    form = ReaderFilterForm(request.GET or None, articles=selectors.article_choices(actor))
    filters = selectors.ReaderFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.ReaderFilters(**form.cleaned_data)
    page = request.GET.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    start = (number - 1) * selectors.PAGE
    found = list(selectors.library_for(actor, filters)[start : start + selectors.PAGE + 1])
    rows = [(w, selectors.shown(w.published_version)) for w in found[: selectors.PAGE] if w.published_version]
    return render(
        request,
        "library/list.html",
        {
            "form": form,
            "rows": rows,
            "page": number,
            "more": len(found) > selectors.PAGE,
            "query": _without_page(request),
            "manages": policy.manages_library(actor),
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


def _without_page(request: AuthenticatedRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _readable(request: AuthenticatedRequest, pk: int) -> WriteUp:
    _require_library(request)
    readable = policy.readable_writeups(request.actor).select_related("published_version", "case", "unit", "scope_unit")
    return get_object_or_404(readable, pk=pk)


def _reader_page(request: AuthenticatedRequest, writeup: WriteUp, *, status: int = 200) -> HttpResponse:
    actor = request.actor
    version = writeup.published_version
    if version is None:
        raise Http404
    answer = selectors.feedback_of(actor, version)
    return render(
        request,
        "library/detail.html",
        {
            "writeup": writeup,
            "version": version,
            "text": selectors.shown(version),
            "rules": selectors.rule_references(version.rule_codes),
            "answer": answer,
            "read_counts": selectors.read_counts(actor, writeup),
            "manages": policy.can_manage(actor, writeup),
            "feedback_counts": selectors.feedback_counts(version) if policy.can_manage(actor, writeup) else None,
            "source": writeup.case if policy.sees_source(actor, writeup.case) else None,
        },
        status=status,
    )


@never_cache
@require_GET
def library_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A published typical case, readable on a phone. Its first opening by this reader is counted."""
    writeup = _readable(request, pk)
    services.record_read(writeup=writeup, by=request.user)
    return _reader_page(request, writeup)


@require_POST
def feedback(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    writeup = _readable(request, pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Answer yes or no."))
        return _reader_page(request, writeup, status=400)
    services.give_feedback(writeup=writeup, by=request.user, useful=form.cleaned_data["useful"])
    messages.success(request, _("Thank you: your answer is recorded."))
    return redirect("library:detail", pk=writeup.pk)


# --- proposing and editing -----------------------------------------------------------------------------------------


@require_POST
def propose(request: AuthenticatedRequest, case_pk: int) -> HttpResponse:
    """Propose a closed case (from its page) as a typical case, and go to the write-up."""
    case = get_object_or_404(case_policy.visible_cases(request.actor), pk=case_pk)
    if not policy.can_propose(request.actor, case):
        raise PermissionDenied(str(services.PROPOSE_REFUSAL))
    form = ProposeForm(request.POST)
    if form.is_valid():
        try:
            writeup = services.propose_case(case=case, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Proposed as a typical case. Draft the write-up here."))
            return redirect("library:edit", pk=writeup.pk)
    existing = WriteUp.objects.filter(case=case).first()
    if existing is not None and policy.can_manage(request.actor, existing):
        return redirect("library:edit", pk=existing.pk)
    return redirect("cases:detail", pk=case.pk)


def _require_manages(request: AuthenticatedRequest) -> None:
    if not policy.manages_library(request.actor):
        raise PermissionDenied(_("Only supervisors and administrators edit and approve typical cases."))


@require_GET
def manage_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_manages(request)
    state = request.GET.get("state", "")
    if state not in WriteUpState.values:
        state = ""
    counts = selectors.managed_counts(request.actor)
    return render(
        request,
        "library/manage.html",
        {
            "writeups": selectors.managed_for(request.actor, state)[:200],
            "state": state,
            "states": [(value, label, counts[value]) for value, label in WriteUpState.choices],
        },
    )


def _managed(request: AuthenticatedRequest, pk: int) -> WriteUp:
    _require_manages(request)
    managed = policy.managed_writeups(request.actor).select_related(
        "unit", "case", "published_version", "scope_unit", "last_editor", "proposed_by"
    )
    return get_object_or_404(managed, pk=pk)


def _edit_page(
    request: AuthenticatedRequest,
    writeup: WriteUp,
    *,
    status: int = 200,
    bound: dict[str, Any] | None = None,
    refusal: str = "",
    check: list[str] | None = None,
) -> HttpResponse:
    actor = request.actor
    bound = bound or {}
    known = selectors.known_parties(writeup)
    basis = selectors.legal_basis_choices(writeup)
    version = {"version": writeup.version}
    can = {action: policy.can_take(actor, writeup, action) for action in TRANSITIONS}
    form = bound.get("save") or WriteUpForm(initial=WriteUpForm.initial_for(writeup), basis=basis)
    languages = [("zh", _("Chinese")), ("en", _("English"))]
    context: dict[str, Any] = {
        "writeup": writeup,
        "case": writeup.case,
        "sees_case": policy.sees_source(actor, writeup.case),
        "can": can,
        "four_eyes": policy.approves(actor, writeup)
        and policy.state_allows(writeup, "publish")
        and policy.is_last_editor(actor, writeup),
        "form": form,
        "language_fields": [(language, label, form.language_fields(language)) for language, label in languages],
        "proposals": [
            (name, services.field_label(name), proposal)
            for name, proposal in selectors.proposals(writeup, known).items()
        ],
        "leftovers": {
            services.field_label(name): services.kinds_text(kinds)
            for name, kinds in selectors.leftovers(writeup, known).items()
        },
        "check": check or [],
        "step_form": StepForm(initial=version),
        "anonymise_form": bound.get("anonymise") or StepForm(initial=version),
        "submit_form": bound.get("submit") or StepForm(initial=version),
        "revise_form": bound.get("revise") or StepForm(initial=version),
        "return_form": bound.get("return") or NoteForm(initial=version, prefix="return"),
        "withdraw_form": bound.get("withdraw") or NoteForm(initial=version, prefix="withdraw"),
        "decline_form": bound.get("decline") or NoteForm(initial=version, prefix="decline"),
        "publish_form": bound.get("publish")
        or PublishForm(initial={**version, "scope_unit": writeup.unit.code}, units=policy.scope_units(writeup)),
        "versions": selectors.versions_of(writeup),
        "log": selectors.log_of(writeup)[:30],
        "refusal": refusal,
        "rules": selectors.rule_references(writeup.rule_codes),
        "text_fields": TEXT_FIELDS,
    }
    return render(request, "library/edit.html", context, status=status)


@never_cache
@require_GET
def edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The editors' page of a write-up: its working copy, the proposed replacements, the check, its history, and the
    steps the reader may take."""
    return _edit_page(request, _managed(request, pk))


def _form_for(action: str, request: AuthenticatedRequest, writeup: WriteUp) -> Any:
    if action == "save":
        return WriteUpForm(request.POST, basis=selectors.legal_basis_choices(writeup))
    if action in ("return", "withdraw", "decline"):
        return NoteForm(request.POST, prefix=action)
    if action == "publish":
        return PublishForm(request.POST, units=policy.scope_units(writeup))
    return StepForm(request.POST)


def _call(action: str, writeup: WriteUp, request: AuthenticatedRequest, form: Any) -> WriteUp:
    by, data = request.user, dict(form.cleaned_data)
    version = data["version"]
    if action == "save":
        return services.save_writeup(
            writeup=writeup,
            by=by,
            texts=services.texts_of(data),
            rule_codes=data["rule_codes"],
            articles=data["articles"],
            expected_version=version,
        )
    if action == "anonymise":
        fields = request.POST.getlist("field") or None
        return services.accept_anonymisation(writeup=writeup, by=by, fields=fields, expected_version=version)
    if action == "submit":
        return services.submit_writeup(writeup=writeup, by=by, expected_version=version)
    if action == "return":
        return services.return_writeup(writeup=writeup, by=by, note=data["note"], expected_version=version)
    if action == "publish":
        return services.publish_writeup(writeup=writeup, by=by, scope_unit=data["scope_unit"], expected_version=version)
    if action == "withdraw":
        return services.withdraw_writeup(writeup=writeup, by=by, note=data["note"], expected_version=version)
    if action == "decline":
        return services.decline_writeup(writeup=writeup, by=by, note=data["note"], expected_version=version)
    return services.revise_writeup(writeup=writeup, by=by, expected_version=version)


DONE = {
    "save": gettext_lazy("Draft saved."),
    "anonymise": gettext_lazy("The proposed replacements are in the draft: read it through."),
    "submit": gettext_lazy("Sent for approval."),
    "return": gettext_lazy("Returned to the editor."),
    "publish": gettext_lazy("Published: officers of the units chosen read it now."),
    "withdraw": gettext_lazy("Withdrawn: officers no longer read it."),
    "revise": gettext_lazy("Revision started: officers read the published version until the revision is published."),
    "decline": gettext_lazy("Proposal declined: its proposer and editors are told why."),
}


STEPS = StepPage(
    actions=TRANSITIONS,
    refusals=services.REFUSALS,
    may_take=policy.may_take,
    managed=_managed,
    form_for=_form_for,
    call=_call,
    edit_page=_edit_page,
    # What the check (or the completeness of the texts) found is about the draft: listed above it.
    about_the_draft=CHECKED,
    done=DONE,
    edit_route="library:edit",
)


@require_POST
def writeup_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    """One step of the workflow (library/workflow.py) from the editors' page."""
    return take_step(STEPS, request, pk, action)
