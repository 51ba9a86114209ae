"""Filing an application: drafts, details, involved officers, suspects and notes (evidence: services/evidence.py)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import outbox, policy
from cases.choices import (
    DISPOSITION_RANK,
    CaseStatus,
    Disposition,
    EventKind,
    SuspectStatus,
)
from cases.models import Case, InvolvedOfficer, ReferenceCounter, Suspect
from cases.rules.facts import FACT_NAMES
from cases.services.common import (
    apply_changes,
    check_version,
    lock_case,
    now,
    record_event,
    refresh_read_model,
    require,
    save_case,
)

# Details the filer may set on a draft; a supervisor may correct all but the unit while the case is open.
DETAIL_FIELDS = ("kind", "channel", "dispatch_ref", "occurred_at", "location", "summary", "narrative", *FACT_NAMES)
OFFICER_FIELDS = ("user", "name", "badge_number", "officer_type", "duty_status", "injury", "medical_notes")
SUSPECT_FIELDS = ("name", "id_number", "status")
DISPOSITION_FIELDS = (
    "disposition",
    "disposition_article",
    "sentence_months",
    "probation",
    "decided_at",
    "lowered_reason",
)


def _next_reference(year: int) -> str:
    """Take the next number of the year under a row lock on its counter: unique, sequential, never reused."""
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year, last_number=0)], ignore_conflicts=True)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"RG-{year}-{counter.last_number:06d}"


@transaction.atomic
def create_draft_case(
    *, by: User, unit: OrgUnit, details: dict[str, Any] | None = None, add_filer_as_officer: bool = True
) -> Case:
    """Start an application. The filer is listed as the first involved officer unless told otherwise."""
    actor = actor_for(by)
    require(policy.can_file_in(actor, unit.path), _("You cannot file a case for this unit."))
    t = now()
    case = Case(
        reference=_next_reference(timezone.localtime(t).year),
        unit=unit,
        unit_path=unit.path,
        filed_by=by,
        created_at=t,
        updated_at=t,
        last_activity_at=t,
    )
    details = dict(details or {})
    details.setdefault("kind", "other")
    apply_changes(case, DETAIL_FIELDS, details)
    case.full_clean(exclude=["reference", "unit_path", "last_activity_at", "created_at", "updated_at"])
    case.save()
    record_event(case=case, kind=EventKind.CREATED, by=by, now=t, to_status=CaseStatus.DRAFT, notify=False)
    if add_filer_as_officer:
        InvolvedOfficer.objects.create(
            case=case, user=by, name=by.full_name or by.username, badge_number=by.badge_number
        )
        # The read model counts the filer from the start (worst injury "none", not unknown).
        case.save(update_fields=refresh_read_model(case))
    return case


@transaction.atomic
def update_case_details(*, case: Case, by: User, expected_version: int | None, changes: dict[str, Any]) -> Case:
    """Change the application's details: the filer while it is a draft, a supervisor while it is open."""
    case = lock_case(case)
    actor = actor_for(by)
    require(policy.can_edit_parties(actor, case), _("You cannot change this case's details now."))
    check_version(case, expected_version)
    diff = apply_changes(case, DETAIL_FIELDS, changes)
    if not diff:
        return case
    case.full_clean(exclude=["reference", "unit_path", "last_activity_at", "created_at", "updated_at"])
    t = now()
    save_case(case, t, list(diff))
    record_event(case=case, kind=EventKind.UPDATED, by=by, now=t, data={"changes": diff}, notify=False)
    outbox.check_flags_on_commit(case)
    return case


@transaction.atomic
def add_involved_officer(*, case: Case, by: User, **fields: Any) -> InvolvedOfficer:
    case = lock_case(case)
    require(policy.can_edit_parties(actor_for(by), case), _("You cannot add officers to this case now."))
    officer = InvolvedOfficer(case=case)
    apply_changes(officer, OFFICER_FIELDS, fields)
    if officer.user is not None and not officer.name:
        officer.name = officer.user.full_name or officer.user.username
    officer.full_clean()
    officer.save()
    t = now()
    changed = refresh_read_model(case)
    save_case(case, t, changed)
    record_event(
        case=case,
        kind=EventKind.OFFICER_ADDED,
        by=by,
        now=t,
        data={"officer": officer.pk, "name": officer.name},
        notify=False,
    )
    outbox.check_flags_on_commit(case)
    return officer


