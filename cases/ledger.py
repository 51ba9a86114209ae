"""Ledger check: does the database hold everything it accepted, whole?

Reconciles, for every case submitted since ``since`` (or every case):

- the case has its ``created`` event, and its transitions, in timeline order, are a path through the workflow
  table from a draft to the status it has now (so a submitted case has its ``submit``, while a draft its filer
  withdrew has only its ``withdraw``);
- every attachment's file exists in evidence storage (the local disk or the object store, cases/evidence_store.py)
  and its size and SHA-256 match the recorded ones, read back in full, and no stored file is without its attachment
  row (an orphan); with ``since``, the attachments of those cases and every attachment uploaded since (to any case),
  and orphans among the files stored since (by modification time). Files waiting under ``.incoming`` are not
  evidence yet: an upload in progress, or what a crash left for the sweep; they are counted (``incoming``), never
  taken for orphans. Files the application did not write (an object-store prefix shared with other data: names
  that are not evidence names, or objects without the application's mark, ``EvidenceStorage.owns``) are counted
  (``foreign``) and left alone;
- every event that notifies someone has its notifications, and none twice (the unique constraint makes a
  duplicate row impossible; duplicate e-mails are counted by the fault tests). A delivery writes all of an event's
  notifications in one statement, so a lost or failed delivery leaves the event with none; which people they went
  to is not compared, as it depends on the case at delivery time (its assignee, its officers, the unit's
  supervisors), which legal later steps change;
- every notification e-mail due is sent within ``email_after`` (30 minutes by default), and none has failed for
  good;
- no background job in the outbox is left undone;
- the yearly report's summaries (cases/summaries.py) equal what they are rebuilt to from scratch, row by row;
  asked to, the difference is written (``repair_summaries``) and the rows repaired are listed, not counted as
  problems;
- optionally, a client's list of accepted submissions (JSON lines ``{"reference": ..., "sha256": [...]}``): each
  reference exists, submitted, with exactly those attachments.

Used after the fault-injection tests and after a restore (``manage.py reconcile``). Returns the counts; a
non-empty ``problems`` list means something accepted was lost or damaged.
"""

import hashlib
import json
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from cases import summaries as report_summaries
from cases.choices import CaseStatus, EventKind, NotificationDelivery
from cases.evidence import INCOMING, STORED_NAME, stored_key
from cases.evidence_store import evidence_storage
from cases.models import Attachment, Case, CaseEvent, Notification, OutboxMessage
from cases.notifications import EMAIL_OPEN, recipients_for
from cases.workflow import TRANSITIONS

_NOTIFYING = (EventKind.TRANSITION, EventKind.ASSIGNED, EventKind.DISPOSITION, EventKind.SUPPORT, EventKind.FINDING)
EMAIL_AFTER = timedelta(minutes=30)
# The daily digest goes out once a day.
DAILY = timedelta(days=1)
_DRAFT = CaseStatus.DRAFT.value


@dataclass
class Ledger:
    cases: int = 0
    submitted: int = 0
    events: int = 0
    attachments: int = 0
    attachment_bytes: int = 0
    incoming: int = 0
    foreign: int = 0
    notifications: int = 0
    notifications_expected: int = 0
    emails_unsent: int = 0
    emails_failed: int = 0
    outbox_pending: int = 0
    accepted_checked: int = 0
    summary_rows: int = 0
    summaries_repaired: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "summaries_repaired": list(self.summaries_repaired),
            "problems": list(self.problems),
            "ok": not self.problems,
        }


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return sha256_of_stream(handle)


