"""The people of a case — involved officers and suspects — changed and removed (with an undo) from the filing wizard
and from the case page, for whoever ``policy.can_edit_parties`` / ``can_remove_parties`` allows."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.requests import AuthenticatedRequest
from cases import policy, services
from cases.exceptions import StaleVersion
from cases.forms import OfficerEditForm, SuspectEditForm
from cases.models import Case, InvolvedOfficer, Suspect
from cases.views.common import run_service, visible_case
from cases.views.undo import pending_undo, remember_removal, removal, undo_key
from cases.views.workspace import render_workspace

PARTIES: dict[str, tuple[type[InvolvedOfficer] | type[Suspect], Any]] = {
    "officer": (InvolvedOfficer, OfficerEditForm),
    "suspect": (Suspect, SuspectEditForm),
}
# The wizard steps a change may come from and go back to (cases/views/filing.py); anything else goes to the case page.
WIZARD_STEPS = ("officers", "suspects", "review")


def back_url(request: AuthenticatedRequest, case: Case) -> str:
    step = request.POST.get("step") or request.GET.get("step")
    if step in WIZARD_STEPS and policy.can_edit_draft(request.actor, case):
        return reverse("cases:edit", kwargs={"pk": case.pk, "step": step})
    return reverse("cases:detail", kwargs={"pk": case.pk})


def _posted_version(request: AuthenticatedRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _party(case: Case, party: str, item_id: int) -> InvolvedOfficer | Suspect:
    if party not in PARTIES:
        raise Http404
    model = PARTIES[party][0]
    item: InvolvedOfficer | Suspect = get_object_or_404(model, pk=item_id, case=case)  # type: ignore[assignment]
    return item


@never_cache
def edit_party(request: AuthenticatedRequest, pk: int, party: str, item_id: int) -> HttpResponse:
    """Change a listed officer or suspect; the filer's own entry keeps its link to their account."""
    case = visible_case(request, pk)
    item = _party(case, party, item_id)
    if not policy.can_edit_parties(request.actor, case):
        raise PermissionDenied(_("You cannot change the people of this case now."))
    form_class = PARTIES[party][1]
    form = form_class(request.POST or None, instance=item, prefix=party)
    status = 200
    version = case.version
    if request.method == "POST":
        version = _posted_version(request) or case.version
        status = 400
        if form.is_valid():
            ok, status = run_service(form, lambda: _update(request, item, version, form.changes()))
            if ok:
                item.refresh_from_db()
                messages.success(request, _("Saved the changes to %(name)s.") % {"name": item})
                return redirect(back_url(request, case))
            if status == 409:
                case.refresh_from_db()
                version = case.version
    context = {
        "case": case,
        "party": party,
        "item": item,
        "form": form,
        "version": version,
        "step": request.POST.get("step") or request.GET.get("step") or "",
        "back": back_url(request, case),
        "is_filer_entry": party == "officer" and item.user_id is not None and item.user_id == case.filed_by_id,  # type: ignore[union-attr]
    }
    return render(request, "cases/party_edit.html", context, status=status)


def _update(
    request: AuthenticatedRequest, item: InvolvedOfficer | Suspect, version: int, changes: dict[str, Any]
) -> InvolvedOfficer | Suspect:
    if isinstance(item, InvolvedOfficer):
        return services.update_involved_officer(officer=item, by=request.user, expected_version=version, **changes)
    return services.update_suspect(suspect=item, by=request.user, expected_version=version, **changes)


@require_POST
def remove_party(request: AuthenticatedRequest, pk: int, party: str, item_id: int) -> HttpResponse:
    """Remove a listed officer or suspect (the page asks first); the removal can be undone for a while."""
    case = visible_case(request, pk)
    item = _party(case, party, item_id)
    back = back_url(request, case)
    version = _posted_version(request)
    try:
        if isinstance(item, InvolvedOfficer):
            removed = services.remove_involved_officer(officer=item, by=request.user, expected_version=version)
        else:
            removed = services.remove_suspect(suspect=item, by=request.user, expected_version=version)
    except (StaleVersion, ValidationError) as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect(back)
    remember_removal(request, case, removed)
    messages.success(request, _("Removed %(name)s.") % {"name": removed.name})
    return redirect(back)


@require_POST
def undo_removal(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """List again the party this user removed last on this case."""
    case = visible_case(request, pk)
    if not policy.can_remove_parties(request.actor, case):
        raise PermissionDenied(_("You cannot change the people of this case now."))
    back = back_url(request, case)
    found = removal(request, case) if pending_undo(request, case) else None
    if found is None:
        messages.error(request, _("There is no removal to undo here any more."))
        if back.startswith(reverse("cases:detail", kwargs={"pk": case.pk})):
            # Nothing was done: the case page again, as a refusal, with the message.
            return render_workspace(request, case, status=400)
        return redirect(back)
    removed, _at = found
    try:
        services.undo_removal(case=case, by=request.user, removed=removed)
    except ValidationError as refused:
        # Not possible now is not possible later: the banner offers it no more.
        request.session.pop(undo_key(case), None)
        messages.error(request, " ".join(refused.messages))
        return redirect(back)
    request.session.pop(undo_key(case), None)
    messages.success(request, _("%(name)s is listed again.") % {"name": removed.name})
    return redirect(back)
