"""Filing an application: drafts, details, involved officers, suspects and notes (evidence: services/evidence.py)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import outbox, policy
from cases.choices import (
    ADMIN_PUNISHMENTS,
    DISPOSITION_RANK,
    LENIENT_DISPOSITIONS,
    NOTE_MAX_LENGTH,
    CaseStatus,
    Disposition,
    EventKind,
    LenientReason,
    SuspectStatus,
)
from cases.models import Case, CaseEvent, InvolvedOfficer, ReferenceCounter, Suspect
from cases.rules.facts import FACT_NAMES, FACTS, SUPERVISOR, facts_asked_of
from cases.selectors import PUNISHMENTS
from cases.services.common import (
    UNSET,
    CaseChange,
    Unset,
    apply_changes,
    change_case,
    given,
    lock_case,
    now,
    record_event,
    refresh_read_model,
    require,
)
from cases.services.repeats import (
    PRIOR_ATTACK,
    derive_prior_attack,
    record_derived,
    rederive_after_punished_case_changed,
    rederive_prior_attack,
)
from cases.sla import stage_deadline

# An application's details; a supervisor of the case's unit may correct all but the unit while the case is open.
DETAIL_FIELDS = ("kind", "channel", "dispatch_ref", "occurred_at", "location", "summary", "narrative", *FACT_NAMES)
# What the filer changes on their draft: not the facts that are the supervisor's judgement (the filer's facts step
# does not ask them), whichever door the change comes through.
FILER_DETAIL_FIELDS = tuple(f for f in DETAIL_FIELDS if f not in {fact.name for fact in facts_asked_of(SUPERVISOR)})
OFFICER_FIELDS = ("user", "name", "badge_number", "officer_type", "duty_status", "injury", "medical_notes")
SUSPECT_FIELDS = ("name", "id_number", "status")
# The longest reason given with a disposition (lowered or lenient), whichever door it comes through.
REASON_TEXT_MAX = 5000
DISPOSITION_FIELDS = (
    "disposition",
    "disposition_article",
    "sentence_months",
    "probation",
    "decided_at",
    "lowered_reason",
    "lenient_reason",
    "lenient_reason_detail",
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
    # As on the draft afterwards (update_case_details): the facts that are the supervisor's judgement come only from a
    # supervisor of the unit, whichever door the application comes through.
    apply_changes(case, DETAIL_FIELDS if policy.supervises(actor, unit.path) else FILER_DETAIL_FIELDS, details)
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
def record_incident_import(*, case: Case, by: User, incident_number: str, attached: bool) -> CaseEvent:
    """Say on the timeline that the application was started from 110 incident ``incident_number`` by another system's
    account ``by`` (``attached``: an application recorded for the incident already was matched instead), and tell its
    filer, who completes and submits it. Allowed to an integration account covering the case's unit
    (``policy.can_import_into``). An entry on the timeline only: the case's version does not change, so a form the
    filer has open stays current."""
    case = lock_case(case)
    require(
        policy.can_import_into(actor_for(by), case.unit_path),
        _("This account cannot start applications from 110 incidents for this unit."),
    )
    return record_event(
        case=case,
        kind=EventKind.IMPORTED,
        by=by,
        now=now(),
        data={"incident": incident_number, "attached": attached},
        notify=True,
    )


def note_draft_step(*, case: Case, by: User, step: str) -> None:
    """Remember the filing step the filer opened on their draft, where "continue editing" takes them back. Where the
    filer was is not part of the record: no lock, no new version (a second tab's form stays current), no event."""
    Case.objects.filter(pk=case.pk, status=CaseStatus.DRAFT, filed_by=by).exclude(draft_step=step).update(
        draft_step=step
    )


def _check_listed_account(officer: InvolvedOfficer, case: Case) -> None:
    """An involved officer's account sees the case: only one ``policy.can_be_listed_on`` allows is linked."""
    if officer.user is not None and not policy.can_be_listed_on(actor_for(officer.user), case):
        raise ValidationError(
            {
                "user": _(
                    "Only the account of a police officer of this case's province can be linked to an involved officer."
                )
            }
        )


def _editing_parties(case: Case | int, by: User, refusal: str, expected_version: int | None = None) -> CaseChange:
    return change_case(case, by=by, allowed=policy.can_edit_parties, refusal=refusal, expected_version=expected_version)


@transaction.atomic
def update_case_details(*, case: Case, by: User, expected_version: int | None, changes: dict[str, Any]) -> Case:
    """Change the application's details: the filer while it is a draft, a supervisor while it is open."""
    change = _editing_parties(case, by, _("You cannot change this case's details now."), expected_version)
    case = change.case
    fields = DETAIL_FIELDS if policy.supervises(actor_for(by), case.unit_path) else FILER_DETAIL_FIELDS
    major_before = case.major_security_period
    diff = apply_changes(case, fields, changes)
    if not diff:
        return case
    data: dict[str, Any] = {"changes": diff}
    if "kind" in diff:
        # Answers to questions the new incident type does not ask are cleared, not kept out of sight: nobody could
        # see or correct a hidden answer, yet the API and a later change of type would bring it back. The event
        # keeps what each was, and the pages say which were cleared.
        cleared = apply_changes(case, FACT_NAMES, {f.name: f.default for f in FACTS if not f.asked_about(case.kind)})
        for name, (old, new) in cleared.items():
            # A value given in this same change and cleared at once: the event shows what the case had before.
            first = diff.pop(name, [old])[0]
            if first != new:
                diff[name] = [first, new]
        if cleared:
            data["cleared_facts"] = sorted(cleared)
    case.full_clean(exclude=["reference", "unit_path", "last_activity_at", "created_at", "updated_at"])
    if case.major_security_period != major_before:
        diff.update(_restate_deadline(case, major_before))
    # Another type or time may make or unmake the match of the suspects against the record; an answer given in this
    # same change is the person's and stays.
    derived = (
        rederive_prior_attack(change) if {"kind", "occurred_at"} & set(diff) and PRIOR_ATTACK not in diff else None
    )
    change.save(EventKind.UPDATED, fields=[*diff, *([PRIOR_ATTACK] if derived else [])], data=data, notify=False)
    record_derived(change, derived)
    if "occurred_at" in diff:
        # The attack moved in time: the twelve months an officer's attacks are counted over moved with it, and a later
        # case's match against this one's punished suspects may be made or unmade.
        outbox.check_welfare_on_commit(case)
        rederive_after_punished_case_changed(case)
    return case


def _restate_deadline(case: Case, major_before: bool) -> dict[str, list[Any]]:
    """A supervisor judges the security period once the case is open (the filer is never asked): the running stage's
    limit follows the judgement at once, keeping the time its pauses and any extension added."""
    if case.stage_due_at is None or case.stage_started_at is None:
        return {}
    start, stage, track = case.stage_started_at, case.status, case.track
    before = stage_deadline(stage=stage, track=track, major_security_period=major_before, start=start)
    after = stage_deadline(stage=stage, track=track, major_security_period=case.major_security_period, start=start)
    if before is None or after is None or before == after:
        return {}
    old = case.stage_due_at
    case.stage_due_at = old + (after - before)
    return {"stage_due_at": [old.isoformat(), case.stage_due_at.isoformat()]}


@transaction.atomic
def add_involved_officer(
    *,
    case: Case,
    by: User,
    user: User | Unset | None = UNSET,
    name: str | Unset = UNSET,
    badge_number: str | Unset = UNSET,
    officer_type: str | Unset = UNSET,
    duty_status: str | Unset = UNSET,
    injury: str | Unset = UNSET,
    medical_notes: str | Unset = UNSET,
) -> InvolvedOfficer:
    """List an involved officer; what is left out takes the model's default (an account's officer is named after
    it)."""
    change = _editing_parties(case, by, _("You cannot add officers to this case now."))
    officer = InvolvedOfficer(case=change.case)
    fields = given(
        user=user,
        name=name,
        # Without the spaces around it: the officer is found on other cases by it (cases/welfare.py, the search).
        badge_number=badge_number.strip() if isinstance(badge_number, str) else badge_number,
        officer_type=officer_type,
        duty_status=duty_status,
        injury=injury,
        medical_notes=medical_notes,
    )
    apply_changes(officer, OFFICER_FIELDS, fields)
    _check_listed_account(officer, change.case)
    if officer.user is not None and not officer.name:
        officer.name = officer.user.full_name or officer.user.username
    officer.full_clean()
    officer.save()
    change.save(
        EventKind.OFFICER_ADDED,
        data={"officer": officer.pk, "name": officer.name},
        read_model=True,
        notify=False,
    )
    outbox.check_welfare_on_commit(change.case)
    return officer


@transaction.atomic
def update_involved_officer(
    *,
    officer: InvolvedOfficer,
    by: User,
    user: User | Unset | None = UNSET,
    name: str | Unset = UNSET,
    badge_number: str | Unset = UNSET,
    officer_type: str | Unset = UNSET,
    duty_status: str | Unset = UNSET,
    injury: str | Unset = UNSET,
    medical_notes: str | Unset = UNSET,
    expected_version: int | None = None,
) -> InvolvedOfficer:
    """Change what is given; a field left out keeps its value (the filer's own entry stays linked to their
    account unless ``user`` is given)."""
    change = _editing_parties(officer.case_id, by, _("You cannot change this case's officers now."), expected_version)
    officer = _locked_party(InvolvedOfficer, officer)
    fields = given(
        user=user,
        name=name,
        # Without the spaces around it: the officer is found on other cases by it (cases/welfare.py, the search).
        badge_number=badge_number.strip() if isinstance(badge_number, str) else badge_number,
        officer_type=officer_type,
        duty_status=duty_status,
        injury=injury,
        medical_notes=medical_notes,
    )
    diff = apply_changes(officer, OFFICER_FIELDS, fields)
    if not diff:
        return officer
    if "user" in diff:
        _check_listed_account(officer, change.case)
    officer.full_clean()
    officer.save()
    change.save(
        EventKind.OFFICER_UPDATED,
        data={"officer": officer.pk, "changes": diff},
        read_model=True,
        notify=False,
    )
    if {"user", "badge_number"} & set(diff):
        outbox.check_welfare_on_commit(change.case)
    return officer


@dataclass(frozen=True)
class RemovedParty:
    """What a removal took off the case, for undoing it: the party ("officer" or "suspect"), its name as the timeline
    shows it and its fields (sensitive values included: keep them as confidential as the record was)."""

    party: str
    name: str
    fields: dict[str, Any]
    # The removed row's id: the undo lists the party again under it, so a second undo of the same removal (a double
    # click, a replayed session) finds it listed and is refused instead of listing it twice.
    pk: int | None = None


def _locked_party(model: type[InvolvedOfficer] | type[Suspect], item: InvolvedOfficer | Suspect) -> Any:
    """Re-read the party under its case's lock; one removed meanwhile is gone (404), not changed."""
    found = model.objects.select_for_update().filter(pk=item.pk, case_id=item.case_id).first()
    if found is None:
        raise Http404
    return found


@transaction.atomic
def remove_involved_officer(*, officer: InvolvedOfficer, by: User, expected_version: int | None = None) -> RemovedParty:
    """Take an officer listed by mistake off the case (``policy.can_remove_parties``). Refused while the record
    depends on them: a support measure recorded for them, or as the only officer of a submitted case."""
    change = change_case(
        officer.case_id,
        by=by,
        allowed=policy.can_remove_parties,
        refusal=_("You cannot remove officers from this case now."),
        expected_version=expected_version,
    )
    officer = _locked_party(InvolvedOfficer, officer)
    if officer.support_measures.exists():
        raise ValidationError(
            _("%(name)s cannot be removed: a support measure is recorded for them. Change the officer instead.")
            % {"name": officer.name}
        )
    if (
        change.case.status != CaseStatus.DRAFT
        and not InvolvedOfficer.objects.filter(case_id=officer.case_id).exclude(pk=officer.pk).exists()
    ):
        raise ValidationError(
            _("%(name)s cannot be removed: a submitted case lists at least one officer. Add the right one first.")
            % {"name": officer.name}
        )
    removed = RemovedParty(
        party="officer",
        name=officer.name,
        fields={f: (officer.user_id if f == "user" else getattr(officer, f)) for f in OFFICER_FIELDS},
        pk=officer.pk,
    )
    pk = officer.pk
    officer.delete()
    change.save(EventKind.OFFICER_REMOVED, data={"officer": pk, "removed": removed.name}, read_model=True, notify=False)
    return removed


@transaction.atomic
def remove_suspect(*, suspect: Suspect, by: User, expected_version: int | None = None) -> RemovedParty:
    """Take a suspect listed by mistake off the case (``policy.can_remove_parties``). Refused once their handling
    is on record: a disposition recorded (now or before) or a transfer for administrative punishment."""
    change = change_case(
        suspect.case_id,
        by=by,
        allowed=policy.can_remove_parties,
        refusal=_("You cannot remove suspects from this case now."),
        expected_version=expected_version,
    )
    suspect = _locked_party(Suspect, suspect)
    name = str(suspect)
    if suspect.transfers.exists():
        raise ValidationError(
            _("%(name)s cannot be removed: their transfer for administrative punishment is on record.") % {"name": name}
        )
    dispositions = CaseEvent.objects.filter(
        case_id=suspect.case_id, kind=EventKind.DISPOSITION, data__suspect=suspect.pk
    )
    if suspect.disposition != Disposition.UNDER_INVESTIGATION or dispositions.exists():
        raise ValidationError(
            _("%(name)s cannot be removed: a disposition is recorded for them. Correct the suspect instead.")
            % {"name": name}
        )
    removed = RemovedParty(
        party="suspect", name=name, fields={f: getattr(suspect, f) for f in SUSPECT_FIELDS}, pk=suspect.pk
    )
    pk = suspect.pk
    suspect.delete()
    derived = rederive_prior_attack(change)
    change.save(
        EventKind.SUSPECT_REMOVED,
        data={"suspect": pk, "removed": name},
        fields=[PRIOR_ATTACK] if derived else None,
        read_model=True,
        notify=False,
    )
    record_derived(change, derived)
    return removed


@transaction.atomic
def undo_removal(*, case: Case, by: User, removed: RemovedParty) -> InvolvedOfficer | Suspect:
    """List again a party just removed, as it was and under its id (an officer keeps their account link), by whoever
    may remove it; the timeline records the undo. Undoing the same removal twice is refused (400): it is listed."""
    change = change_case(
        case, by=by, allowed=policy.can_remove_parties, refusal=_("You cannot change this case's people now.")
    )
    fields = dict(removed.fields)
    model = InvolvedOfficer if removed.party == "officer" else Suspect
    if removed.pk is not None and model.objects.filter(pk=removed.pk).exists():
        raise ValidationError(_("%(name)s is listed already.") % {"name": removed.name})
    item: InvolvedOfficer | Suspect
    if removed.party == "officer":
        user_id = fields.pop("user", None)
        item = InvolvedOfficer(pk=removed.pk, case=change.case, user_id=user_id)
        apply_changes(item, OFFICER_FIELDS, fields)
        kind = EventKind.OFFICER_ADDED
    else:
        item = Suspect(pk=removed.pk, case=change.case)
        apply_changes(item, SUSPECT_FIELDS, fields)
        kind = EventKind.SUSPECT_ADDED
    item.full_clean()
    item.save(force_insert=True)
    data = {removed.party: item.pk, "name": removed.name, "restored": True}
    change.save(kind, data=data, read_model=True, notify=False)
    return item


@transaction.atomic
def add_suspect(
    *,
    case: Case,
    by: User,
    name: str | Unset = UNSET,
    id_number: str | Unset = UNSET,
    status: str | Unset = UNSET,
) -> Suspect:
    """List a suspect; one with a name or an ID number counts as identified."""
    change = _editing_parties(case, by, _("You cannot add suspects to this case now."))
    suspect = Suspect(case=change.case)
    apply_changes(suspect, SUSPECT_FIELDS, given(name=name, id_number=id_number, status=status))
    if suspect.status == SuspectStatus.UNIDENTIFIED and (suspect.name or suspect.id_number):
        suspect.status = SuspectStatus.IDENTIFIED
    suspect.full_clean()
    suspect.save()
    derived = derive_prior_attack(change, [suspect])
    change.save(
        EventKind.SUSPECT_ADDED,
        data={"suspect": suspect.pk},
        fields=[PRIOR_ATTACK] if derived else None,
        read_model=True,
        notify=False,
    )
    record_derived(change, derived)
    return suspect


@transaction.atomic
def update_suspect(
    *,
    suspect: Suspect,
    by: User,
    name: str | Unset = UNSET,
    id_number: str | Unset = UNSET,
    status: str | Unset = UNSET,
    expected_version: int | None = None,
) -> Suspect:
    """Change what is given; a field left out keeps its value."""
    change = _editing_parties(suspect.case_id, by, _("You cannot change this case's suspects now."), expected_version)
    suspect = _locked_party(Suspect, suspect)
    diff = apply_changes(suspect, SUSPECT_FIELDS, given(name=name, id_number=id_number, status=status))
    if not diff:
        return suspect
    index_before = suspect.id_number_index
    suspect.full_clean()
    suspect.save()
    derived = rederive_prior_attack(change) if "id_number" in diff else None
    if "id_number" in diff and suspect.disposition in PUNISHMENTS:
        # A punished suspect's number corrected: the later cases of the old number and of the new one.
        outbox.rederive_repeats_on_commit([index_before, suspect.id_number_index], changed_case=suspect.case_id)
    change.save(
        EventKind.SUSPECT_UPDATED,
        data={"suspect": suspect.pk, "changes": diff},
        fields=[PRIOR_ATTACK] if derived else None,
        read_model=True,
        notify=False,
    )
    record_derived(change, derived)
    return suspect


@transaction.atomic
def record_disposition(
    *,
    suspect: Suspect,
    by: User,
    disposition: str,
    disposition_article: str | Unset = UNSET,
    sentence_months: int | Unset | None = UNSET,
    probation: bool | Unset | None = UNSET,
    decided_at: date | Unset | None = UNSET,
    lowered_reason: str | Unset = UNSET,
    lenient_reason: str | Unset = UNSET,
    lenient_reason_detail: str | Unset = UNSET,
) -> Suspect:
    """Record where a suspect's handling stands on the disposition ladder (any open stage, supervisors only).

    A disposition lower than the one recorded before needs ``lowered_reason``: an unexplained lowered
    charge is exactly what supervision looks for. A lenient outcome (``LENIENT_DISPOSITIONS``) needs
    ``lenient_reason`` (and, for "other", ``lenient_reason_detail``); any other disposition drops them. An
    administrative punishment after a non-prosecution and the suspect's recorded transfer is not a lowering: it is
    the transfer's lawful follow-on. Other details left out keep their value.
    """
    change = change_case(
        suspect.case_id,
        by=by,
        allowed=policy.can_handle,
        refusal=_("Only a supervisor can record dispositions on an open case."),
    )
    suspect = Suspect.objects.select_for_update().get(pk=suspect.pk)
    if disposition not in Disposition.values:
        raise ValidationError({"disposition": _("Unknown disposition.")})
    before = DISPOSITION_RANK.get(suspect.disposition)
    after = DISPOSITION_RANK.get(disposition)
    follows_transfer = (
        suspect.disposition == Disposition.CRIMINAL_NON_PROSECUTION
        and disposition in ADMIN_PUNISHMENTS
        and suspect.transfers.exists()
    )
    lowered = before is not None and after is not None and after < before and not follows_transfer
    errors: dict[str, str] = {}
    if lowered and (lowered_reason is UNSET or not lowered_reason.strip()):
        errors["lowered_reason"] = _("This disposition is lower than the one recorded before; record the reason.")
    reason = suspect.lenient_reason if lenient_reason is UNSET else lenient_reason
    reason_detail = (
        suspect.lenient_reason_detail if lenient_reason_detail is UNSET else (lenient_reason_detail or "").strip()
    )
    lenient = disposition in LENIENT_DISPOSITIONS
    if not lenient:
        reason, reason_detail = "", ""
    elif not reason:
        errors["lenient_reason"] = _("This outcome is lenient: choose the reason it was reached.")
    elif reason not in LenientReason.values:
        errors["lenient_reason"] = _("Choose one of the listed reasons.")
    elif reason == LenientReason.OTHER and not reason_detail:
        errors["lenient_reason_detail"] = _("Say what the reason is.")
    # The limits the API documents hold for every door.
    too_long = _("Keep this to %(limit)s characters or fewer.") % {"limit": REASON_TEXT_MAX}
    if len(reason_detail) > REASON_TEXT_MAX:
        errors["lenient_reason_detail"] = too_long
    if lowered_reason is not UNSET and len(lowered_reason) > REASON_TEXT_MAX:
        errors["lowered_reason"] = too_long
    if errors:
        raise ValidationError(errors)
    details = given(
        disposition=disposition,
        disposition_article=disposition_article,
        sentence_months=sentence_months,
        probation=probation,
        decided_at=decided_at,
        lowered_reason=lowered_reason,
    )
    details.update(lenient_reason=reason, lenient_reason_detail=reason_detail)
    diff = apply_changes(suspect, DISPOSITION_FIELDS, details)
    if not diff:
        return suspect
    suspect.full_clean()
    suspect.save()
    data: dict[str, Any] = {"suspect": suspect.pk, "changes": diff, "lowered": lowered}
    if lenient:
        # The reason of the outcome as recorded, whether or not it changed with this step.
        data.update(lenient_reason=reason, lenient_reason_detail=reason_detail)
    if follows_transfer:
        data["follows_transfer"] = True
    change.save(EventKind.DISPOSITION, data=data, read_model=True)
    if {"disposition", "decided_at"} & set(diff):
        # A later case listing the same number may now be, or no longer be, a repeat attack on police.
        outbox.rederive_repeats_on_commit([suspect.id_number_index], changed_case=suspect.case_id)
    return suspect


@transaction.atomic
def add_note(*, case: Case, by: User, text: str, visibility: str = "", expected_version: int | None = None) -> Case:
    """A note on the timeline. ``visibility`` (NoteVisibility) defaults by the author's standing on the case: the
    office's notes are internal, the filer's shared; a filer cannot write an internal note. With ``expected_version``
    (bulk notes from the queue) a case changed since the user saw it is refused, so a form sent twice adds one note."""
    change = change_case(
        case,
        by=by,
        allowed=policy.can_add_material,
        refusal=_("You cannot add notes to this case."),
        expected_version=expected_version,
    )
    actor = actor_for(by)
    if not text.strip():
        raise ValidationError({"text": _("A note cannot be empty.")})
    if len(text.strip()) > NOTE_MAX_LENGTH:
        raise ValidationError({"text": _("A note can be at most %(max)d characters long.") % {"max": NOTE_MAX_LENGTH}})
    visibility = visibility or policy.default_note_visibility(actor, change.case)
    if visibility not in policy.note_visibilities(actor, change.case):
        raise ValidationError({"visibility": _("Choose who may read the note.")})
    change.save(EventKind.NOTE, data={"text": text.strip(), "visibility": visibility}, notify=False, check_flags=False)
    return change.case
