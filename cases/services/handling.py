"""Supervisors' handling of an open case: assignment, the stage clock, support measures and findings."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import policy, summaries
from cases.choices import (
    OFFICE_RECORDED_STATUSES,
    OPEN_REQUEST_STATUSES,
    SUPPORT_TRANSITIONS,
    EventKind,
    FindingProblem,
    PauseReason,
    ReferralTarget,
    SupportKind,
    SupportStatus,
    Track,
)
from cases.models import Case, InvolvedOfficer, Referral, SupervisionFinding, SupportMeasure, Suspect
from cases.selectors import non_prosecuted_suspect_ids
from cases.services.common import UNSET, CaseChange, Unset, apply_changes, change_case, given
from cases.sla import extendable, extension_for

SUPPORT_FIELDS = ("officer", "kind", "status", "amount", "started_on", "delivered_on", "provider", "notes")
# Statuses only an answer to the officer's request reaches (cases/services/support_requests.answer_support_request).
ANSWER_ONLY_STATUSES = frozenset({SupportStatus.REQUESTED, SupportStatus.APPROVED, SupportStatus.REFUSED})
# Where a suspect is transferred for administrative punishment: a public-security unit the supervisor covers, or
# another competent body by name.
TRANSFER_TARGETS = (ReferralTarget.INTERNAL_UNIT, ReferralTarget.OTHER)
TRANSFER_REFUSAL = gettext_lazy(
    "Only a supervisor of this unit can record a transfer, while the case is in supervision or look-back."
)


def _handling(case: Case | int, by: User, expected_version: int | None = None) -> CaseChange:
    return change_case(
        case,
        by=by,
        allowed=policy.can_handle,
        refusal=_("Only a supervisor of this unit can do this on an open case."),
        expected_version=expected_version,
    )


@transaction.atomic
def assign_case(*, case: Case, by: User, expected_version: int | None, assignee: User | None) -> Case:
    """Make a supervisor of the case's unit (or nobody) responsible for it."""
    change = _handling(case, by, expected_version)
    case = change.case
    if assignee is not None and not policy.can_be_assigned(actor_for(assignee), case):
        raise ValidationError({"assignee": _("The assignee must be a supervisor of the case's unit.")})
    if case.assigned_to_id == (assignee.pk if assignee else None):
        return case
    previous = case.assigned_to_id
    case.assigned_to = assignee
    change.save(
        EventKind.ASSIGNED,
        fields=["assigned_to"],
        data={"from": previous, "to": assignee.pk if assignee else None},
        check_flags=False,
    )
    return case


@transaction.atomic
def pause_clock(*, case: Case, by: User, expected_version: int | None, reason: str, note: str = "") -> Case:
    """Stop the stage clock (appraisal pending, suspect at large); paused time does not count."""
    change = _handling(case, by, expected_version)
    case = change.case
    if reason not in PauseReason.values:
        raise ValidationError({"reason": _("Choose why the clock is paused.")})
    if case.paused_at is not None:
        raise ValidationError(_("The clock is already paused."))
    case.paused_at = change.at
    case.pause_reason = reason
    change.save(
        EventKind.CLOCK_PAUSED,
        fields=["paused_at", "pause_reason"],
        data={"reason": reason, "note": note},
        notify=False,
    )
    return case


@transaction.atomic
def extend_deadline(
    *, case: Case, by: User, expected_version: int | None, approval_reference: str, reason: str
) -> Case:
    """Extend the current stage's time limit once, where the law allows it (administrative cases: +30 days with
    the approval of the organ above), recording who approved it."""
    change = _handling(case, by, expected_version)
    case = change.case
    if case.stage_extended_at is not None:
        raise ValidationError(_("The time limit of this stage has already been extended."))
    extension = extension_for(stage=case.status, track=case.track)
    if not extendable(case) or extension is None or case.stage_due_at is None:
        raise ValidationError(_("The time limit of this stage cannot be extended."))
    errors = {}
    if not approval_reference.strip():
        errors["approval_reference"] = _("Give the reference of the approval.")
    if not reason.strip():
        errors["reason"] = _("Say why more time is needed.")
    if errors:
        raise ValidationError(errors)
    case.stage_due_at = case.stage_due_at + timedelta(days=extension.days)
    case.stage_extended_at = change.at
    change.save(
        EventKind.DEADLINE_EXTENDED,
        fields=["stage_due_at", "stage_extended_at"],
        data={
            "days": extension.days,
            "due_at": case.stage_due_at.isoformat(),
            "approval_reference": approval_reference.strip(),
            "reason": reason.strip(),
            "basis": extension.basis,
        },
        notify=False,
    )
    return case


