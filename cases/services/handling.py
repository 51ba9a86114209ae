"""Supervisors' handling of an open case: assignment, the stage clock, support measures and findings."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import outbox, policy
from cases.choices import EventKind, FindingProblem, PauseReason, SupportKind, SupportStatus
from cases.models import Case, InvolvedOfficer, SupervisionFinding, SupportMeasure
from cases.services.common import (
    apply_changes,
    check_version,
    lock_case,
    now,
    record_event,
    require,
    save_case,
)
from cases.sla import extendable, extension_for

SUPPORT_FIELDS = ("officer", "kind", "status", "amount", "started_on", "delivered_on", "notes")


def _require_handler(case: Case, by: User) -> None:
    require(policy.can_handle(actor_for(by), case), _("Only a supervisor of this unit can do this on an open case."))


@transaction.atomic
def assign_case(*, case: Case, by: User, expected_version: int | None, assignee: User | None) -> Case:
    """Make a supervisor of the case's unit (or nobody) responsible for it."""
    case = lock_case(case)
    _require_handler(case, by)
    check_version(case, expected_version)
    if assignee is not None and not policy.can_be_assigned(actor_for(assignee), case):
        raise ValidationError({"assignee": _("The assignee must be a supervisor of the case's unit.")})
    if case.assigned_to_id == (assignee.pk if assignee else None):
        return case
    previous = case.assigned_to_id
    case.assigned_to = assignee
    t = now()
    save_case(case, t, ["assigned_to"])
    record_event(
        case=case,
        kind=EventKind.ASSIGNED,
        by=by,
        now=t,
        data={"from": previous, "to": assignee.pk if assignee else None},
    )
    return case


@transaction.atomic
def pause_clock(*, case: Case, by: User, expected_version: int | None, reason: str, note: str = "") -> Case:
    """Stop the stage clock (appraisal pending, suspect at large); paused time does not count."""
    case = lock_case(case)
    _require_handler(case, by)
    check_version(case, expected_version)
    if reason not in PauseReason.values:
        raise ValidationError({"reason": _("Choose why the clock is paused.")})
    if case.paused_at is not None:
        raise ValidationError(_("The clock is already paused."))
    t = now()
    case.paused_at = t
    case.pause_reason = reason
    save_case(case, t, ["paused_at", "pause_reason"])
    record_event(
        case=case, kind=EventKind.CLOCK_PAUSED, by=by, now=t, data={"reason": reason, "note": note}, notify=False
    )
    outbox.check_flags_on_commit(case)
    return case


@transaction.atomic
def extend_deadline(
    *, case: Case, by: User, expected_version: int | None, approval_reference: str, reason: str
) -> Case:
    """Extend the current stage's time limit once, where the law allows it (administrative cases: +30 days with
    the approval of the organ above), recording who approved it."""
    case = lock_case(case)
    _require_handler(case, by)
    check_version(case, expected_version)
    if case.stage_extended_at is not None:
        raise ValidationError(_("The time limit of this stage has already been extended."))
    if not extendable(case):
        raise ValidationError(_("The time limit of this stage cannot be extended."))
    extension = extension_for(stage=case.status, track=case.track)
    errors = {}
    if not approval_reference.strip():
        errors["approval_reference"] = _("Give the reference of the approval.")
    if not reason.strip():
        errors["reason"] = _("Say why more time is needed.")
    if errors:
        raise ValidationError(errors)
    t = now()
    case.stage_due_at = case.stage_due_at + timedelta(days=extension.days)
    case.stage_extended_at = t
    save_case(case, t, ["stage_due_at", "stage_extended_at"])
    record_event(
        case=case,
        kind=EventKind.DEADLINE_EXTENDED,
        by=by,
        now=t,
        data={
            "days": extension.days,
            "due_at": case.stage_due_at.isoformat(),
            "approval_reference": approval_reference.strip(),
            "reason": reason.strip(),
            "basis": extension.basis,
        },
        notify=False,
    )
    outbox.check_flags_on_commit(case)
    return case


