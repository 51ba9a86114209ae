"""One service per workflow action (cases/workflow.py). Each locks the case, checks role, version and
transition, checks the action's requirements, changes state, restarts the stage clock and writes the
event; notifications go out after commit. Any refusal raises before anything is written."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import outbox, policy, summaries
from cases.choices import (
    FINAL_DISPOSITIONS,
    CaseStatus,
    EventKind,
    FindingProblem,
    NoSuspectReason,
    ReferralTarget,
    ReviewVerdict,
    Track,
)
from cases.exceptions import IllegalTransition
from cases.models import Case, LookBackReview, Referral, SupervisionFinding, Suspect
from cases.overrides import OverrideInput
from cases.services.common import CaseChange, change_case, start_stage
from cases.services.overrides import Checked, check_overrides, write_overrides
from cases.services.repeats import (
    PRIOR_ATTACK,
    derive_prior_attack,
    record_derived,
    rederive_after_punished_case_changed,
)
from cases.sla import stage_deadline
from cases.workflow import TRANSITIONS, is_legal

SUBMIT_REQUIRED = ("occurred_at", "location", "summary")
# Rules that judge how a case ended (e.g. R19, an untrue complaint concluded without a clarification notice) are
# checked when it ends, not at the next scan.
CHECK_FLAGS_AFTER = frozenset({"conclude", "close"})


def _begin(case: Case, by: User, action: str, expected_version: int | None) -> CaseChange:
    label = TRANSITIONS[action].label
    change = change_case(
        case,
        by=by,
        allowed=lambda actor, locked: policy.can_perform(actor, locked, action),
        refusal=_("You are not allowed to take the action “%(action)s” on this case.") % {"action": label},
        expected_version=expected_version,
    )
    if not is_legal(action, change.case.status):
        raise IllegalTransition(
            _("The action “%(action)s” is not possible while the case is at the stage “%(status)s”.")
            % {"status": change.case.get_status_display(), "action": label},
            code="illegal_transition",
        )
    return change


def _finish(
    change: CaseChange,
    action: str,
    data: dict[str, Any],
    fields: list[str] | None = None,
    due_at: datetime | None = None,
) -> Case:
    case = change.case
    from_status = case.status
    changed = start_stage(case, TRANSITIONS[action].target, change.at)
    if due_at is not None:
        case.stage_due_at = due_at
    change.save(
        EventKind.TRANSITION,
        data=data,
        fields=changed + (fields or []),
        check_flags=action in CHECK_FLAGS_AFTER,
        action=action,
        from_status=from_status,
        to_status=case.status,
    )
    return case


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


NO_SUSPECT = ["-"]


def _conclusion_gaps(case: Case) -> list[str]:
    """References of identified suspects without a final disposition; ["-"] when no suspect is identified."""
    identified = [s for s in Suspect.objects.filter(case=case) if s.is_identified]
    if not identified:
        return NO_SUSPECT
    return [s.name or str(s.pk) for s in identified if s.disposition not in FINAL_DISPOSITIONS]


def _refuse(errors: dict[str, Any], checked: Checked) -> None:
    """Raise every reason the action is refused at once, the overrides' under ``overrides``."""
    if checked.errors:
        errors["overrides"] = checked.errors
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def submit_case(*, case: Case, by: User, expected_version: int | None) -> Case:
    change = _begin(case, by, "submit", expected_version)
    case, t = change.case, change.at
    errors: dict[str, str] = {
        f: _("This field is required to submit.") for f in SUBMIT_REQUIRED if not getattr(case, f)
    }
    if case.occurred_at and case.occurred_at > t:
        errors["occurred_at"] = _("The incident cannot be in the future.")
    if not case.officers.exists():
        errors["officers"] = _("List at least one involved officer.")
    if errors:
        raise ValidationError(errors)
    case.submitted_at = t
    # The office has the case from now: the suspects the filer listed are matched against the record (a draft never
    # is: cases/services/repeats.py).
    listed = Suspect.objects.filter(case=case).exclude(id_number_index="").order_by("id")
    derived = derive_prior_attack(change, listed, submitting=True)
    _finish(change, "submit", {}, ["submitted_at", *([PRIOR_ATTACK] if derived else [])])
    record_derived(change, derived)
    # The officers listed were attacked once more, on the record now (cases/welfare.py).
    outbox.check_welfare_on_commit(case)
    return case


@transaction.atomic
def withdraw_case(*, case: Case, by: User, expected_version: int | None, reason: str) -> Case:
    change = _begin(case, by, "withdraw", expected_version)
    reason = _required_text(reason, "reason", _("Say why the application is withdrawn."))
    case = _finish(change, "withdraw", {"reason": reason})
    # Off the record now: a later case matched against a punishment recorded here is matched again.
    rederive_after_punished_case_changed(case)
    return case