@transaction.atomic
def resume_clock(*, case: Case, by: User, expected_version: int | None) -> Case:
    """Restart the stage clock; the deadline moves by the time spent paused."""
    change = _handling(case, by, expected_version)
    case = change.case
    if case.paused_at is None:
        raise ValidationError(_("The clock is not paused."))
    paused_for = change.at - case.paused_at
    if case.stage_due_at is not None:
        case.stage_due_at = case.stage_due_at + paused_for
    case.paused_at = None
    case.pause_reason = ""
    change.save(
        EventKind.CLOCK_RESUMED,
        fields=["paused_at", "pause_reason", "stage_due_at"],
        data={
            "paused_seconds": int(paused_for.total_seconds()),
            "due_at": case.stage_due_at.isoformat() if case.stage_due_at else None,
        },
        notify=False,
    )
    return case


def support_amount_error(kind: str, amount: Decimal | None) -> str:
    """What is wrong with an amount sent for a measure of ``kind`` (empty when nothing): only a payment has one. The
    page's form asks this before the model's constraint would answer with a message naming no field."""
    if kind != SupportKind.COMFORT_PAYMENT and amount is not None:
        return str(_("Only a comfort payment has an amount: leave the amount empty for this kind of support."))
    return ""


def _clean_support(case: Case, measure: SupportMeasure, *, amount_given: bool) -> dict[str, list[Any]]:
    """Check a measure before it is saved. An amount sent with a kind that is not a payment is refused, never
    dropped; a payment changed to another kind loses its former amount, returned as a change for the timeline."""
    if measure.officer is not None and measure.officer.case_id != case.pk:
        raise ValidationError({"officer": _("That officer is not involved in this case.")})
    dropped: dict[str, list[Any]] = {}
    if measure.kind != SupportKind.COMFORT_PAYMENT and measure.amount is not None:
        if amount_given:
            raise ValidationError({"amount": support_amount_error(measure.kind, measure.amount)})
        dropped["amount"] = [str(measure.amount), None]
        measure.amount = None
    if measure.status == SupportStatus.DELIVERED and measure.delivered_on is None:
        raise ValidationError({"delivered_on": _("Give the date the measure was delivered.")})
    measure.full_clean()
    return dropped


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
    provider: str = "",
    notes: str = "",
) -> SupportMeasure:
    change = _handling(case, by)
    if status not in OFFICE_RECORDED_STATUSES:
        raise ValidationError(
            {"status": _("Requests come from the officer; approving or declining one answers it on the request.")}
        )
    if SupportMeasure.objects.filter(case=change.case, kind=kind, status__in=OPEN_REQUEST_STATUSES).exists():
        # One lifecycle per measure: a second record would leave the officer's request unanswered for ever.
        raise ValidationError(
            {"kind": _("The officer's request for this measure is open: answer it (approve, decline or deliver).")}
        )
    measure = SupportMeasure(
        case=change.case,
        officer=officer,
        kind=kind,
        status=status,
        amount=amount,
        started_on=started_on,
        delivered_on=delivered_on,
        provider=provider.strip(),
        notes=notes,
        recorded_by=by,
    )
    _clean_support(change.case, measure, amount_given=amount is not None)
    measure.save()
    change.save(EventKind.SUPPORT, data={"measure": measure.pk, "kind": kind, "status": status})
    return measure


@transaction.atomic
def update_support_measure(
    *,
    measure: SupportMeasure,
    by: User,
    officer: InvolvedOfficer | Unset | None = UNSET,
    kind: str | Unset = UNSET,
    status: str | Unset = UNSET,
    amount: Decimal | Unset | None = UNSET,
    started_on: date | Unset | None = UNSET,
    delivered_on: date | Unset | None = UNSET,
    provider: str | Unset = UNSET,
    notes: str | Unset = UNSET,
) -> SupportMeasure:
    """Change what is given; a field left out keeps its value. The status moves only as ``SUPPORT_TRANSITIONS``
    allows, and never to or from the officer's request: that is answered (``answer_support_request``)."""
    change = _handling(measure.case_id, by)
    measure = SupportMeasure.objects.select_for_update().get(pk=measure.pk)
    changes = given(
        officer=officer,
        kind=kind,
        status=status,
        amount=amount,
        started_on=started_on,
        delivered_on=delivered_on,
        provider=provider,
        notes=notes,
    )
    before = measure.status
    diff = apply_changes(measure, SUPPORT_FIELDS, changes)
    if not diff:
        return measure
    if "status" in diff:
        if measure.status in ANSWER_ONLY_STATUSES or before == SupportStatus.REQUESTED:
            raise ValidationError(
                {"status": _("Answer the officer's request (approve, decline or deliver) instead of changing it.")}
            )
        if measure.status not in SUPPORT_TRANSITIONS[SupportStatus(before)]:
            raise ValidationError(
                {
                    "status": _("A measure that is “%(status)s” cannot become “%(target)s”.")
                    % {"status": SupportStatus(before).label, "target": SupportStatus(measure.status).label}
                }
            )
    diff.update(_clean_support(change.case, measure, amount_given=amount is not UNSET and amount is not None))
    measure.save()
    change.save(EventKind.SUPPORT, data={"measure": measure.pk, "changes": diff})
    return measure


