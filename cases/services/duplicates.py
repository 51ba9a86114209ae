"""Duplicate applications: link two cases as related, merge one into the other, undo a merge.

Both cases are locked, the lower id first, whoever calls and in whichever role the cases come: two requests about the
same pair (or pairs sharing a case) wait for each other rather than deadlock, and the second sees what the first did.
Every check is made on the locked rows, so two merges at once cannot both pass; a second identical request (a double
click) is refused with a message saying the first one did it, and changes nothing.

A merge keeps everything: the merged case becomes a closed record pointing at the survivor (``Case.merged_into``) with
its own timeline, parties and evidence, readable from the survivor's page; its victims (its filer among them, when
listed) are listed on the survivor as victims (an officer already listed there is not listed twice, nor a filer who
was not attacked), so they follow the survivor and count there in the reports, where the merged record no longer
counts (cases/summaries.py). ``CaseMerge`` records what the merge changed, and an administrator's unmerge undoes
exactly that within ``RIGHTSGUARD_UNMERGE_DAYS``; an officer another merge in force lists too stays, that merge's.
"""

import hashlib
import json
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import outbox, policy, summaries
from cases.choices import OPEN_STATUSES, CaseStatus, EventKind
from cases.exceptions import Conflict
from cases.models import Case, CaseLink, CaseMerge, InvolvedOfficer, SupportMeasure
from cases.services.common import CaseChange, lock_case, now

