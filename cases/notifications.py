"""Who hears about a case event, and delivery (in-app row + e-mail). Called from tasks only.

E-mail is delivered at least once and never dropped silently. Each notification is locked on its own row only
(``of=("self",)``: a lock someone else holds on the recipient's user row must not make the delivery pass it by),
e-mailed and marked in its own transaction. A send the mail server refuses or does not answer is a failed attempt:
the notification is retried with exponential backoff (``retry_unsent_emails``, beat every minute; flag
notifications go out again with the next digest), and after ``RIGHTSGUARD_EMAIL_MAX_ATTEMPTS`` it is marked
failed, which the admin's notification list shows and ``manage.py reconcile`` reports, and the administrators over
the case's unit are told in-app.
"""

import logging
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.authority import Actor
from accounts.models import User
from accounts.selectors import actor_for, administrators_over
from cases import messages, policy, selectors
from cases.choices import OPEN_STATUSES, EventKind, FlagKind, NotificationDelivery
from cases.models import Case, CaseEvent, InvolvedOfficer, Notification, Referral, SupervisionFinding
from rightsguard.text import language_of

logger = logging.getLogger(__name__)

# Actions taken by the filer that the office must hear about; every other transition is news for the officers.
_OFFICE_ACTIONS = {"submit", "withdraw"}


def _officers_of(case: Case) -> set[int]:
    ids = set(InvolvedOfficer.objects.filter(case=case, user__isnull=False).values_list("user_id", flat=True))
    ids.add(case.filed_by_id)
    return ids


def _assignee(case: Case) -> Actor | None:
    """The grants of the case's assignee as they are now (the policy asks whether they still handle it)."""
    return actor_for(case.assigned_to) if case.assigned_to is not None else None


def _office_of(case: Case) -> set[int]:
    return set(policy.office_recipients(unit_path=case.unit_path, assignee=_assignee(case)))


def recipients_for(event: CaseEvent) -> set[int]:
    case = event.case
    if event.kind == EventKind.TRANSITION:
        if event.action in _OFFICE_ACTIONS:
            ids = _office_of(case)
        else:
            # The officers hear of every move; the case's handler too when someone else moved it (they have the
            # next step to take: acknowledge a referral, complete a review).
            ids = _officers_of(case) | set(policy.handler_of(unit_path=case.unit_path, assignee=_assignee(case)))
    elif event.kind == EventKind.ASSIGNED:
        ids = {event.data.get("to")} - {None}
    elif event.kind in (EventKind.DISPOSITION, EventKind.SUPPORT):
        ids = _officers_of(case)
    elif event.kind in (EventKind.FINDING, EventKind.FLAG_RAISED, EventKind.FAULT_FINDING):
        ids = _office_of(case)
    elif event.kind == EventKind.IMPORTED:
        # Started (or matched) from a 110 incident by another system: the filer completes and submits it.
        ids = {case.filed_by_id}
    else:
        ids = set()
    if event.actor_id is not None:
        ids.discard(event.actor_id)
    ids = {i for i in ids if i is not None}
    if ids and not policy.is_shared_event(event, case):
        # The office's internal events reach only those who read the case's internal material (cases/policy.py):
        # never its filer, even one who is also a supervisor elsewhere.
        ids = {u.pk for u in User.objects.filter(pk__in=ids) if policy.sees_internal(actor_for(u), case)}
    return ids


def _actor_name(event: CaseEvent) -> str:
    actor = event.actor
    return (actor.full_name or actor.username) if actor is not None else ""


def _referral_unit(data: dict[str, Any]) -> dict[str, str] | None:
    if not isinstance(data.get("referral"), int):
        return None
    referral = Referral.objects.select_related("to_unit").filter(pk=data["referral"]).first()
    if referral is None:
        return None
    if referral.to_unit is not None:
        return {"name": referral.to_unit.name, "name_en": referral.to_unit.name_en}
    return {"name": referral.body_name, "name_en": ""}


def _stage_due(event: CaseEvent) -> str | None:
    """The due date of the stage the event moved the case into, while the case is still in it."""
    case = event.case
    if event.to_status and case.status == event.to_status and case.stage_due_at:
        return case.stage_due_at.isoformat()
    return None


