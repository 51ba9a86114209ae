"""An officer's application: a draft filled in step by step, saved as it goes, then submitted."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import OrgUnit
from accounts.requests import AuthenticatedRequest
from cases import policy, services
from cases.case_page import workspace_for
from cases.choices import SupportStatus
from cases.forms import (
    EvidenceForm,
    FactsForm,
    IncidentForm,
    NarrativeForm,
    OfficerForm,
    SubmitForm,
    SupportRequestForm,
    SuspectForm,
)
from cases.models import InvolvedOfficer, SupportMeasure
from cases.services.support_requests import set_requested_support
from cases.views.common import run_service, visible_case
from cases.views.kept import keep_input, page_is_stale

STEPS: list[tuple[str, Any]] = [
    ("incident", gettext_lazy("Incident")),
    ("narrative", gettext_lazy("What happened")),
    ("facts", gettext_lazy("Facts")),
    ("officers", gettext_lazy("Officers")),
    ("suspects", gettext_lazy("Suspects")),
    ("support", gettext_lazy("Support")),
    ("evidence", gettext_lazy("Evidence")),
    ("review", gettext_lazy("Review and submit")),
]
STEP_NAMES = [name for name, _label in STEPS]
DETAIL_FORMS: dict[str, type[forms.ModelForm]] = {
    "incident": IncidentForm,
    "narrative": NarrativeForm,
    "facts": FactsForm,
}


def filing_units(request: AuthenticatedRequest) -> list[OrgUnit]:
    return list(policy.filing_units(request.actor))


class NewCaseForm(IncidentForm):
    unit = forms.ModelChoiceField(label=gettext_lazy("Your unit"), queryset=OrgUnit.objects.none(), empty_label=None)

    class Meta(IncidentForm.Meta):
        fields = ["unit", *IncidentForm.Meta.fields]


def new_case(request: AuthenticatedRequest) -> HttpResponse:
    units = filing_units(request)
    if not units:
        raise PermissionDenied(_("Only officers file applications."))
    form = NewCaseForm(
        request.POST or None, initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
    )
    form.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            details = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
            holder: dict[str, Any] = {}
            ok, status = run_service(
                form,
                lambda: holder.update(
                    case=services.create_draft_case(by=request.user, unit=form.cleaned_data["unit"], details=details)
                ),
            )
            if ok:
                case = holder["case"]
                messages.success(
                    request,
                    _("Draft %(ref)s saved. It is kept until you submit or withdraw it.") % {"ref": case.reference},
                )
                return redirect("cases:edit", pk=case.pk, step="narrative")
        else:
            status = 400
    return render(request, "cases/filing/new.html", {"form": form, "steps": STEPS, "step": "incident"}, status=status)


def _draft(request: AuthenticatedRequest, pk: int):
    case = visible_case(request, pk)
    if not policy.can_edit_draft(request.actor, case):
        if case.filed_by_id == request.user.pk:
            return None, redirect("cases:detail", pk=case.pk)
        raise PermissionDenied(_("Only the filer can edit a draft."))
    return case, None


def edit_step(request: AuthenticatedRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEP_NAMES:
        raise Http404
    case, leave = _draft(request, pk)
    if leave:
        return leave
    context: dict[str, Any] = {"case": case, "steps": STEPS, "step": step, "next_step": _next(step)}
    status = 200
    if step in DETAIL_FORMS:
        if request.method == "GET":
            form = DETAIL_FORMS[step](instance=case)
        else:
            form = DETAIL_FORMS[step](request.POST, instance=case)
            version = _posted_version(request)
            if form.is_valid():
                changes = {f: form.cleaned_data[f] for f in form.Meta.fields}  # type: ignore[attr-defined]
                ok, status = run_service(
                    form,
                    lambda: services.update_case_details(
                        case=case, by=request.user, expected_version=version, changes=changes
                    ),
                )
                case.refresh_from_db()
                if request.htmx:
                    return render(
                        request,
                        "cases/filing/_autosave.html",
                        {"case": case, "ok": ok, "errors": form.non_field_errors(), "at": timezone.now()},
                    )
                if ok:
                    return redirect("cases:edit", pk=case.pk, step=_next(step) or step)
            else:
                status = 400
                if request.htmx:
                    return render(
                        request, "cases/filing/_autosave.html", {"case": case, "ok": False, "invalid": True}, status=400
                    )
        context["form"] = form
        context["version"] = case.version
    elif step == "officers":
        context["officers"] = InvolvedOfficer.objects.filter(case=case)
        context["form"] = OfficerForm(prefix="officer")
    elif step == "suspects":
        context["suspects"] = case.suspects.all()
        context["form"] = SuspectForm(prefix="suspect")
    elif step == "support":
        requested = list(
            SupportMeasure.objects.filter(case=case, status=SupportStatus.REQUESTED).values_list("kind", flat=True)
        )
        form = SupportRequestForm(request.POST or None, initial={"kinds": requested})  # type: ignore[assignment]
        if request.method == "POST" and form.is_valid():
            ok, status = run_service(
                form,
                lambda: set_requested_support(
                    case=case, by=request.user, kinds=form.cleaned_data["kinds"], notes=form.cleaned_data["notes"]
                ),
            )
            if ok:
                return redirect("cases:edit", pk=case.pk, step="evidence")
        context["form"] = form
    elif step == "evidence":
        context["attachments"] = case.attachments.all()
        context["form"] = EvidenceForm()
    elif step == "review":
        context["ws"] = workspace_for(request.actor, case)
        context["submit_form"] = SubmitForm(initial={"version": case.version}, prefix="submit")
        context["missing"] = [
            label
            for field, label in (
                ("occurred_at", _("time of the incident")),
                ("location", _("location")),
                ("summary", _("summary")),
            )
            if not getattr(case, field)
        ]
    return render(request, "cases/filing/step.html", context, status=status)


def _next(step: str) -> str | None:
    i = STEP_NAMES.index(step)
    return STEP_NAMES[i + 1] if i + 1 < len(STEP_NAMES) else None


def _posted_version(request: AuthenticatedRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@require_POST
def add_party(request: AuthenticatedRequest, pk: int, party: str) -> HttpResponse:
    """Add an involved officer or a suspect: the filer on a draft, a supervisor while the case is open."""
    case = visible_case(request, pk)
    form_class, service, prefix = {
        "officer": (OfficerForm, services.add_involved_officer, "officer"),
        "suspect": (SuspectForm, services.add_suspect, "suspect"),
    }.get(party, (None, None, None))
    if form_class is None:
        raise Http404
    form = form_class(request.POST, prefix=prefix)
    back = _back_url(request, case)
    on_case_page = request.POST.get("step") not in STEP_NAMES
    try:
        if form.is_valid():
            ok, _status = run_service(form, lambda: service(case=case, by=request.user, **form.cleaned_data))  # type: ignore[misc,operator]
            if ok:
                messages.success(request, _("Added."))
                return redirect(back)
    except PermissionDenied:
        if not (on_case_page and page_is_stale(request, case)):
            raise
        return keep_input(request, case, key=party, form=form, stale=True)
    if on_case_page:
        # The case page's panel: the input comes back in it, with what was wrong (cases/views/kept.py).
        return keep_input(request, case, key=party, form=form, stale=page_is_stale(request, case))
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        text = " ".join(str(error) for error in errors)
        messages.error(request, f"{label}: {text}" if label else text)
    return redirect(back)


@require_POST
def remove_officer(request: AuthenticatedRequest, pk: int, officer_id: int) -> HttpResponse:
    case, leave = _draft(request, pk)
    if leave:
        return leave
    officer = get_object_or_404(InvolvedOfficer, pk=officer_id, case=case)
    services.remove_involved_officer(officer=officer, by=request.user)
    messages.success(request, _("Removed %(name)s.") % {"name": officer.name})
    return redirect("cases:edit", pk=case.pk, step="officers")


def _back_url(request: AuthenticatedRequest, case: Any) -> str:
    step = request.POST.get("step")
    if step in STEP_NAMES:
        return reverse("cases:edit", kwargs={"pk": case.pk, "step": step})
    return reverse("cases:detail", kwargs={"pk": case.pk})