# The longest reason given for a link, a merge or an unmerge, whichever door it comes through.
REASON_MAX = 2000
# The merged case's fields a merge changes and an unmerge restores.
STAGE_FIELDS = (
    "status",
    "stage_started_at",
    "stage_due_at",
    "paused_at",
    "pause_reason",
    "stage_extended_at",
    "closed_at",
    "sla_warn_at",
)
_DATETIMES = frozenset(STAGE_FIELDS) - {"status", "pause_reason"}
# What a merge copies of an officer onto the survivor; an unmerge is refused once any of it changed there.
COPIED_FIELDS = ("name", "badge_number", "officer_type", "duty_status", "injury", "medical_notes")


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    # A reason of invisible format characters alone (zero-width space, direction marks, byte order mark) is none.
    if not "".join(c for c in reason if unicodedata.category(c) != "Cf").strip():
        raise ValidationError({field: _("Give the reason.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({field: _("Keep this to %(limit)s characters or fewer.") % {"limit": REASON_MAX}})
    return reason


def _lock_pair(first: Case | int, second: Case | int, by: User) -> tuple[CaseChange, CaseChange]:
    """Lock both cases, the lower id first; the changes in the order the caller named the cases."""
    a = first if isinstance(first, int) else first.pk
    b = second if isinstance(second, int) else second.pk
    t = now()
    locked = {pk: lock_case(pk) for pk in sorted((a, b))}
    changes = {pk: CaseChange(case=c, by=by, at=t, summarised=summaries.contribution(c)) for pk, c in locked.items()}
    return changes[a], changes[b]


def _same_case(a: Case | int, b: Case | int, field: str, message: str) -> None:
    if (a if isinstance(a, int) else a.pk) == (b if isinstance(b, int) else b.pk):
        raise ValidationError({field: message})


def _refuse_merged_record(case: Case) -> None:
    if case.merged_into_id is not None:
        survivor = Case.objects.only("reference").get(pk=case.merged_into_id)
        raise Conflict(
            _("%(ref)s is merged into %(survivor)s: act on %(survivor)s instead.")
            % {"ref": case.reference, "survivor": survivor.reference},
            code="merged_record",
        )


# --- links -----------------------------------------------------------------------------------------------------------


@transaction.atomic
def link_cases(*, by: User, case: Case | int, other: Case | int, reason: str) -> CaseLink:
    """Link two cases about one incident as related: both carry on, each page lists the other. A supervisor covering
    both; refused for a pair already linked (the same request twice) and for a merged record."""
    _same_case(case, other, "case", _("A case cannot be linked to itself."))
    reason = _reason(reason)
    this, that = _lock_pair(case, other, by)
    actor = actor_for(by)
    if not (policy.can_link(actor, this.case) and policy.can_link(actor, that.case)):
        raise PermissionDenied(_("You may only link cases of units you supervise."))
    for change in (this, that):
        _refuse_merged_record(change.case)
    low, high = sorted((this.case, that.case), key=lambda c: c.pk)
    if CaseLink.objects.filter(low=low, high=high).exists():
        raise Conflict(
            _("%(a)s and %(b)s are already linked: nothing was changed.") % {"a": low.reference, "b": high.reference},
            code="already_linked",
        )
    link = CaseLink.objects.create(low=low, high=high, reason=reason, linked_by=by, linked_at=this.at)
    for change, partner in ((this, that.case), (that, this.case)):
        change.save(
            EventKind.LINKED,
            data={"case": partner.reference, "reason": reason},
            action="link",
            notify=False,
            check_flags=False,
        )
    return link


@transaction.atomic
def unlink_cases(*, by: User, case: Case | int, other: Case | int, reason: str) -> None:
    """Remove the link between two cases (both timelines keep that they were linked, and why it ended)."""
    _same_case(case, other, "case", _("A case cannot be linked to itself."))
    reason = _reason(reason)
    this, that = _lock_pair(case, other, by)
    actor = actor_for(by)
    if not (policy.can_link(actor, this.case) and policy.can_link(actor, that.case)):
        raise PermissionDenied(_("You may only unlink cases of units you supervise."))
    low, high = sorted((this.case, that.case), key=lambda c: c.pk)
    deleted, _rows = CaseLink.objects.filter(low=low, high=high).delete()
    if not deleted:
        raise Conflict(
            _("%(a)s and %(b)s are not linked: nothing was changed.") % {"a": low.reference, "b": high.reference},
            code="not_linked",
        )
    for change, partner in ((this, that.case), (that, this.case)):
        change.save(
            EventKind.UNLINKED, data={"case": partner.reference, "reason": reason}, notify=False, check_flags=False
        )


# --- merges ----------------------------------------------------------------------------------------------------------


def _officer_key(name: str, badge: str) -> tuple[str, str]:
    """An officer without an account, as told apart from others: their name and badge number, spaces and case aside."""
    fold = lambda text: re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()  # noqa: E731
    return fold(name), fold(badge)


def _officers_to_add(survivor: Case, merged: Case) -> list[InvolvedOfficer]:
    """The merged case's victims not yet listed on the survivor, as new rows of the survivor (unsaved). Its filer goes
    with it when listed on it as a victim, as a filer is unless they filed for colleagues only: one who was not
    attacked is never made a victim by a merge. An officer listed by name and badge number without their account is
    the same officer as their account's row."""
    listed = list(InvolvedOfficer.objects.filter(case=survivor).values_list("user_id", "name", "badge_number"))
    users = {user_id for user_id, _name, _badge in listed if user_id is not None}
    keys = {_officer_key(name, badge) for _user, name, badge in listed}
    # Listed without an account, by a badge number: their account's row would be them a second time.
    badged = {_officer_key(name, badge) for user, name, badge in listed if user is None and badge.strip()}
    new: list[InvolvedOfficer] = []
    fields = COPIED_FIELDS
    for officer in InvolvedOfficer.objects.filter(case=merged).order_by("id"):
        key = _officer_key(officer.name, officer.badge_number)
        if officer.user_id is not None:
            if officer.user_id in users or key in badged:
                continue
            users.add(officer.user_id)
        else:
            if key in keys:
                continue
        keys.add(key)
        new.append(InvolvedOfficer(case=survivor, user_id=officer.user_id, **{f: getattr(officer, f) for f in fields}))
    return new


def _copied(officer: InvolvedOfficer) -> str:
    """A digest of what the merge copied of the officer: compared at the unmerge, without a second copy of their
    medical details kept on the merge."""
    values = [officer.user_id, *(getattr(officer, f) for f in COPIED_FIELDS)]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def _stage_of(case: Case) -> dict[str, Any]:
    values = {}
    for field in STAGE_FIELDS:
        value = getattr(case, field)
        values[field] = value.isoformat() if isinstance(value, datetime) else value
    return values


@transaction.atomic
def merge_cases(*, by: User, case: Case | int, into: Case | int, reason: str) -> CaseMerge:
    """Merge ``case`` (a duplicate at intake) into ``into`` (the survivor, open), for a supervisor covering both.

    Refused: a case into itself (400); a case the supervisor does not cover (403); a pair merged already (the same
    request twice), a merged record on either side (no chains), a duplicate past intake — once referred it has its own
    handling on record: link the cases instead — and a survivor that is not open — a closed case is not changed
    behind its look-back: recall it first (409)."""
    _same_case(case, into, "into", _("A case cannot be merged into itself."))
    reason = _reason(reason)
    dup, keep = _lock_pair(case, into, by)
    merged, survivor = dup.case, keep.case
    actor = actor_for(by)
    if not (policy.can_merge(actor, merged) and policy.can_merge(actor, survivor)):
        raise PermissionDenied(_("You may only merge cases of units you supervise."))
    if merged.merged_into_id == survivor.pk:
        raise Conflict(
            _("%(ref)s is already merged into %(survivor)s: nothing was changed.")
            % {"ref": merged.reference, "survivor": survivor.reference},
            code="already_merged",
        )
    _refuse_merged_record(merged)
    if survivor.merged_into_id is not None:
        target = Case.objects.only("reference").get(pk=survivor.merged_into_id)
        raise Conflict(
            _("%(survivor)s is itself merged into %(target)s: merge into %(target)s instead.")
            % {"survivor": survivor.reference, "target": target.reference},
            code="survivor_merged",
        )
    if CaseMerge.objects.filter(survivor=merged, unmerged_at__isnull=True).exists():
        # Its merged records would point at a merged record: a chain, which no page follows to the case carrying on.
        raise Conflict(
            _(
                "%(ref)s has taken in merged duplicates: it cannot itself be merged into another. Undo those merges "
                "first, or link the cases instead."
            )
            % {"ref": merged.reference},
            code="has_merged_records",
        )
    if merged.status != CaseStatus.INTAKE:
        raise Conflict(
            _(
                "Only a case at intake can be merged into another, and %(ref)s is at the stage “%(stage)s”: its "
                "handling is on record. Link the cases instead."
            )
            % {"ref": merged.reference, "stage": merged.get_status_display()},
            code="duplicate_not_at_intake",
        )
    if survivor.status not in OPEN_STATUSES:
        raise Conflict(
            _("%(ref)s is not open (“%(stage)s”): only an open case takes in a duplicate.")
            % {"ref": survivor.reference, "stage": survivor.get_status_display()},
            code="survivor_not_open",
        )
    t = dup.at
    merge = CaseMerge.objects.create(
        survivor=survivor, merged=merged, reason=reason, merged_by=by, merged_at=t, previous=_stage_of(merged)
    )
    added = _officers_to_add(survivor, merged)
    for officer in added:
        officer.added_by_merge = merge
        officer.full_clean(exclude=["case", "user", "added_by_merge"])
    InvolvedOfficer.objects.bulk_create(added)
    merge.previous = {
        **merge.previous,
        "officers": [o.pk for o in added],
        "listed": {str(o.pk): _copied(o) for o in added},
    }
    merge.save(update_fields=["previous"])

    from_status = merged.status
    merged.status = CaseStatus.CLOSED
    merged.merged_into = survivor
    merged.stage_started_at = t
    merged.closed_at = t
    merged.stage_due_at = merged.paused_at = merged.stage_extended_at = merged.sla_warn_at = None
    merged.pause_reason = ""
    dup.save(
        EventKind.MERGED,
        data={"into": survivor.reference, "reason": reason},
        fields=[*STAGE_FIELDS, "merged_into"],
        action="merge",
        from_status=from_status,
        to_status=CaseStatus.CLOSED,
        notify=False,
        check_flags=False,
    )
    keep.save(
        EventKind.MERGED,
        data={"from": merged.reference, "reason": reason, "officers": [o.name for o in added]},
        read_model=True,
        notify=False,
    )
    if added:
        # More officers attacked on the record of the survivor (cases/welfare.py); the merged record counts no more.
        outbox.check_welfare_on_commit(survivor)
    return merge


def _brings(merged: Case) -> tuple[set[int], set[tuple[str, str]]]:
    """Whom a merge of ``merged`` lists on its survivor (``_officers_to_add``): the accounts of its officers, and the
    names and badge numbers of all of them."""
    users: set[int] = set()
    keys: set[tuple[str, str]] = set()
    officers = InvolvedOfficer.objects.filter(case=merged).values_list("user_id", "name", "badge_number")
    for user_id, name, badge in officers:
        if user_id is not None:
            users.add(user_id)
        keys.add(_officer_key(name, badge))
    return users, keys


def _hand_over(merge: CaseMerge, survivor: Case, rows: list[InvolvedOfficer]) -> set[int]:
    """The officers ``merge`` listed on the survivor whom another merge in force into it lists too (the same officer
    filed twice, or is on both duplicates): they stay, now that other merge's, which its own unmerge takes back. The
    ids of those kept."""
    kept: set[int] = set()
    others = CaseMerge.objects.filter(survivor=survivor, unmerged_at__isnull=True).exclude(pk=merge.pk)
    for other in others.select_related("merged").order_by("merged_at", "pk"):
        users, keys = _brings(other.merged)
        taken = [
            row
            for row in rows
            if row.pk not in kept and (row.user_id in users or _officer_key(row.name, row.badge_number) in keys)
        ]
        if not taken:
            continue
        InvolvedOfficer.objects.filter(pk__in=[row.pk for row in taken]).update(added_by_merge=other)
        listed = merge.previous.get("listed", {})
        other.previous = {
            **other.previous,
            "officers": [*other.previous.get("officers", []), *(r.pk for r in taken)],
            "listed": {**other.previous.get("listed", {}), **{str(r.pk): listed.get(str(r.pk)) for r in taken}},
        }
        other.save(update_fields=["previous"])
        kept.update(row.pk for row in taken)
    return kept


def unmerge_deadline(merge: CaseMerge) -> datetime:
    """Until when an administrator may undo ``merge``."""
    return merge.merged_at + timedelta(days=settings.RIGHTSGUARD_UNMERGE_DAYS)


@transaction.atomic
def unmerge_cases(*, by: User, case: Case | int, reason: str) -> CaseMerge:
    """Undo the merge of ``case`` (a merged record): it gets back the stage it had, and the survivor loses exactly the
    officers the merge listed on it. An administrator covering both cases, within ``RIGHTSGUARD_UNMERGE_DAYS`` of the
    merge.

    Refused (409), besides a case that is not merged (the same request twice): after the period, and when the survivor
    has moved on so that the merge cannot be taken back cleanly — an officer it added was removed, or has a support
    measure recorded for them (removing the officer would take the measure's subject), or the survivor is no longer
    open (it was concluded or ended with those victims on its record)."""
    reason = _reason(reason)
    pk = case if isinstance(case, int) else case.pk
    found = CaseMerge.objects.filter(merged_id=pk, unmerged_at__isnull=True).first()
    if found is None:
        current = Case.objects.only("reference").get(pk=pk)
        raise Conflict(
            _("%(ref)s is not merged into another case: nothing was changed.") % {"ref": current.reference},
            code="not_merged",
        )
    dup, keep = _lock_pair(pk, found.survivor_id, by)
    merged, survivor = dup.case, keep.case
    if not policy.can_unmerge(actor_for(by), merged, survivor):
        raise PermissionDenied(_("Only an administrator covering both cases may undo a merge."))
    merge = CaseMerge.objects.select_for_update().get(pk=found.pk)
    if merge.unmerged_at is not None or merged.merged_into_id != survivor.pk:
        raise Conflict(
            _("%(ref)s is not merged into another case: nothing was changed.") % {"ref": merged.reference},
            code="not_merged",
        )
    t = dup.at
    if t > unmerge_deadline(merge):
        raise Conflict(
            _("The merge of %(ref)s can no longer be undone: it was made more than %(days)s days ago.")
            % {"ref": merged.reference, "days": settings.RIGHTSGUARD_UNMERGE_DAYS},
            code="unmerge_period_over",
        )
    officer_ids = list(merge.previous.get("officers", []))
    still_listed = InvolvedOfficer.objects.filter(pk__in=officer_ids, case=survivor, added_by_merge=merge)
    if survivor.status not in OPEN_STATUSES:
        raise Conflict(
            _("%(survivor)s is no longer open: the merge of %(ref)s cannot be undone safely.")
            % {"survivor": survivor.reference, "ref": merged.reference},
            code="survivor_moved_on",
        )
    if still_listed.count() != len(officer_ids):
        raise Conflict(
            _("An officer the merge listed on %(survivor)s has been removed since: the merge cannot be undone safely.")
            % {"survivor": survivor.reference},
            code="survivor_moved_on",
        )
    if SupportMeasure.objects.filter(officer_id__in=officer_ids).exists():
        raise Conflict(
            _(
                "A support measure is recorded on %(survivor)s for an officer the merge listed there: the merge cannot "
                "be undone safely."
            )
            % {"survivor": survivor.reference},
            code="survivor_moved_on",
        )
    listed = merge.previous.get("listed")
    if listed is not None and any(listed.get(str(o.pk)) != _copied(o) for o in still_listed):
        raise Conflict(
            _(
                "An officer the merge listed on %(survivor)s has been changed there since: the merge cannot be undone "
                "safely."
            )
            % {"survivor": survivor.reference},
            code="survivor_moved_on",
        )
    kept = _hand_over(merge, survivor, list(still_listed.order_by("id")))
    gone = still_listed.exclude(pk__in=kept)
    names = list(gone.order_by("id").values_list("name", flat=True))
    gone.delete()
    merge.unmerged_at = t
    merge.unmerged_by = by
    merge.unmerge_reason = reason
    merge.save(update_fields=["unmerged_at", "unmerged_by", "unmerge_reason"])

    previous = merge.previous
    for field in STAGE_FIELDS:
        value = previous.get(field)
        setattr(merged, field, parse_datetime(value) if field in _DATETIMES and value else value)
    merged.pause_reason = merged.pause_reason or ""
    merged.merged_into = None
    dup.save(
        EventKind.UNMERGED,
        data={"from": survivor.reference, "reason": reason},
        fields=[*STAGE_FIELDS, "merged_into"],
        from_status=CaseStatus.CLOSED,
        to_status=merged.status,
        notify=False,
    )
    keep.save(
        EventKind.UNMERGED,
        data={"case": merged.reference, "reason": reason, "officers": names},
        read_model=True,
        notify=False,
    )
    return merge