def message_for(event: CaseEvent, to: str = messages.OFFICE) -> tuple[str, dict[str, Any]]:
    """The message key and parameters of the notification announcing ``event`` to a recipient who is the office
    (``messages.OFFICE``: reads the case's internal material) or not (``messages.FILER``): who did what to which case,
    with what the recipient needs to act on it (a handling unit, a due date), taken now. A filer's parameters hold
    nothing from the case's internal material (a reopen's finding, a conclusion's missing dispositions)."""
    data = event.data or {}
    case = event.case
    base: dict[str, Any] = {"v": messages.VERSION, "ref": case.reference, "actor": _actor_name(event), "to": to}
    if event.kind == EventKind.FLAG_RAISED and data.get("rule"):
        key, params = messages.for_flag(case.reference, data.get("kind", ""), data["rule"], data.get("version"))
        return key, {**params, "v": messages.VERSION, "to": to}
    if event.kind == EventKind.TRANSITION and event.action:
        params = {**base, "action": event.action, "stage": event.to_status}
        due = data.get("due_at") if event.action == "refer" else _stage_due(event)
        if due:
            params["due"] = due
        if event.action in ("refer", "acknowledge") and (unit := _referral_unit(data)):
            params["unit"] = unit
        if event.action in messages.MOVE_REASON_ACTIONS and (reason := messages.excerpt(data.get("reason"))):
            # The office's reason, as the timeline shows it to both (it is not internal material): quoted.
            params["reason"] = reason
        return messages.TRANSITION, params
    if event.kind == EventKind.SUPPORT and "answer" in data:
        # The officer hears what was decided on their request, not only that something happened.
        key, params = messages.for_support_answer(case.reference, data)
        return key, {**params, **base}
    params = {**base, "kind": event.kind}
    if event.kind == EventKind.IMPORTED:
        params.update(incident=str(data.get("incident", "")), attached=bool(data.get("attached")))
    if event.kind == EventKind.ASSIGNED and case.stage_due_at and case.status in OPEN_STATUSES:
        params["due"] = case.stage_due_at.isoformat()
    if event.kind == EventKind.FINDING and to == messages.OFFICE and isinstance(data.get("finding"), int):
        rectify_by = SupervisionFinding.objects.filter(pk=data["finding"]).values_list("rectify_by", flat=True)
        if rectify_by and rectify_by[0]:
            params["due"] = rectify_by[0].isoformat()
    return messages.EVENT, params


def describe(event: CaseEvent, to: str = messages.OFFICE) -> str:
    """What a notification about ``event`` says, in the active language."""
    return messages.render(*message_for(event, to))


def build_notification(
    *,
    recipient_id: int,
    case_id: int | None,
    message: str,
    params: dict[str, Any],
    delivery: str,
    now: datetime,
    event: CaseEvent | None = None,
) -> Notification:
    """An unsaved notification as the recipient chose to hear about its kind: in-app only ones have nothing to
    e-mail (``emailed_at`` set at once, as for a recipient without an address)."""
    return Notification(
        recipient_id=recipient_id,
        case_id=case_id,
        event=event,
        message=message,
        params=params,
        verb=messages.stored_text(message, params),
        kind=messages.kind_of(message, params),
        delivery=delivery,
        created_at=now,
        emailed_at=now if delivery == NotificationDelivery.IN_APP else None,
    )


def deliver_for_event(event_id: int) -> int:
    """Idempotent: the unique (recipient, event) constraint and ``emailed_at`` make a retry a no-op."""
    event = CaseEvent.objects.select_related("case__assigned_to", "actor").filter(pk=event_id).first()
    if event is None:
        return 0
    recipients = sorted(recipients_for(event))
    users = User.objects.filter(pk__in=recipients)
    roles = {u.pk: messages.OFFICE if policy.sees_internal(actor_for(u), event.case) else messages.FILER for u in users}
    by_role = {role: message_for(event, role) for role in set(roles.values())}
    # The kind is the event's, whoever reads it.
    kind = messages.kind_of(*next(iter(by_role.values()))) if by_role else ""
    deliveries = selectors.notification_deliveries(roles, kind)
    before = Notification.objects.filter(event=event).count()
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            build_notification(
                recipient_id=uid,
                case_id=event.case_id,
                event=event,
                message=by_role[roles[uid]][0],
                params=by_role[roles[uid]][1],
                delivery=deliveries[uid],
                now=now,
            )
            for uid in recipients
            if uid in roles
        ],
        ignore_conflicts=True,
    )
    # A redelivered job leaves a notification waiting out its backoff alone: the retry sweep takes it when due. A
    # mail server that fails again and again is down: the rest wait for the sweep instead of each for its timeout.
    _email_each(
        Notification.objects.filter(_attemptable(now), event=event, delivery=NotificationDelivery.EMAIL),
        now,
        RETRY_STOP_AFTER_FAILURES,
    )
    return Notification.objects.filter(event=event).count() - before


