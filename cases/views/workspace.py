"""The case page: what happened, the timeline, and the forms for what this user may do next."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import OrgUnit
from accounts.reauth import reauth_redirect
from accounts.requests import AuthenticatedRequest
from cases import case_page_links, policy, sensitive, services
from cases.case_page import flags_to_override, workspace_for
from cases.choices import AccessAction
from cases.duplicates import duplicate_panel
from cases.forms import (
    AssignForm,
    DispositionForm,
    EvidenceForm,
    ExtendDeadlineForm,
    FaultFindingForm,
    FindingForm,
    NoteForm,
    OfficerForm,
    PauseForm,
    SupervisorFactsForm,
    SupportAnswerForm,
    SupportMeasureForm,
    SuspectForm,
    TransferForm,
    VersionForm,
    answerable,
)
from cases.models import Case, SupportMeasure, Suspect
from cases.overrides import OVERRIDING_ACTIONS
from cases.reports.case_sheet import open_case_sheet
from cases.rules.presentation import FlagView
from cases.services.audit import log_access
from cases.sla import extendable
from cases.views.common import run_service, visible_case
from cases.views.kept import Kept, keep_input, kept_notice, page_is_stale, take_kept
from cases.views.undo import pending_undo
from cases.workflow import Transition
from cases.workflow_actions import WORKFLOW_ACTIONS


def _referral_units(request: AuthenticatedRequest) -> QuerySet[OrgUnit]:
    return policy.supervised_units(request.actor)


def _action_form(
    request: AuthenticatedRequest,
    case: Case,
    action: str,
    data: Any = None,
    *,
    flags: list[FlagView] | None = None,
) -> VersionForm:
    kwargs: dict[str, Any] = {"prefix": action}
    if action == "refer":
        kwargs["units"] = _referral_units(request)
    if action in OVERRIDING_ACTIONS:
        # The flags open now, also when the form comes back with the user's input: one raised since the page was
        # loaded gets its fields and its message.
        kwargs["flags"] = flags_to_override(case) if flags is None else flags
    return WORKFLOW_ACTIONS[action].form(data, initial={"version": case.version}, **kwargs)


# The case page's forms by key (the panel they sit in), for the titles the page gives them.
HANDLING_TITLES = {
    "assign": _lazy("Assign"),
    "pause": _lazy("Pause the clock"),
    "resume": _lazy("Resume the clock"),
    "extend": _lazy("Extend the time limit"),
    "support": _lazy("Record a support measure"),
    "finding": _lazy("Raise a supervision finding"),
    "fault": _lazy("Record a police-fault finding"),
    "suspect": _lazy("Add a suspect"),
    "officer": _lazy("Add an involved officer"),
    "facts": _lazy("Correct the facts"),
    "note": _lazy("Add a note"),
    "evidence": _lazy("Documents and evidence"),
}


def _suspect_of(case: Case, key: str) -> Suspect | None:
    """The suspect of a per-suspect form key (``disposition-12``, ``transfer-12``), read afresh."""
    _kind, _sep, pk = key.partition("-")
    return Suspect.objects.filter(case=case, pk=int(pk)).first() if pk.isdigit() else None


def _measure_of(case: Case, key: str) -> SupportMeasure | None:
    """The support measure of an answer form's key (``answer-7``), read afresh."""
    kind, _sep, pk = key.partition("-")
    return SupportMeasure.objects.filter(case=case, pk=int(pk)).first() if kind == "answer" and pk.isdigit() else None


def form_title(case: Case, key: str) -> str:
    """The title the case page gives the form ``key``."""
    if key in WORKFLOW_ACTIONS:
        return str(WORKFLOW_ACTIONS[key].transition.label)
    if key in HANDLING_TITLES:
        return str(HANDLING_TITLES[key])
    measure = _measure_of(case, key)
    if measure is not None:
        return _("Answer to the support request: %(kind)s") % {"kind": measure.get_kind_display()}
    suspect = _suspect_of(case, key)
    if key.startswith("disposition-"):
        return _("Disposition: %(name)s") % {"name": suspect}
    if key.startswith("transfer-"):
        return _("Transfer for administrative punishment: %(name)s") % {"name": suspect}
    return key


