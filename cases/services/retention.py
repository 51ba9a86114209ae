"""Retention writes: the daily job that seals and anonymises closed cases, legal holds, and the retention periods.

What anonymising removes, and why. It removes what identifies a person or describes them in words: the involved
officers' names, badge numbers, accounts and medical details; the suspects' names, ID numbers (with their blind index,
so an anonymised suspect is never matched as a repeat attacker again) and the words of the reasons given for their
charges; the case's summary, narrative, location, 110 incident number and reason at conclusion (free text that names
and describes people); the free text of support measures (notes, provider, reasons given), referrals' outcomes,
supervision findings, police-fault findings and look-back reviews; the officer's name on a welfare prompt; and every
evidence file (the stored object through the evidence store, then its row). It keeps every coded fact the reports and
the analysis count (incident type, channel, unit, dates, injury grades, officer types and duty status, suspects'
statuses and dispositions with their articles and sentences, support kinds, statuses and amounts, finding types and
accountability counts, review verdicts, the facts of the rule engine), so the summaries (cases/summaries.py) and
every report figure stay exactly as they were. Where the database requires a text to be there (a refused support
request's reason, an "other" lenient reason, a finding's detail), ``REMOVED`` stands in its place.

What it does not touch: the timeline and the access log, which the database keeps append-only (migration 0006); the
access log's rows go only when their month's partition is dropped after a year (cases/partitions.py). Timeline entries
that quoted a name (an officer added) therefore still hold it; the sealed case is readable only by administrators.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case as Conditional
from django.db.models import F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scope import may_change_shared_settings
from accounts.selectors import actor_for
from cases import policy, retention
from cases.choices import EventKind, LenientReason
from cases.evidence_store import StoreError, evidence_storage
from cases.models import (
    Attachment,
    Case,
    FaultFinding,
    FlagOverride,
    InvolvedOfficer,
    LookBackReview,
    Referral,
    RetentionPolicy,
    RetentionPolicyChange,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
    WelfarePrompt,
)
from cases.services.common import lock_case, record_event, require, save_case

logger = logging.getLogger(__name__)

REMOVED = "—"  # stands for a removed text where the database requires one


@dataclass
class RetentionRun:
    sealed: list[str] = field(default_factory=list)
    anonymised: list[str] = field(default_factory=list)
    files_removed: int = 0
    files_left: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sealed": len(self.sealed),
            "anonymised": len(self.anonymised),
            "files_removed": self.files_removed,
            "files_left": self.files_left,
        }


def apply_retention(*, now: datetime | None = None, batch: int | None = None) -> RetentionRun:
    """Seal the closed cases past their seal date, then anonymise the sealed ones past their anonymise date, at most
    ``batch`` of each (``RIGHTSGUARD_RETENTION_BATCH``), one case per transaction. Idempotent: a case is taken under
    its row lock and only if it still qualifies, so a second run, or one overlapping it, finds nothing left to do;
    a case a user holds locked is left to the next run."""
    now = now or timezone.now()
    batch = batch or settings.RIGHTSGUARD_RETENTION_BATCH
    run = RetentionRun()
    policies = retention.periods()
    for pk in list(retention.seal_candidates(now, policies).values_list("pk", flat=True)[:batch]):
        reference = _seal(pk, now, policies)
        if reference:
            run.sealed.append(reference)
    for pk in list(retention.anonymise_candidates(now, policies).values_list("pk", flat=True)[:batch]):
        done = _anonymise(pk, now, policies)
        if done is None:
            continue
        run.anonymised.append(done[0])
        removed, left = _remove_files(done[1])
        run.files_removed += removed
        run.files_left += left
    return run


def _locked_candidate(pk: int, candidates: Any) -> Case | None:
    return candidates.filter(pk=pk).select_for_update(skip_locked=True, of=("self",)).first()


@transaction.atomic
def _seal(pk: int, now: datetime, policies: dict[str, RetentionPolicy]) -> str | None:
    case = _locked_candidate(pk, retention.seal_candidates(now, policies))
    if case is None:
        return None
    period = policies[case.kind]
    Case.objects.filter(pk=case.pk).update(sealed_at=now, version=F("version") + 1, updated_at=now)
    record_event(
        case=case,
        kind=EventKind.SEALED,
        by=None,
        now=now,
        data={"seal_after_days": period.seal_after_days, "closed_at": case.closed_at and case.closed_at.isoformat()},
        notify=False,
    )
    return case.reference


@transaction.atomic
def _anonymise(pk: int, now: datetime, policies: dict[str, RetentionPolicy]) -> tuple[str, list[str]] | None:
    case = _locked_candidate(pk, retention.anonymise_candidates(now, policies))
    if case is None:
        return None
    attachments = list(Attachment.objects.filter(case=case).order_by("pk"))
    # What was removed, without what it said: enough to account for each file (its digest and size).
    files = [
        {"sha256": a.sha256, "size": a.size, "content_type": a.content_type, "uploaded_at": a.uploaded_at.isoformat()}
        for a in attachments
    ]
    counts = {
        "officers": InvolvedOfficer.objects.filter(case=case).update(
            name=REMOVED, badge_number="", medical_notes="", user=None
        ),
        "suspects": Suspect.objects.filter(case=case).update(
            name="",
            id_number="",
            id_number_index="",
            lowered_reason="",
            lenient_reason_detail=Conditional(
                When(lenient_reason=LenientReason.OTHER, then=Value(REMOVED)), default=Value("")
            ),
        ),
        "support_measures": SupportMeasure.objects.filter(case=case).update(
            notes="",
            provider="",
            decision_reason=Conditional(When(~Q(decision_reason=""), then=Value(REMOVED)), default=Value("")),
        ),
    }
    Referral.objects.filter(case=case).update(outcome="")
    SupervisionFinding.objects.filter(case=case).update(detail=REMOVED, accountability_note="")
    FaultFinding.objects.filter(case=case).update(notes="")
    LookBackReview.objects.filter(case=case).update(notes="")
    FlagOverride.objects.filter(flag__case=case).update(explanation=REMOVED)
    WelfarePrompt.objects.filter(case=case).update(officer_name=REMOVED)
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
    Case.objects.filter(pk=case.pk).update(
        summary="",
        narrative="",
        location="",
        dispatch_ref="",
        conclusion_reason="",
        party_names="",
        anonymised_at=now,
        version=F("version") + 1,
        updated_at=now,
    )
    record_event(
        case=case,
        kind=EventKind.ANONYMISED,
        by=None,
        now=now,
        data={
            "anonymise_after_days": policies[case.kind].anonymise_after_days,
            "officers": counts["officers"],
            "suspects": counts["suspects"],
            "support_measures": counts["support_measures"],
            "files_removed": files,
        },
        notify=False,
    )
    return case.reference, [a.stored_name for a in attachments]


def _remove_files(names: list[str]) -> tuple[int, int]:
    """Remove the anonymised case's evidence files, once the rows are gone for good (after the commit): a file the
    store cannot remove now has no row any more, so the evidence sweep (``sweep_evidence``) removes it later."""
    storage = evidence_storage()
    removed = left = 0
    for name in names:
        try:
            storage.remove(name)
        except StoreError as exc:
            logger.warning("Evidence storage could not remove %s now; the sweep will: %s", name, exc)
            left += 1
        else:
            removed += 1
    return removed, left


# --- legal holds ---------------------------------------------------------------------------------------------------


@transaction.atomic
def place_legal_hold(*, case: Case, by: User, reason: str) -> Case:
    """Hold the case: the retention job neither seals nor anonymises it until the hold is lifted."""
    return _set_hold(case=case, by=by, reason=reason, hold=True)


@transaction.atomic
def lift_legal_hold(*, case: Case, by: User, reason: str) -> Case:
    """Lift the hold: the retention job acts on the case again once its dates have come."""
    return _set_hold(case=case, by=by, reason=reason, hold=False)


def _set_hold(*, case: Case, by: User, reason: str, hold: bool) -> Case:
    case = lock_case(case)
    require(policy.can_hold(actor_for(by), case), _("Only an administrator of the case's unit places or lifts a hold."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the legal hold.")}, code="required")
    if case.legal_hold == hold:
        message = _("The case is already under a legal hold.") if hold else _("The case is not under a legal hold.")
        raise ValidationError(message, code="hold_unchanged")
    now = timezone.now()
    case.legal_hold = hold
    case.legal_hold_reason = reason if hold else ""
    case.legal_hold_by = by if hold else None
    case.legal_hold_at = now if hold else None
    save_case(case, now, ["legal_hold", "legal_hold_reason", "legal_hold_by", "legal_hold_at"])
    record_event(
        case=case, kind=EventKind.LEGAL_HOLD, by=by, now=now, data={"held": hold, "reason": reason}, notify=False
    )
    return case


# --- the retention periods -------------------------------------------------------------------------------------------


@transaction.atomic
def change_retention_policy(
    *, policy_row: RetentionPolicy, by: User, seal_after_days: int, anonymise_after_days: int, reason: str
) -> RetentionPolicy:
    """Change an incident type's retention periods, keeping the change and its reason (``RetentionPolicyChange``).
    The periods hold for every unit's cases: only an administrator of the whole tree changes them."""
    if not may_change_shared_settings(by):
        raise PermissionDenied(_("Only an administrator of the whole tree changes the retention periods."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the change.")}, code="required")
    if seal_after_days < 1 or anonymise_after_days < seal_after_days:
        raise ValidationError(
            _("A case is sealed at least a day after its closure, and anonymised no earlier than it is sealed."),
            code="retention_order",
        )
    row = RetentionPolicy.objects.select_for_update().get(pk=policy_row.pk)
    now = timezone.now()
    RetentionPolicyChange.objects.create(
        policy=row,
        seal_after_days=seal_after_days,
        anonymise_after_days=anonymise_after_days,
        previous_seal_after_days=row.seal_after_days,
        previous_anonymise_after_days=row.anonymise_after_days,
        reason=reason,
        by=by,
        at=now,
    )
    row.seal_after_days = seal_after_days
    row.anonymise_after_days = anonymise_after_days
    row.updated_at = now
    row.save(update_fields=["seal_after_days", "anonymise_after_days", "updated_at"])
    return row