# --- E-mail attempts, backoff and the retry sweep -------------------------------------------------------------

# Neither e-mailed (or found to have nowhere to go) nor given up on.
EMAIL_OPEN = Q(emailed_at__isnull=True, email_failed_at__isnull=True)
# The delivery that created a notification has this long to e-mail it before the retry sweep may take it over.
RETRY_GRACE = timedelta(minutes=2)
RETRY_BATCH = 200
# After this many failed sends in a row the mail server is taken to be down: the rest of a sweep waits for the next
# run instead of each waiting out its own timeout.
RETRY_STOP_AFTER_FAILURES = 3

Outcome = Literal["sent", "nowhere", "retry", "failed", "skipped"]


def email_max_attempts() -> int:
    return int(settings.RIGHTSGUARD_EMAIL_MAX_ATTEMPTS)


def email_backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed send: the first delay, doubled after each failure."""
    return timedelta(seconds=float(settings.RIGHTSGUARD_EMAIL_RETRY_SECONDS) * 2 ** (attempts - 1))


def _attemptable(now: datetime) -> Q:
    """Open and not waiting out the backoff of a failed attempt."""
    return EMAIL_OPEN & (Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now))


def email_due_for_retry(now: datetime) -> Q:
    """Open event notifications the sweep takes: after a failed attempt's backoff, or left unsent by a delivery
    that skipped them (its row was locked) or died. Flag notifications go out in digests instead, and those the
    recipient chose to read in the daily digest wait for it."""
    due = Q(email_retry_at__lte=now) | Q(email_retry_at__isnull=True, created_at__lte=now - RETRY_GRACE)
    return (
        EMAIL_OPEN
        & due
        & Q(delivery=NotificationDelivery.EMAIL, event__isnull=False)
        & ~Q(event__kind=EventKind.FLAG_RAISED)
    )


def retry_unsent_emails(*, now: datetime | None = None, batch: int = RETRY_BATCH) -> dict[str, int]:
    """The beat's sweep: e-mail the event notifications due for another attempt, oldest first."""
    now = now or timezone.now()
    due = Notification.objects.filter(email_due_for_retry(now)).order_by("created_at", "id")[:batch]
    return _email_each(due, now, stop_after_failures=RETRY_STOP_AFTER_FAILURES)


def _email_each(notes: QuerySet[Notification], now: datetime, stop_after_failures: int = 0) -> dict[str, int]:
    counts = dict.fromkeys(("sent", "nowhere", "retry", "failed", "skipped"), 0)
    failures_in_a_row = 0
    for pk in list(notes.values_list("pk", flat=True)):
        outcome = _email_one(pk, now)
        counts[outcome] += 1
        failures_in_a_row = failures_in_a_row + 1 if outcome in ("retry", "failed") else 0
        if stop_after_failures and failures_in_a_row >= stop_after_failures:
            break
    return counts


def _email_one(pk: int, now: datetime) -> Outcome:
    """Lock, e-mail and mark one notification in one transaction (at least once: a crash after the send and
    before the commit sends it again)."""
    with transaction.atomic():
        # OF self: without it PostgreSQL also locks the joined user row, and SKIP LOCKED then passed the
        # notification by whenever anything held that row (a delivery to the same supervisor, a last-login
        # update). A notification skipped here is held by another delivery; if that one fails, the sweep retries.
        note = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "event__case")
            .filter(EMAIL_OPEN, pk=pk)
            .first()
        )
        if note is None:
            return "skipped"
        user = note.recipient
        if not (user.email and user.is_active) or not _readable(user, [note.pk]):
            # Nowhere to send it: handled, as the in-app notification is all this recipient gets. The e-mail names
            # the case, so it goes only to someone who may still read it when it is sent (a retry can come days
            # after the event, when the recipient has moved to another unit or stopped supervising).
            note.emailed_at = now
            note.save(update_fields=["emailed_at"])
            return "nowhere"
        # In the recipient's language, rendered now: the same message the in-app list shows them.
        with translation.override(language_of(user)):
            subject, body = note.text, _notification_body(user, note)
        try:
            send_mail(subject, body, None, [user.email])
        except Exception as exc:  # the mail server's refusal or silence: an attempt to retry, not a crashed job
            return "failed" if _record_failure([note], exc, now) else "retry"
        note.emailed_at = timezone.now()
        note.email_attempts += 1
        note.email_retry_at = None
        note.save(update_fields=["emailed_at", "email_attempts", "email_retry_at"])
        return "sent"