def sha256_of_stream(handle: Any) -> str:
    """The SHA-256 of what is left to read of ``handle``, read a megabyte at a time."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def reconcile(
    *,
    since: datetime | None = None,
    accepted: Iterable[dict[str, Any]] = (),
    notifications: bool = True,
    email_after: timedelta = EMAIL_AFTER,
    summaries: bool = True,
    repair_summaries: bool = False,
) -> Ledger:
    """``notifications=False`` skips the recipients and e-mail checks: they recompute who an event notifies from
    the case as it is now, which is right just after the events (the fault tests) but not for years-old history
    (a restore). ``summaries=False`` skips the report summaries, which are checked whole whatever ``since``."""
    ledger = Ledger()
    cases = Case.objects.all()
    if since is not None:
        cases = cases.filter(created_at__gte=since)
    ids = list(cases.values_list("pk", flat=True))
    ledger.cases = len(ids)

    events = CaseEvent.objects.filter(case_id__in=ids)
    ledger.events = events.count()
    created = set(events.filter(kind=EventKind.CREATED).values_list("case_id", flat=True))
    for case_id in sorted(set(ids) - created):
        ledger.problems.append(f"case {case_id}: no 'created' event")
    ledger.submitted = _check_transitions(ledger, cases, events)

    attachments = Attachment.objects.filter(case_id__in=ids)
    if since is not None:
        attachments = Attachment.objects.filter(Q(case_id__in=ids) | Q(uploaded_at__gte=since))
    _check_attachments(ledger, attachments, since=since)
    if notifications:
        _check_notifications(ledger, events.filter(kind__in=_NOTIFYING).select_related("case"))
        _check_emails(ledger, Notification.objects.filter(case_id__in=ids), email_after)

    ledger.outbox_pending = OutboxMessage.objects.filter(done_at__isnull=True).count()
    if ledger.outbox_pending:
        ledger.problems.append(f"{ledger.outbox_pending} background job(s) not done")

    _check_accepted(ledger, accepted)
    if summaries or repair_summaries:
        check = report_summaries.reconcile(repair=repair_summaries)
        ledger.summary_rows = check.rows
        (ledger.summaries_repaired if check.repaired else ledger.problems).extend(check.problems)
    return ledger


def _check_transitions(ledger: Ledger, cases: Any, events: Any) -> int:
    """Walk each case's transitions from a draft: each must be in the workflow table and start where the one
    before ended, and the last must end at the case's status. Returns how many cases were submitted."""
    status_of = dict(cases.values_list("pk", "status"))
    reached: dict[int, str] = {}
    submitted: set[int] = set()
    broken: set[int] = set()
    rows = (
        events.filter(kind=EventKind.TRANSITION)
        .order_by("case_id", "at", "id")
        .values_list("case_id", "action", "from_status", "to_status")
    )
    for case_id, action, from_status, to_status in rows.iterator(chunk_size=10_000):
        if case_id in broken:
            continue
        at = reached.get(case_id, _DRAFT)
        t = TRANSITIONS.get(action)
        if t is None or from_status not in t.sources or to_status != t.target:
            ledger.problems.append(f"case {case_id}: transition {action!r} from {from_status!r} to {to_status!r}")
            broken.add(case_id)
        elif from_status != at:
            ledger.problems.append(f"case {case_id}: {action!r} from {from_status!r}, but the case was {at!r}")
            broken.add(case_id)
        else:
            reached[case_id] = to_status
            if action == "submit":
                submitted.add(case_id)
    for case_id, status in status_of.items():
        at = reached.get(case_id, _DRAFT)
        if case_id not in broken and at != status:
            ledger.problems.append(f"case {case_id}: status {status!r}, but its transitions end at {at!r}")
    return len(submitted)