@transaction.atomic
def resume_clock(*, case: Case, by: User, expected_version: int | None) -> Case:
    """Restart the stage clock; the deadline moves by the time spent paused."""
    case = lock_case(case)
    _require_handler(case, by)
    check_version(case, expected_version)
    if case.paused_at is None:
        raise ValidationError(_("The clock is not paused."))
    t = now()
    paused_for = t - case.paused_at
    case.stage_due_at = case.stage_due_at + paused_for
    case.paused_at = None
    case.pause_reason = ""
    save_case(case, t, ["paused_at", "pause_reason", "stage_due_at"])
    record_event(
        case=case,
        kind=EventKind.CLOCK_RESUMED,
        by=by,
        now=t,
        data={"paused_seconds": int(paused_for.total_seconds()), "due_at": case.stage_due_at.isoformat()},
        notify=False,
    )
    outbox.check_flags_on_commit(case)
    return case


def _clean_support(case: Case, measure: SupportMeasure) -> None:
    if measure.officer is not None and measure.officer.case_id != case.pk:
        raise ValidationError({"officer": _("That officer is not involved in this case.")})
    if measure.kind != SupportKind.COMFORT_PAYMENT:
        measure.amount = None
    if measure.status == SupportStatus.DELIVERED and measure.delivered_on is None:
        raise ValidationError({"delivered_on": _("Give the date the measure was delivered.")})
    measure.full_clean()


@transaction.atomic
def record_support_measure(
    *,
    case: Case,
    by: User,
    kind: str,
    officer: InvolvedOfficer | None = None,
    status: str = SupportStatus.OFFERED,
    amount: Decimal | None = None,
    started_on: date | None = None,
    delivered_on: date | None = None,
    notes: str = "",
) -> SupportMeasure:
    case = lock_case(case)
    _require_handler(case, by)
    measure = SupportMeasure(
        case=case,
        officer=officer,
        kind=kind,
        status=status,
        amount=amount,
        started_on=started_on,
        delivered_on=delivered_on,
        notes=notes,
        recorded_by=by,
    )
    _clean_support(case, measure)
    measure.save()
    t = now()
    save_case(case, t, [])
    record_event(
        case=case,
        kind=EventKind.SUPPORT,
        by=by,
        now=t,
        data={"measure": measure.pk, "kind": kind, "status": status},
    )
    outbox.check_flags_on_commit(case)
    return measure


@transaction.atomic
def update_support_measure(*, measure: SupportMeasure, by: User, **changes: Any) -> SupportMeasure:
    case = lock_case(measure.case_id)
    _require_handler(case, by)
    measure = SupportMeasure.objects.select_for_update().get(pk=measure.pk)
    diff = apply_changes(measure, SUPPORT_FIELDS, changes)
    if not diff:
        return measure
    _clean_support(case, measure)
    measure.save()
    t = now()
    save_case(case, t, [])
    record_event(case=case, kind=EventKind.SUPPORT, by=by, now=t, data={"measure": measure.pk, "changes": diff})
    outbox.check_flags_on_commit(case)
    return measure


@transaction.atomic
def raise_finding(
    *, case: Case, by: User, problem: str, detail: str, rectify_by: date | None = None
) -> SupervisionFinding:
    case = lock_case(case)
    _require_handler(case, by)
    if problem not in FindingProblem.values:
        raise ValidationError({"problem": _("Choose the problem found.")})
    if not detail.strip():
        raise ValidationError({"detail": _("Describe the problem.")})
    t = now()
    finding = SupervisionFinding.objects.create(
        case=case, problem=problem, detail=detail.strip(), raised_by=by, raised_at=t, rectify_by=rectify_by
    )
    save_case(case, t, [])
    record_event(case=case, kind=EventKind.FINDING, by=by, now=t, data={"finding": finding.pk, "problem": problem})
    return finding


@transaction.atomic
def rectify_finding(
    *, finding: SupervisionFinding, by: User, officers_held_accountable: int = 0, accountability_note: str = ""
) -> SupervisionFinding:
    case = lock_case(finding.case_id)
    _require_handler(case, by)
    finding = SupervisionFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.rectified_at is not None:
        raise ValidationError(_("This finding is already rectified."))
    if officers_held_accountable < 0:
        raise ValidationError({"officers_held_accountable": _("Cannot be negative.")})
    t = now()
    finding.rectified_at = t
    finding.officers_held_accountable = officers_held_accountable
    finding.accountability_note = accountability_note
    finding.save(update_fields=["rectified_at", "officers_held_accountable", "accountability_note"])
    save_case(case, t, [])
    record_event(
        case=case,
        kind=EventKind.FINDING,
        by=by,
        now=t,
        data={"finding": finding.pk, "rectified": True, "accountable": officers_held_accountable},
        notify=False,
    )
    return finding