# The flag scan's prompts to act on a case (its flags, stalled stages included, and the 75 % stage warnings).
_PROMPTS = (messages.FLAG, messages.STAGE_WARNING)


def _readable(user: User, ids: list[int]) -> set[int]:
    """Which of these notifications may still be e-mailed to ``user``: those they may still read
    (``selectors.readable_notifications_q``), as an e-mail says no more than the in-app list would; and of the flag
    scan's prompts, only while they still handle the case for the office (``policy.in_charge_of``). A digest goes out
    up to a day after the scan wrote its rows: a supervisor moved elsewhere meanwhile is not asked to act on the case,
    even one who still reads it (as an administrator above it)."""
    actor = actor_for(user)
    rows = Notification.objects.filter(selectors.readable_notifications_q(actor), pk__in=ids).values_list(
        "pk", "message", "case__unit_path"
    )
    return {pk for pk, message, path in rows if message not in _PROMPTS or policy.in_charge_of(actor, path)}


def _record_failure(notes: list[Notification], exc: Exception, now: datetime) -> int:
    """Count a failed send for these notifications: retry after the backoff, or give up and tell the unit's
    administrators. Returns how many were given up on."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    logger.warning("E-mail for notification(s) %s not sent: %s", [n.pk for n in notes], error)
    given_up = []
    for note in notes:
        note.email_attempts += 1
        note.email_last_error = error
        if note.email_attempts >= email_max_attempts():
            note.email_failed_at = now
            note.email_retry_at = None
            given_up.append(note)
        else:
            note.email_retry_at = now + email_backoff(note.email_attempts)
    Notification.objects.bulk_update(notes, ["email_attempts", "email_last_error", "email_failed_at", "email_retry_at"])
    if given_up:
        _tell_administrators(given_up, now)
    return len(given_up)


def _tell_administrators(notes: list[Notification], now: datetime) -> None:
    cases = {c.pk: c for c in Case.objects.filter(pk__in={n.case_id for n in notes}).only("reference", "unit_path")}
    users = {u.pk: u for u in User.objects.filter(pk__in={n.recipient_id for n in notes})}
    notices: list[Notification] = []
    for note in notes:
        if note.case_id is None:  # a notice about a unit is in-app only: never e-mailed, so never failed
            continue
        case, user = cases[note.case_id], users[note.recipient_id]
        message, params = messages.for_email_failed(
            case.reference, user.full_name or user.username, note.email_attempts
        )
        params["v"] = messages.VERSION
        notices.extend(
            # In-app only: e-mail is what failed, and a notification without an event would otherwise be taken
            # for a flag warning by the digest.
            build_notification(
                recipient_id=uid,
                case_id=case.pk,
                message=message,
                params=params,
                delivery=NotificationDelivery.IN_APP,
                now=now,
            )
            for uid in administrators_over(case.unit_path).values_list("pk", flat=True)
        )
    Notification.objects.bulk_create(notices)


def site_url(path: str) -> str:
    """The absolute address of a page of this site, for e-mails (``RIGHTSGUARD_SITE_URL``)."""
    return settings.RIGHTSGUARD_SITE_URL.rstrip("/") + path


def _notification_body(user: User, note: Notification) -> str:
    # The same sentence as the in-app list, then the link that opens it (and marks it read).
    link = site_url(reverse("cases:notification-open", args=[note.pk]))
    return "\n\n".join(
        [
            _("Hello %(name)s,") % {"name": user.full_name or user.username},
            note.text,
            _("Open it in RightsGuard: %(link)s") % {"link": link},
        ]
    )


# --- Flag digests ---------------------------------------------------------------------------------------------

# Flag notifications: the ones tied to a FLAG_RAISED event, and the stage-clock warnings, which have no event.
FLAG_NOTIFICATIONS = Q(event__kind=EventKind.FLAG_RAISED) | Q(event__isnull=True)
DIGEST_ITEMS = 50


def deliver_flag_digests(*, now: datetime | None = None) -> int:
    """E-mail each supervisor one digest of the flag notifications not yet e-mailed (of those they chose to have
    e-mailed at once); returns the mails sent. See ``_send_digests``."""
    return _send_digests(FLAG_NOTIFICATIONS & Q(delivery=NotificationDelivery.EMAIL), _flag_digest, now=now)


def deliver_daily_digests(*, now: datetime | None = None) -> int:
    """E-mail each user who chose the daily digest for some kinds one mail of their notifications of those kinds
    not yet e-mailed; returns the mails sent. See ``_send_digests``."""
    return _send_digests(Q(delivery=NotificationDelivery.DAILY), _daily_digest, now=now)


def _send_digests(selection: Q, compose: Any, *, now: datetime | None = None) -> int:
    """One mail per recipient of the ``selection`` not yet e-mailed, written by ``compose(user, notes)``.

    Idempotent by ``emailed_at``: each recipient's rows are locked (others running at the same time skip them),
    mailed and marked in one transaction, so a rerun finds nothing left to send. If the process dies after sending
    but before the commit, the same digest goes out again on the next run: at least once, never silently lost. A
    digest the mail server refuses counts as a failed attempt for each of its notifications, which wait out the
    backoff for a later digest.
    """
    now = now or timezone.now()
    recipients = (
        Notification.objects.filter(selection, _attemptable(now))
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    for recipient_id in list(recipients):
        with transaction.atomic():
            pending = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(selection, _attemptable(now), recipient_id=recipient_id)
                .select_related("recipient")
                .order_by("created_at", "id")
            )
            if not pending:
                continue
            user = pending[0].recipient
            # Nowhere to send them, or (as for event e-mails) ones the recipient may no longer read: handled in-app.
            readable = _readable(user, [n.pk for n in pending]) if user.email and user.is_active else set()
            Notification.objects.filter(pk__in=[n.pk for n in pending if n.pk not in readable]).update(emailed_at=now)
            pending = [n for n in pending if n.pk in readable]
            if not pending:
                continue
            mailed = Notification.objects.filter(pk__in=[n.pk for n in pending])
            # In the recipient's language: the same sentences their in-app list shows them.
            with translation.override(language_of(user)):
                subject, body = compose(user, pending)
            try:
                send_mail(subject, body, None, [user.email])
            except Exception as exc:  # counted and retried, and the other recipients still get theirs
                _record_failure(pending, exc, now)
                continue
            sent += 1
            mailed.update(emailed_at=timezone.now(), email_attempts=F("email_attempts") + 1, email_retry_at=None)
    return sent


def _items(notes: list[Notification]) -> str:
    lines = [f"- {note.text}" for note in notes[:DIGEST_ITEMS]]
    if len(notes) > DIGEST_ITEMS:
        lines.append(_("… and %(more)d more.") % {"more": len(notes) - DIGEST_ITEMS})
    return "\n".join(lines)


def stalled_queue_url() -> str:
    """The queue filtered to the stalled cases of the supervisor's units (the dashboard links to the same filter)."""
    return site_url(reverse("cases:queue") + "?flag=" + FlagKind.STALLED)