@transaction.atomic
def reject_case(*, case: Case, by: User, expected_version: int | None, reason: str, duplicate_of: str = "") -> Case:
    change = _begin(case, by, "reject", expected_version)
    case = change.case
    reason = _required_text(reason, "reason", _("Say why the application is rejected."))
    if duplicate_of and not Case.objects.filter(reference=duplicate_of).exclude(pk=case.pk).exists():
        raise ValidationError({"duplicate_of": _("No case has the reference %(ref)s.") % {"ref": duplicate_of}})
    case = _finish(change, "reject", {"reason": reason, "duplicate_of": duplicate_of})
    rederive_after_punished_case_changed(case)  # off the record, as for a withdrawal
    return case


@transaction.atomic
def refer_case(
    *,
    case: Case,
    by: User,
    expected_version: int | None,
    track: str,
    target: str = ReferralTarget.INTERNAL_UNIT,
    to_unit: OrgUnit | None = None,
    body_name: str = "",
    due_at: datetime | None = None,
) -> Case:
    """Refer to a handling unit (inside the supervisor's subtree) or an outside body, on a track."""
    change = _begin(case, by, "refer", expected_version)
    case, t = change.case, change.at
    errors: dict[str, str] = {}
    if track not in Track.values:
        errors["track"] = _("Choose the administrative or the criminal track.")
    if target not in ReferralTarget.values:
        errors["target"] = _("Choose where the case is referred.")
    elif target == ReferralTarget.INTERNAL_UNIT:
        if to_unit is None:
            errors["to_unit"] = _("Choose the handling unit.")
        elif not policy.can_refer_to(actor_for(by), to_unit):
            errors["to_unit"] = _("You can only refer to units you supervise.")
    elif not body_name.strip():
        errors["body_name"] = _("Name the body the case is referred to.")
    if due_at is not None and due_at <= t:
        errors["due_at"] = _("The due date must be in the future.")
    if errors:
        raise ValidationError(errors)
    case.track = track
    due_at = due_at or stage_deadline(
        stage=CaseStatus.REFERRED, track=track, major_security_period=case.major_security_period, start=t
    )
    if due_at is None:  # every track has a referral time limit (cases/sla.py)
        raise ValidationError({"due_at": _("Give the date the referral is due.")})
    referral = Referral.objects.create(
        case=case,
        target=target,
        to_unit=to_unit if target == ReferralTarget.INTERNAL_UNIT else None,
        body_name=body_name.strip(),
        track=track,
        referred_by=by,
        referred_at=t,
        due_at=due_at,
    )
    # The referral's own due date is the stage deadline, so the queue and the overdue scan agree.
    data = {"referral": referral.pk, "track": track, "due_at": due_at.isoformat()}
    return _finish(change, "refer", data, ["track", *summaries.note_referral(case, t)], due_at=due_at)


@transaction.atomic
def acknowledge_referral(*, case: Case, by: User, expected_version: int | None, external_reference: str) -> Case:
    """The handling unit has taken the case on; supervision of its handling starts."""
    change = _begin(case, by, "acknowledge", expected_version)
    case, t = change.case, change.at
    external_reference = _required_text(
        external_reference, "external_reference", _("Enter the handling unit's case number.")
    )
    referral = (
        Referral.objects.select_for_update()
        .filter(case=case, acknowledged_at__isnull=True, closed_at__isnull=True)
        .order_by("-referred_at")
        .first()
    )
    if referral is None:
        raise ValidationError(_("There is no open referral to acknowledge."))
    referral.acknowledged_at = t
    referral.external_reference = external_reference
    referral.save(update_fields=["acknowledged_at", "external_reference"])
    return _finish(change, "acknowledge", {"referral": referral.pk, "external_reference": external_reference})


# The longest reason recorded at conclusion, whichever door it comes through (the API documents the same limit).
CONCLUSION_REASON_MAX = 2000