def form_for(request: AuthenticatedRequest, case: Case, key: str, data: Any) -> forms.BaseForm | None:
    """The case page's form ``key`` bound to ``data``; the model forms get fresh copies, so checking the input never
    changes what the page shows."""
    if key in WORKFLOW_ACTIONS:
        return _action_form(request, case, key, data)
    simple: dict[str, Any] = {
        "assign": lambda: AssignForm(data, supervisors=policy.assignable_supervisors(case)),
        "pause": lambda: PauseForm(data),
        "resume": lambda: VersionForm(data),
        "extend": lambda: ExtendDeadlineForm(data),
        "support": lambda: SupportMeasureForm(data, case=case),
        "finding": lambda: FindingForm(data),
        "fault": lambda: FaultFindingForm(data, prefix="fault"),
        "officer": lambda: OfficerForm(data, prefix="officer"),
        "suspect": lambda: SuspectForm(data, prefix="suspect"),
        "facts": lambda: SupervisorFactsForm(data, instance=Case.objects.get(pk=case.pk)),
        "note": lambda: NoteForm(data),
        "evidence": lambda: EvidenceForm(data),
    }
    if key in simple:
        return simple[key]()
    measure = _measure_of(case, key)
    if measure is not None:
        return SupportAnswerForm(data, measure=measure)
    suspect = _suspect_of(case, key)
    if suspect is None:
        return None
    if key.startswith("disposition-"):
        return DispositionForm(data, instance=suspect, prefix=f"d{suspect.pk}")
    if key.startswith("transfer-"):
        return TransferForm(data, prefix=f"t{suspect.pk}", units=_referral_units(request))
    return None


def _form_keys(ws: Any, case: Case, actor: Any) -> set[str]:
    """The keys of the forms the case page shows this user now: where input sent back to it can be shown."""
    keys = {t.action for t in ws.actions}
    if ws.can_handle:
        keys |= {"assign", "support", "finding", "suspect", "officer", "facts"}
        keys.add("resume" if case.paused_at else "pause")
        if extendable(case):
            keys.add("extend")
        if ws.can_record_fault_finding:
            keys.add("fault")
        keys |= {f"disposition-{s.pk}" for s in ws.suspects}
        # A refused transfer stays on the page with its message, even for a suspect no longer awaiting one.
        keys |= {f"transfer-{s.pk}" for s in ws.suspects}
        if policy.can_answer_support(actor, case):
            keys |= {f"answer-{m.pk}" for m in ws.support if answerable(m)}
    if ws.can_add_material:
        keys |= {"note", "evidence"}
    return keys