@transaction.atomic
def raise_finding(
    *, case: Case, by: User, problem: str, detail: str, rectify_by: date | None = None
) -> SupervisionFinding:
    change = _handling(case, by)
    if problem not in FindingProblem.values:
        raise ValidationError({"problem": _("Choose the problem found.")})
    if not detail.strip():
        raise ValidationError({"detail": _("Describe the problem.")})
    finding = SupervisionFinding.objects.create(
        case=change.case,
        problem=problem,
        detail=detail.strip(),
        raised_by=by,
        raised_at=change.at,
        rectify_by=rectify_by,
    )
    change.save(EventKind.FINDING, data={"finding": finding.pk, "problem": problem}, check_flags=False)
    return finding


@transaction.atomic
def rectify_finding(
    *, finding: SupervisionFinding, by: User, officers_held_accountable: int = 0, accountability_note: str = ""
) -> SupervisionFinding:
    change = _handling(finding.case_id, by)
    finding = SupervisionFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.rectified_at is not None:
        raise ValidationError(_("This finding is already rectified."))
    if officers_held_accountable < 0:
        raise ValidationError({"officers_held_accountable": _("Cannot be negative.")})
    finding.rectified_at = change.at
    finding.officers_held_accountable = officers_held_accountable
    finding.accountability_note = accountability_note
    finding.save(update_fields=["rectified_at", "officers_held_accountable", "accountability_note"])
    change.save(
        EventKind.FINDING,
        data={"finding": finding.pk, "rectified": True, "accountable": officers_held_accountable},
        notify=False,
        check_flags=False,
    )
    return finding


@transaction.atomic
def transfer_for_administrative_punishment(
    *,
    suspect: Suspect,
    by: User,
    expected_version: int | None = None,
    target: str = ReferralTarget.INTERNAL_UNIT,
    to_unit: OrgUnit | None = None,
    body_name: str = "",
) -> Referral:
    """Record that a suspect not prosecuted or exempted from punishment was handed to the competent authority for
    administrative punishment (Criminal Procedure Law Art. 177 para 3; Interpretation 〔2025〕1号 Art. 11).

    It is a referral on the administrative track linked to the suspect, made from supervision or look-back. It is a
    handover, not a stage of the case: the case keeps its status, its track and its stage clock, and the referral is
    closed as it is recorded, so it awaits no acknowledgement, is never overdue and leaves the case's one open
    referral per unit alone. The punishment is then recorded as the suspect's disposition, which keeps the
    non-prosecution in its history.
    """
    change = change_case(
        suspect.case_id,
        by=by,
        allowed=policy.can_record_transfer,
        refusal=str(TRANSFER_REFUSAL),
        expected_version=expected_version,
    )
    suspect = Suspect.objects.select_for_update().get(pk=suspect.pk)
    if suspect.pk not in non_prosecuted_suspect_ids(change.case):
        raise ValidationError(
            _("Only a suspect who was not prosecuted or was exempted from punishment is transferred this way.")
        )
    if suspect.transfers.exists():
        raise ValidationError(_("This suspect's transfer is already recorded."))
    body_name = (body_name or "").strip()
    errors: dict[str, str] = {}
    if target not in TRANSFER_TARGETS:
        errors["target"] = _("Transfer to a public-security unit you supervise, or name the competent body.")
    elif target == ReferralTarget.INTERNAL_UNIT:
        if to_unit is None:
            errors["to_unit"] = _("Choose the unit that decides the administrative punishment.")
        elif not policy.can_refer_to(actor_for(by), to_unit):
            errors["to_unit"] = _("You can only transfer to units you supervise.")
    elif not body_name:
        errors["body_name"] = _("Name the body the suspect is transferred to.")
    if errors:
        raise ValidationError(errors)
    internal = target == ReferralTarget.INTERNAL_UNIT
    referral = Referral.objects.create(
        case=change.case,
        suspect=suspect,
        target=target,
        to_unit=to_unit if internal else None,
        body_name="" if internal else body_name,
        track=Track.ADMINISTRATIVE,
        referred_by=by,
        referred_at=change.at,
        due_at=change.at,
        closed_at=change.at,
    )
    change.save(
        EventKind.REFERRAL,
        fields=summaries.note_referral(change.case, change.at),
        data={
            "referral": referral.pk,
            "suspect": suspect.pk,
            "track": Track.ADMINISTRATIVE,
            "transfer": True,
            "to": to_unit.name if internal and to_unit is not None else body_name,
            # The unit's English name too, so the timeline names it in the reader's language.
            "to_en": to_unit.name_en if internal and to_unit is not None else "",
        },
    )
    return referral