def _check_emails(ledger: Ledger, notes: Any, email_after: timedelta) -> None:
    """Notifications due for e-mail (an active recipient with an address) and not sent within ``email_after``,
    and those given up on after every attempt (the admin lists them under "e-mail: failed for good")."""
    due = notes.filter(EMAIL_OPEN, recipient__is_active=True).exclude(recipient__email="")
    # Those the recipient chose to read in the daily digest have a day more.
    now = timezone.now()
    late = Q(created_at__lte=now - email_after) & ~Q(delivery=NotificationDelivery.DAILY)
    late |= Q(created_at__lte=now - DAILY - email_after, delivery=NotificationDelivery.DAILY)
    ledger.emails_unsent = due.filter(late).count()
    ledger.emails_failed = notes.filter(email_failed_at__isnull=False).count()
    if ledger.emails_unsent:
        minutes = int(email_after.total_seconds() // 60)
        ledger.problems.append(f"{ledger.emails_unsent} notification e-mail(s) not sent after {minutes} minutes")
    if ledger.emails_failed:
        ledger.problems.append(f"{ledger.emails_failed} notification e-mail(s) failed after every attempt")


def _check_attachments(ledger: Ledger, attachments: Any, *, since: datetime | None) -> None:
    storage = evidence_storage()
    known: set[str] = set()
    for attachment in attachments.order_by("pk").iterator():
        ledger.attachments += 1
        ledger.attachment_bytes += attachment.size
        known.add(attachment.stored_name)
        try:
            handle = storage.reader(stored_key(attachment.stored_name))
        except FileNotFoundError:
            ledger.problems.append(f"attachment {attachment.pk}: file missing")
            continue
        with closing(handle):
            if handle.size != attachment.size or sha256_of_stream(handle) != attachment.sha256:
                ledger.problems.append(f"attachment {attachment.pk}: checksum or size does not match")
    ledger.incoming = sum(1 for _entry in storage.entries(INCOMING))
    # Files directly under the storage's root only: those waiting under .incoming are not evidence.
    unknown = []
    for entry in storage.entries():
        if not STORED_NAME.fullmatch(entry.name):
            ledger.foreign += 1
        elif entry.name not in known and (since is None or entry.modified >= since.timestamp()):
            unknown.append(entry.name)
    unknown.sort()
    # A file stored in the period may belong to an attachment from before it (an upload that straddled its start, a
    # file copied back without its modification time).
    for start in range(0, len(unknown), 1000):
        batch = unknown[start : start + 1000]
        recorded = set(Attachment.objects.filter(stored_name__in=batch).values_list("stored_name", flat=True))
        for name in batch:
            if name in recorded:
                continue
            if storage.owns(name):
                ledger.problems.append(f"evidence file {name}: no attachment row (orphan)")
            else:
                ledger.foreign += 1


def _check_notifications(ledger: Ledger, events: Any) -> None:
    have: dict[int, set[int]] = {}
    rows = Notification.objects.filter(event__in=events).values_list("event_id", "recipient_id")
    for event_id, recipient_id in rows:
        have.setdefault(event_id, set()).add(recipient_id)
    ledger.notifications = sum(len(v) for v in have.values())
    for event in events.iterator():
        # Recomputed from the case as it is now: a figure, exact just after the events (the fault tests).
        expected = recipients_for(event)
        ledger.notifications_expected += len(expected)
        if expected and event.pk not in have:
            ledger.problems.append(f"event {event.pk}: no notifications ({len(expected)} expected)")
    duplicates = (
        Notification.objects.filter(event__in=events)
        .values("event_id", "recipient_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if duplicates:
        ledger.problems.append(f"{duplicates} duplicated notification(s)")


def _check_accepted(ledger: Ledger, accepted: Iterable[dict[str, Any]]) -> None:
    for entry in accepted:
        ledger.accepted_checked += 1
        reference = entry["reference"]
        case = Case.objects.filter(reference=reference).first()
        if case is None:
            ledger.problems.append(f"accepted {reference}: no such case")
            continue
        if entry.get("submitted", True) and case.status == CaseStatus.DRAFT:
            ledger.problems.append(f"accepted {reference}: still a draft")
        expected = sorted(entry.get("sha256", []))
        stored = sorted(Attachment.objects.filter(case=case).values_list("sha256", flat=True))
        if expected != stored:
            ledger.problems.append(f"accepted {reference}: attachments {stored} != {expected}")


def read_accepted(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