def render_workspace(
    request: AuthenticatedRequest,
    case: Case,
    *,
    bound: dict[str, forms.BaseForm] | None = None,
    status: int = 200,
    open_panel: str = "",
    revealed: dict[tuple[str, int], str] | None = None,
    kept: Kept | None = None,
) -> HttpResponse:
    """Render the case page; ``bound`` replaces blank forms with the user's rejected input so nothing is lost. Input
    for a form the page no longer shows (the action is not possible at the case's stage) is kept and the user is
    sent to the case page instead (cases/views/kept.py); ``kept`` is such input, to give back there.

    ID numbers and medical details are masked; ``revealed`` (from the reveal view alone) shows those values in full.
    """
    ws = workspace_for(request.actor, case)
    shown = _form_keys(ws, case, request.actor) - {"resume"}  # the resume form has nothing to show again
    bound = dict(bound or {})
    for key, form in bound.items():
        if key not in shown:
            return keep_input(request, case, key=key, form=form, stale=page_is_stale(request, case))
    notice = None
    if kept is not None:
        again = form_for(request, case, kept.key, kept.data_at(case.version)) if kept.key in shown else None
        if again is not None and kept.fields:
            bound[kept.key] = again
            open_panel = kept.key
        latest = ws.events[0] if ws.events else None
        title = form_title(case, kept.key)
        notice = kept_notice(kept, case, latest, title=title, offered=kept.key in shown)
    revealed = revealed or {}
    for party, items in (("officer", ws.officers), ("suspect", ws.suspects)):
        for item in items:
            item.revealed = revealed.get((party, item.pk))  # type: ignore[union-attr]
    action_forms = [
        (t, bound.get(t.action) or _action_form(request, case, t.action, flags=ws.flags_to_override))
        for t in ws.actions
    ]
    handling: dict[str, Any] = {}
    if ws.can_handle:
        handling = {
            "assign": bound.get("assign")
            or AssignForm(
                initial={"version": case.version, "assignee": case.assigned_to_id},
                supervisors=policy.assignable_supervisors(case),
            ),
            "pause": bound.get("pause") or PauseForm(initial={"version": case.version}),
            "extend": (
                bound.get("extend") or ExtendDeadlineForm(initial={"version": case.version})
                if extendable(case)
                else None
            ),
            "support": bound.get("support") or SupportMeasureForm(case=case),
            # The office's answer to each measure still open (the officer's requests first of all).
            "support_answers": {
                m.pk: bound.get(f"answer-{m.pk}")
                or SupportAnswerForm(measure=m, initial={"version": case.version, "delivered_on": None})
                for m in ws.support
                if answerable(m)
            }
            if policy.can_answer_support(request.actor, case)
            else {},
            "finding": bound.get("finding") or FindingForm(),
            "fault": (
                bound.get("fault") or FaultFindingForm(prefix="fault", initial={"version": case.version})
                if ws.can_record_fault_finding
                else None
            ),
            "officer": bound.get("officer") or OfficerForm(prefix="officer"),
            "suspect": bound.get("suspect") or SuspectForm(prefix="suspect"),
            "facts": bound.get("facts") or SupervisorFactsForm(instance=case, initial={}),
            "dispositions": [
                (
                    s,
                    bound.get(f"disposition-{s.pk}") or DispositionForm(instance=s, prefix=f"d{s.pk}"),
                    f"disposition-{s.pk}",
                )
                for s in ws.suspects
            ],
            "transfers": [
                (
                    s,
                    bound.get(f"transfer-{s.pk}")
                    or TransferForm(
                        initial={"version": case.version}, prefix=f"t{s.pk}", units=_referral_units(request)
                    ),
                    f"transfer-{s.pk}",
                )
                # A refused transfer stays on the page with its message, even for a suspect no longer awaiting one.
                for s in ws.suspects
                if s in ws.awaiting_transfer or f"transfer-{s.pk}" in bound
            ],
        }
    context = {
        "ws": ws,
        "case": case,
        "action_forms": action_forms,
        "handling": handling,
        "note_form": bound.get("note") or NoteForm(visibilities=policy.note_visibilities(request.actor, case)),
        "evidence_form": bound.get("evidence") or EvidenceForm(),
        "open_panel": open_panel,
        "can_download_sheet": policy.can_download_case_sheet(request.actor, case),
        "can_hold": policy.can_hold(request.actor, case),
        "kept_notice": notice,
        "undo": pending_undo(request, case),
        # What the apps built on cases offer here (cases/case_page_links.py): the library's proposal, for one.
        "case_links": case_page_links.links(request.actor, case),
        # Likely duplicates, links and merges (cases/duplicates.py): the office's panel, and "merged into" for anyone.
        "duplicates": duplicate_panel(request.actor, case),
    }
    return render(request, "cases/detail.html", context, status=status)


@never_cache
def case_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    log_access(request=request, action=AccessAction.VIEW, case=case, object_ref=case.reference)
    return render_workspace(request, case, kept=take_kept(request, case))


