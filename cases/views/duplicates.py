"""The duplicates' pages: link, unlink, merge and unmerge, each a confirmation page that asks for the reason (the
panel on the case page links here; cases/duplicates.py reads, cases/services/duplicates.py writes)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from accounts.requests import AuthenticatedRequest
from cases import policy
from cases.duplicates import merge_in_force
from cases.models import Case
from cases.services import duplicates as services
from cases.views.common import run_service, visible_case


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_lazy("Reason"),
        max_length=services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_lazy("It is recorded on the timeline of both cases."),
    )


def _confirm(
    request: AuthenticatedRequest,
    *,
    case: Case,
    other: Case | None,
    title: str,
    explanation: str,
    button: str,
    call: Callable[[str], Any],
    done: str,
    back_to: Case,
) -> HttpResponse:
    """GET: the confirmation page; POST: the service, then back to the case, or the page again with the refusal next to
    the field it is about (400 invalid, 409 a state the request does not fit)."""
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            ok, status = run_service(form, lambda: call(form.cleaned_data["reason"]))
            if ok:
                messages.success(request, done)
                return redirect("cases:detail", pk=back_to.pk)
            if form.errors.get("__all__") and not form.errors.get("reason"):
                status = 409
    context = {
        "case": case,
        "other": other,
        "pair": [c for c in (case, other) if c is not None],
        "title": title,
        "explanation": explanation,
        "button": button,
        "form": form,
    }
    return render(request, "cases/duplicate_confirm.html", context, status=status)


def _may_link(request: AuthenticatedRequest, *cases: Case) -> None:
    if not all(policy.can_link(request.actor, c) for c in cases):
        raise PermissionDenied(_("You may only link cases of units you supervise."))


@require_http_methods(["GET", "POST"])
def link(request: AuthenticatedRequest, pk: int, other_pk: int) -> HttpResponse:
    case, other = visible_case(request, pk), visible_case(request, other_pk)
    _may_link(request, case, other)
    refs = {"a": case.reference, "b": other.reference}
    return _confirm(
        request,
        case=case,
        other=other,
        title=_("Link %(a)s with %(b)s") % refs,
        explanation=_("Both cases carry on; each page lists the other as related."),
        button=_("Link the cases"),
        call=lambda reason: services.link_cases(by=request.user, case=case, other=other, reason=reason),
        done=_("%(a)s and %(b)s are linked.") % refs,
        back_to=case,
    )


@require_http_methods(["GET", "POST"])
def unlink(request: AuthenticatedRequest, pk: int, other_pk: int) -> HttpResponse:
    case, other = visible_case(request, pk), visible_case(request, other_pk)
    if not all(policy.can_link(request.actor, c) for c in (case, other)):
        raise PermissionDenied(_("You may only unlink cases of units you supervise."))
    refs = {"a": case.reference, "b": other.reference}
    return _confirm(
        request,
        case=case,
        other=other,
        title=_("Remove the link between %(a)s and %(b)s") % refs,
        explanation=_("Both timelines keep that the cases were linked, and why the link was removed."),
        button=_("Remove the link"),
        call=lambda reason: services.unlink_cases(by=request.user, case=case, other=other, reason=reason),
        done=_("The link between %(a)s and %(b)s is removed.") % refs,
        back_to=case,
    )


@require_http_methods(["GET", "POST"])
def merge(request: AuthenticatedRequest, pk: int, into_pk: int) -> HttpResponse:
    case, into = visible_case(request, pk), visible_case(request, into_pk)
    if not (policy.can_merge(request.actor, case) and policy.can_merge(request.actor, into)):
        raise PermissionDenied(_("You may only merge cases of units you supervise."))
    refs = {"a": case.reference, "b": into.reference}
    return _confirm(
        request,
        case=case,
        other=into,
        title=_("Merge %(a)s into %(b)s") % refs,
        explanation=_(
            "%(b)s carries on, with the filer and the officers of %(a)s listed as victims. %(a)s is closed as a record "
            "merged into %(b)s: its timeline, parties and evidence stay on it. An administrator can undo the merge."
        )
        % refs,
        button=_("Merge the cases"),
        call=lambda reason: services.merge_cases(by=request.user, case=case, into=into, reason=reason),
        done=_("%(a)s is merged into %(b)s.") % refs,
        back_to=into,
    )


@require_http_methods(["GET", "POST"])
def unmerge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    merge_record = merge_in_force(case)
    survivor = merge_record.survivor if merge_record is not None else None
    if survivor is None or not policy.can_unmerge(request.actor, case, survivor):
        raise PermissionDenied(_("Only an administrator covering both cases may undo a merge."))
    refs = {"a": case.reference, "b": survivor.reference}
    return _confirm(
        request,
        case=case,
        other=survivor,
        title=_("Undo the merge of %(a)s into %(b)s") % refs,
        explanation=_(
            "%(a)s gets back the stage it had, and %(b)s no longer lists the officers the merge listed on it."
        )
        % refs,
        button=_("Undo the merge"),
        call=lambda reason: services.unmerge_cases(by=request.user, case=case, reason=reason),
        done=_("The merge of %(a)s into %(b)s is undone.") % refs,
        back_to=case,
    )