@transaction.atomic
def conclude_case(
    *,
    case: Case,
    by: User,
    expected_version: int | None,
    reason: str = "",
    no_suspect_reason: str = "",
    overrides: Sequence[OverrideInput | Mapping[str, Any]] = (),
) -> Case:
    """Handling is finished: every identified suspect has a final disposition, or a reason says why not; without
    an identified suspect, a structured reason says why (explained when it is "other"). Every open downgraded flag
    needs an override (cases/overrides.py)."""
    change = _begin(case, by, "conclude", expected_version)
    case, t = change.case, change.at
    reason = (reason or "").strip()
    no_suspect_reason = no_suspect_reason or ""
    gaps = _conclusion_gaps(case)
    errors: dict[str, Any] = {}
    if gaps == NO_SUSPECT:
        if no_suspect_reason not in NoSuspectReason.values:
            errors["no_suspect_reason"] = _("No suspect is identified: say why the case concludes without one.")
        elif no_suspect_reason == NoSuspectReason.OTHER and not reason:
            errors["reason"] = _("Explain the other reason the case concludes without an identified suspect.")
    else:
        if no_suspect_reason:
            errors["no_suspect_reason"] = _(
                "A suspect is identified: this reason is only for a case that concludes without one."
            )
        if gaps and not reason:
            errors["reason"] = _(
                "Record a final disposition for every identified suspect, or give the reason the case concludes "
                "without one."
            )
    if len(reason) > CONCLUSION_REASON_MAX and "reason" not in errors:
        errors["reason"] = _("Keep this to %(limit)s characters or fewer.") % {"limit": CONCLUSION_REASON_MAX}
    checked = check_overrides(change, "conclude", overrides)
    _refuse(errors, checked)
    fields = write_overrides(change, "conclude", checked)
    case.conclusion_reason = reason
    case.no_suspect_reason = no_suspect_reason
    LookBackReview.objects.create(case=case, campaign_year=timezone.localtime(t).year, started_at=t)
    data = {"reason": reason, "missing": gaps, "no_suspect_reason": no_suspect_reason}
    return _finish(change, "conclude", data, ["conclusion_reason", "no_suspect_reason", *fields])


@transaction.atomic
def reopen_case(
    *, case: Case, by: User, expected_version: int | None, problem: str, detail: str, rectify_by: date | None = None
) -> Case:
    """The look-back found a deficiency: record it as a finding and send the case back to supervision."""
    change = _begin(case, by, "reopen", expected_version)
    case, t = change.case, change.at
    if problem not in FindingProblem.values:
        raise ValidationError({"problem": _("Choose the problem found.")})
    detail = _required_text(detail, "detail", _("Describe the deficiency."))
    finding = SupervisionFinding.objects.create(
        case=case, problem=problem, detail=detail, raised_by=by, raised_at=t, rectify_by=rectify_by
    )
    LookBackReview.objects.filter(case=case, finished_at__isnull=True).update(
        finished_at=t, verdict=ReviewVerdict.DEFICIENT, reviewer=by, disposition_consistent=False
    )
    return _finish(change, "reopen", {"finding": finding.pk, "problem": problem})


@transaction.atomic
def close_case(
    *,
    case: Case,
    by: User,
    expected_version: int | None,
    officer_informed: bool,
    disposition_consistent: bool,
    support_delivered: bool | None = None,
    clarification_issued: bool | None = None,
    notes: str = "",
    overrides: Sequence[OverrideInput | Mapping[str, Any]] = (),
) -> Case:
    """Record an upheld look-back verdict and close. A deficient review is a reopen, not a close. Every open
    downgraded flag needs an override (cases/overrides.py): ticking "consistent with the facts" does not answer one.
    """
    change = _begin(case, by, "close", expected_version)
    case, t = change.case, change.at
    errors: dict[str, Any] = {}
    if not officer_informed:
        errors["officer_informed"] = _("The officer must be informed of the outcome before the case closes.")
    if not disposition_consistent:
        errors["disposition_consistent"] = _(
            "A disposition inconsistent with the facts is a reason to reopen, not to close."
        )
    gaps = _conclusion_gaps(case)
    if gaps == NO_SUSPECT and not (case.no_suspect_reason or case.conclusion_reason):
        errors["reason"] = _("No reason is recorded for concluding without an identified suspect; reopen the case.")
    elif gaps and gaps != NO_SUSPECT and not case.conclusion_reason:
        errors["reason"] = _("A suspect's disposition is no longer final; reopen the case.")
    checked = check_overrides(change, "close", overrides)
    _refuse(errors, checked)
    fields = write_overrides(change, "close", checked)
    review = LookBackReview.objects.select_for_update().filter(case=case, finished_at__isnull=True).first()
    if review is None:
        review = LookBackReview(case=case, campaign_year=timezone.localtime(t).year, started_at=t)
    review.finished_at = t
    review.reviewer = by
    review.verdict = ReviewVerdict.UPHELD
    review.officer_informed = officer_informed
    review.disposition_consistent = disposition_consistent
    review.support_delivered = support_delivered
    review.clarification_issued = clarification_issued
    review.notes = notes
    review.save()
    case.closed_at = t
    return _finish(change, "close", {"review": review.pk}, ["closed_at", *fields])


@transaction.atomic
def recall_case(
    *, case: Case, by: User, expected_version: int | None, reason: str, campaign_year: int | None = None
) -> Case:
    """Bring a closed case back for a look-back review (annual campaign or new facts)."""
    change = _begin(case, by, "recall", expected_version)
    case, t = change.case, change.at
    reason = _required_text(reason, "reason", _("Say why the case is recalled."))
    year = campaign_year or timezone.localtime(t).year
    LookBackReview.objects.create(case=case, campaign_year=year, started_at=t)
    case.closed_at = None
    return _finish(change, "recall", {"reason": reason, "campaign_year": year}, ["closed_at"])