@transaction.atomic
def update_involved_officer(*, officer: InvolvedOfficer, by: User, **fields: Any) -> InvolvedOfficer:
    case = lock_case(officer.case_id)
    require(policy.can_edit_parties(actor_for(by), case), _("You cannot change this case's officers now."))
    officer = InvolvedOfficer.objects.select_for_update().get(pk=officer.pk)
    diff = apply_changes(officer, OFFICER_FIELDS, fields)
    if not diff:
        return officer
    officer.full_clean()
    officer.save()
    t = now()
    save_case(case, t, refresh_read_model(case))
    record_event(
        case=case,
        kind=EventKind.OFFICER_UPDATED,
        by=by,
        now=t,
        data={"officer": officer.pk, "changes": diff},
        notify=False,
    )
    outbox.check_flags_on_commit(case)
    return officer


@transaction.atomic
def remove_involved_officer(*, officer: InvolvedOfficer, by: User) -> None:
    """Only from a draft: once submitted, the list of victims is part of the record."""
    case = lock_case(officer.case_id)
    require(policy.can_edit_draft(actor_for(by), case), _("Officers can only be removed from a draft."))
    name = officer.name
    officer.delete()
    t = now()
    save_case(case, t, refresh_read_model(case))
    record_event(case=case, kind=EventKind.OFFICER_UPDATED, by=by, now=t, data={"removed": name}, notify=False)
    outbox.check_flags_on_commit(case)


@transaction.atomic
def add_suspect(*, case: Case, by: User, **fields: Any) -> Suspect:
    case = lock_case(case)
    require(policy.can_edit_parties(actor_for(by), case), _("You cannot add suspects to this case now."))
    suspect = Suspect(case=case)
    apply_changes(suspect, SUSPECT_FIELDS, fields)
    if suspect.status == SuspectStatus.UNIDENTIFIED and (suspect.name or suspect.id_number):
        suspect.status = SuspectStatus.IDENTIFIED
    suspect.full_clean()
    suspect.save()
    t = now()
    save_case(case, t, refresh_read_model(case))
    record_event(case=case, kind=EventKind.SUSPECT_ADDED, by=by, now=t, data={"suspect": suspect.pk}, notify=False)
    outbox.check_flags_on_commit(case)
    return suspect


@transaction.atomic
def update_suspect(*, suspect: Suspect, by: User, **fields: Any) -> Suspect:
    case = lock_case(suspect.case_id)
    require(policy.can_edit_parties(actor_for(by), case), _("You cannot change this case's suspects now."))
    suspect = Suspect.objects.select_for_update().get(pk=suspect.pk)
    diff = apply_changes(suspect, SUSPECT_FIELDS, fields)
    if not diff:
        return suspect
    suspect.full_clean()
    suspect.save()
    t = now()
    save_case(case, t, [])
    record_event(
        case=case,
        kind=EventKind.SUSPECT_UPDATED,
        by=by,
        now=t,
        data={"suspect": suspect.pk, "changes": diff},
        notify=False,
    )
    outbox.check_flags_on_commit(case)
    return suspect


@transaction.atomic
def record_disposition(*, suspect: Suspect, by: User, disposition: str, **details: Any) -> Suspect:
    """Record where a suspect's handling stands on the disposition ladder (any open stage, supervisors only).

    A disposition lower than the one recorded before needs ``lowered_reason``: an unexplained lowered
    charge is exactly what supervision looks for.
    """
    case = lock_case(suspect.case_id)
    require(policy.can_handle(actor_for(by), case), _("Only a supervisor can record dispositions on an open case."))
    suspect = Suspect.objects.select_for_update().get(pk=suspect.pk)
    if disposition not in Disposition.values:
        raise ValidationError({"disposition": _("Unknown disposition.")})
    before = DISPOSITION_RANK.get(suspect.disposition)
    after = DISPOSITION_RANK.get(disposition)
    lowered = before is not None and after is not None and after < before
    if lowered and not str(details.get("lowered_reason", "")).strip():
        raise ValidationError(
            {"lowered_reason": _("This disposition is lower than the one recorded before; record the reason.")}
        )
    diff = apply_changes(suspect, DISPOSITION_FIELDS, {"disposition": disposition, **details})
    if not diff:
        return suspect
    suspect.full_clean()
    suspect.save()
    t = now()
    save_case(case, t, refresh_read_model(case))
    record_event(
        case=case,
        kind=EventKind.DISPOSITION,
        by=by,
        now=t,
        data={"suspect": suspect.pk, "changes": diff, "lowered": lowered},
    )
    outbox.check_flags_on_commit(case)
    return suspect


@transaction.atomic
def add_note(*, case: Case, by: User, text: str) -> Case:
    case = lock_case(case)
    require(policy.can_add_material(actor_for(by), case), _("You cannot add notes to this case."))
    if not text.strip():
        raise ValidationError({"text": _("A note cannot be empty.")})
    t = now()
    save_case(case, t, [])
    record_event(case=case, kind=EventKind.NOTE, by=by, now=t, data={"text": text.strip()}, notify=False)
    return case