@never_cache
@require_GET
def case_sheet(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The case as a PDF for the file (cases/reports/case_sheet.py), in the reader's language; each download is in
    the access log, a refusal too (by the 403 handler)."""
    case = visible_case(request, pk)
    return open_case_sheet(case=case, actor=request.actor, by=request.user, request=request)


@never_cache
@require_POST
def reveal(request: AuthenticatedRequest, pk: int, party: str, item_id: int) -> HttpResponse:
    """Show one masked value in full, in this response only, after a recent re-authentication; logged either way
    (the rule: cases/policy.py, the reveal: cases/sensitive.py)."""
    case = visible_case(request, pk)
    if party not in sensitive.REVEALABLE:
        raise Http404
    try:
        revealed = sensitive.reveal_value(request=request, actor=request.actor, case=case, party=party, item_id=item_id)
    except sensitive.RevealRefused as refused:
        if refused.refusal == policy.Refusal.NOT_FOUND:
            raise Http404 from None
        if refused.refusal == policy.Refusal.FORBIDDEN:
            # Answered here rather than raised: the 403 handler would log the refusal a second time, without the case.
            return render(request, "403.html", {"exception": _("You may not see this in full.")}, status=403)
        return reauth_redirect(request, reverse("cases:detail", args=[case.pk]))
    if request.htmx:
        context = {"case": case, "party": party, "item": revealed.item, "value": revealed.value}
        return render(request, "cases/_sensitive.html", context)
    return render_workspace(request, case, revealed={(party, revealed.item.pk): revealed.value})


@require_POST
def case_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    case = visible_case(request, pk)
    workflow_action = WORKFLOW_ACTIONS.get(action)
    if workflow_action is None:
        raise Http404
    label = workflow_action.transition.label
    # Refuse a forbidden action before looking at its input: a 403 must not depend on what was typed.
    if not policy.can_perform(request.actor, case, action):
        raise PermissionDenied(
            _("You are not allowed to take the action “%(action)s” on this case.") % {"action": label}
        )
    form = _action_form(request, case, action, request.POST)
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        ok, status = run_service(
            form,
            lambda: workflow_action.service(case=case, by=request.user, expected_version=version, **data),
        )
        if ok:
            case.refresh_from_db()
            messages.success(request, next_step_text(workflow_action.transition, case))
            return redirect("cases:detail", pk=case.pk)
    if status == 409 or page_is_stale(request, case):
        # Someone else acted first: the case page says who and what, with the input given back.
        return keep_input(request, case, key=action, form=form, stale=True)
    return render_workspace(request, case, bound={action: form}, status=status, open_panel=action)


def next_step_text(transition: Transition, case: Case) -> str:
    """What happens next, after ``transition`` took ``case`` to its new stage: the workflow's sentence with the case's
    reference and the new stage's due date."""
    due = date_format(timezone.localtime(case.stage_due_at), "DATE_FORMAT") if case.stage_due_at else "—"
    return str(transition.next_step) % {"ref": case.reference, "due": due}


def _handled(
    request: AuthenticatedRequest, case: Case, key: str, form: forms.BaseForm, call: Any, done: str
) -> HttpResponse:
    """Validate, call the service, and either go back to the case or show the form again with its errors. When the
    case changed since the page was loaded, the refusal (also a 403: the change may have ended what the user could
    do) goes back to the case page, which says what happened and keeps the input."""
    status = 400
    try:
        if form.is_valid():
            ok, status = run_service(form, lambda: call(form.cleaned_data))
            if ok:
                messages.success(request, done)
                return redirect("cases:detail", pk=case.pk)
    except PermissionDenied:
        if not page_is_stale(request, case):
            raise
        return keep_input(request, case, key=key, form=form, stale=True)
    if status == 409 or page_is_stale(request, case):
        return keep_input(request, case, key=key, form=form, stale=True)
    return render_workspace(request, case, bound={key: form}, status=status, open_panel=key)


def refuse(request: AuthenticatedRequest, case: Case, key: str, message: str) -> HttpResponse:
    """A refusal decided before the input is read: a 403, unless the case changed since the page was loaded (the
    change may be what ended the user's right), when the case page says what happened and keeps the input."""
    if not page_is_stale(request, case):
        raise PermissionDenied(message)
    return keep_input(request, case, key=key, form=form_for(request, case, key, request.POST), stale=True)


@require_POST
def assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    form = AssignForm(request.POST, supervisors=policy.assignable_supervisors(case))
    return _handled(
        request,
        case,
        "assign",
        form,
        lambda d: services.assign_case(
            case=case, by=request.user, expected_version=d["version"], assignee=d["assignee"]
        ),
        _("Assignment saved."),
    )


@require_POST
def clock(request: AuthenticatedRequest, pk: int, move: str) -> HttpResponse:
    case = visible_case(request, pk)
    if move == "pause":
        form: forms.Form = PauseForm(request.POST)
        call = lambda d: services.pause_clock(  # noqa: E731
            case=case, by=request.user, expected_version=d["version"], reason=d["reason"], note=d["note"]
        )
        done = _("The clock is paused.")
    elif move == "resume":
        form = VersionForm(request.POST)
        call = lambda d: services.resume_clock(case=case, by=request.user, expected_version=d["version"])  # noqa: E731
        done = _("The clock is running again.")
        return _handled(request, case, "resume", form, call, done)
    elif move == "extend":
        form = ExtendDeadlineForm(request.POST)
        call = lambda d: services.extend_deadline(  # noqa: E731
            case=case,
            by=request.user,
            expected_version=d["version"],
            approval_reference=d["approval_reference"],
            reason=d["reason"],
        )
        done = _("The time limit is extended.")
        return _handled(request, case, "extend", form, call, done)
    else:
        raise Http404
    return _handled(request, case, "pause", form, call, done)


@require_POST
def record_disposition(request: AuthenticatedRequest, pk: int, suspect_id: int) -> HttpResponse:
    case = visible_case(request, pk)
    suspect = get_object_or_404(Suspect, pk=suspect_id, case=case)
    form = DispositionForm(request.POST, prefix=f"d{suspect.pk}")
    return _handled(
        request,
        case,
        f"disposition-{suspect.pk}",
        form,
        lambda d: services.record_disposition(suspect=suspect, by=request.user, **d),
        _("Disposition recorded."),
    )


@require_POST
def transfer(request: AuthenticatedRequest, pk: int, suspect_id: int) -> HttpResponse:
    """Record a non-prosecuted suspect's transfer for administrative punishment."""
    case = visible_case(request, pk)
    suspect = get_object_or_404(Suspect, pk=suspect_id, case=case)
    # Refused before the input is read: the unit list is the supervisor's, and a 403 must not depend on what was typed.
    if not policy.can_record_transfer(request.actor, case):
        return refuse(request, case, f"transfer-{suspect.pk}", str(services.TRANSFER_REFUSAL))
    form = TransferForm(request.POST, prefix=f"t{suspect.pk}", units=_referral_units(request))

    def call(d: dict[str, Any]) -> Any:
        return services.transfer_for_administrative_punishment(
            suspect=suspect,
            by=request.user,
            expected_version=d["version"],
            target=d["target"],
            to_unit=d["to_unit"],
            body_name=d["body_name"],
        )

    return _handled(request, case, f"transfer-{suspect.pk}", form, call, _("Transfer recorded."))


@require_POST
def add_support(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    form = SupportMeasureForm(request.POST, case=case)
    return _handled(
        request,
        case,
        "support",
        form,
        lambda d: services.record_support_measure(case=case, by=request.user, **d),
        _("Support measure recorded."),
    )


@require_POST
def answer_support(request: AuthenticatedRequest, pk: int, measure_id: int) -> HttpResponse:
    case = visible_case(request, pk)
    measure = get_object_or_404(SupportMeasure, case=case, pk=measure_id)
    form = SupportAnswerForm(request.POST, measure=measure)
    return _handled(
        request,
        case,
        f"answer-{measure.pk}",
        form,
        lambda d: services.answer_support_request(
            measure=measure,
            by=request.user,
            expected_version=d["version"],
            answer=d["answer"],
            reason=d["reason"],
            provider=d["provider"],
            delivered_on=d["delivered_on"],
        ),
        _("Answer recorded; the officer is told."),
    )


@require_POST
def add_finding(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    form = FindingForm(request.POST)
    return _handled(
        request,
        case,
        "finding",
        form,
        lambda d: services.raise_finding(case=case, by=request.user, **d),
        _("Finding recorded."),
    )


@require_POST
def record_fault_finding(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    # Refused before the input is read: a 403 must not depend on what was typed.
    if not policy.can_record_fault_finding(request.actor, case):
        return refuse(
            request,
            case,
            "fault",
            _(
                "Only a supervisor of this unit who is not involved in the case can record a police-fault finding, "
                "and only while the case is open."
            ),
        )
    form = FaultFindingForm(request.POST, prefix="fault")

    return _handled(
        request,
        case,
        "fault",
        form,
        lambda d: services.record_fault_finding(
            case=case,
            by=request.user,
            expected_version=d["version"],
            **{name: value for name, value in d.items() if name != "version"},
        ),
        _("Police-fault finding recorded."),
    )


@require_POST
def update_facts(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    form = SupervisorFactsForm(request.POST, instance=Case.objects.get(pk=case.pk))
    version = request.POST.get("version")

    def call(d: dict[str, Any]) -> Case:
        return services.update_case_details(
            case=case,
            by=request.user,
            expected_version=int(version) if version and version.isdigit() else None,
            changes=d,
        )

    return _handled(request, case, "facts", form, call, _("Facts updated."))


@require_POST
def add_note(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    form = NoteForm(request.POST, visibilities=policy.note_visibilities(request.actor, case))
    return _handled(
        request,
        case,
        "note",
        form,
        lambda d: services.add_note(case=case, by=request.user, text=d["text"], visibility=d.get("visibility", "")),
        _("Note added."),
    )


def require_supervisor(request: AuthenticatedRequest) -> None:
    if not policy.has_queue(request.actor):
        raise PermissionDenied(_("Only supervisors have a queue."))


def require_queue_worker(request: AuthenticatedRequest) -> None:
    """Bulk work and the export (``policy.works_the_queue``)."""
    if not policy.works_the_queue(request.actor):
        raise PermissionDenied(_("Only supervisors have a queue."))