def _flag_digest(user: User, notes: list[Notification]) -> tuple[str, str]:
    count = len(notes)
    subject = ngettext(
        "RightsGuard: %(count)d flag needs your attention",
        "RightsGuard: %(count)d flags need your attention",
        count,
    ) % {"count": count}
    body = _(
        "Hello %(name)s,\n\nThe flag scan raised these prompts for cases you are responsible for:\n\n%(items)s\n\n"
        "A flag is a prompt to look at the case, not a legal verdict. Open RightsGuard to see each flag with its "
        "rule, its basis and the facts behind it."
    ) % {"name": user.full_name or user.username, "items": _items(notes)}
    if any(n.message == messages.FLAG and n.params.get("kind") == FlagKind.STALLED for n in notes):
        body += "\n\n" + _("The stalled cases of your units: %(link)s") % {"link": stalled_queue_url()}
    return subject, body


def _daily_digest(user: User, notes: list[Notification]) -> tuple[str, str]:
    count = len(notes)
    subject = ngettext(
        "RightsGuard: your daily digest of %(count)d notification",
        "RightsGuard: your daily digest of %(count)d notifications",
        count,
    ) % {"count": count}
    body = "\n\n".join(
        [
            _("Hello %(name)s,") % {"name": user.full_name or user.username},
            _("This happened on your cases since your last digest:"),
            _items(notes),
            _("Your notifications in RightsGuard: %(link)s") % {"link": site_url(reverse("cases:notifications"))},
        ]
    )
    return subject, body
