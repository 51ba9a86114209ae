"""Who hears about a case event, and delivery (in-app row + e-mail). Called from tasks only."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.selectors import supervisors_covering
from cases.choices import EventKind
from cases.models import Case, CaseEvent, InvolvedOfficer, Notification
from cases.workflow import TRANSITIONS

# Actions taken by the filer that the office must hear about; every other transition is news for the officers.
_OFFICE_ACTIONS = {"submit", "withdraw"}


def _officers_of(case: Case) -> set[int]:
    ids = set(InvolvedOfficer.objects.filter(case=case, user__isnull=False).values_list("user_id", flat=True))
    ids.add(case.filed_by_id)
    return ids


def _office_of(case: Case) -> set[int]:
    if case.assigned_to_id:
        return {case.assigned_to_id}
    return set(supervisors_covering(case.unit_path).values_list("pk", flat=True))


def recipients_for(event: CaseEvent) -> set[int]:
    case = event.case
    if event.kind == EventKind.TRANSITION:
        ids = _office_of(case) if event.action in _OFFICE_ACTIONS else _officers_of(case)
    elif event.kind == EventKind.ASSIGNED:
        ids = {event.data.get("to")} - {None}
    elif event.kind in (EventKind.DISPOSITION, EventKind.SUPPORT):
        ids = _officers_of(case)
    elif event.kind in (EventKind.FINDING, EventKind.FLAG_RAISED):
        ids = _office_of(case)
    else:
        ids = set()
    ids.discard(event.actor_id)
    return {i for i in ids if i is not None}


def describe(event: CaseEvent) -> str:
    if event.kind == EventKind.TRANSITION and event.action in TRANSITIONS:
        return _("%(ref)s: %(action)s") % {"ref": event.case.reference, "action": TRANSITIONS[event.action].label}
    return _("%(ref)s: %(what)s") % {"ref": event.case.reference, "what": event.get_kind_display()}


def deliver_for_event(event_id: int) -> int:
    """Idempotent: the unique (recipient, event) constraint and ``emailed_at`` make a retry a no-op."""
    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return 0
    recipients = recipients_for(event)
    with translation.override(settings.LANGUAGE_CODE):
        verb = describe(event)
    before = Notification.objects.filter(event=event).count()
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=uid, case=event.case, event=event, verb=verb, created_at=timezone.now())
            for uid in sorted(recipients)
        ],
        ignore_conflicts=True,
    )
    with transaction.atomic():
        pending = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(event=event, emailed_at__isnull=True)
            .select_related("recipient")
        )
        for note in pending:
            if note.recipient.email and note.recipient.is_active:
                send_mail(verb, _notification_body(note.recipient, event), None, [note.recipient.email])
            note.emailed_at = timezone.now()
            note.save(update_fields=["emailed_at"])
    return Notification.objects.filter(event=event).count() - before


def _notification_body(user: User, event: CaseEvent) -> str:
    return _("Hello %(name)s,\n\n%(what)s\n\nOpen RightsGuard to see the case.") % {
        "name": user.full_name or user.username,
        "what": describe(event),
    }


# --- Flag digests ---------------------------------------------------------------------------------------------

# Flag notifications: the ones tied to a FLAG_RAISED event, and the stage-clock warnings, which have no event.
FLAG_NOTIFICATIONS = Q(event__kind=EventKind.FLAG_RAISED) | Q(event__isnull=True)
DIGEST_ITEMS = 50


def deliver_flag_digests() -> int:
    """E-mail each supervisor one digest of the flag notifications not yet e-mailed; returns the mails sent.

    Idempotent by ``emailed_at``: each recipient's rows are locked (others running at the same time skip them),
    mailed and marked in one transaction. If the process dies after sending but before the commit, the same
    digest goes out again on the next run: at least once, never silently lost.
    """
    recipients = (
        Notification.objects.filter(FLAG_NOTIFICATIONS, emailed_at__isnull=True)
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    for recipient_id in list(recipients):
        with transaction.atomic():
            pending = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(FLAG_NOTIFICATIONS, recipient_id=recipient_id, emailed_at__isnull=True)
                .select_related("recipient")
                .order_by("created_at", "id")
            )
            if not pending:
                continue
            user = pending[0].recipient
            if user.email and user.is_active:
                with translation.override(settings.LANGUAGE_CODE):
                    subject, body = _digest(user, [n.verb for n in pending])
                send_mail(subject, body, None, [user.email])
                sent += 1
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=timezone.now())
    return sent


def _digest(user: User, verbs: list[str]) -> tuple[str, str]:
    count = len(verbs)
    subject = ngettext(
        "RightsGuard: %(count)d flag needs your attention",
        "RightsGuard: %(count)d flags need your attention",
        count,
    ) % {"count": count}
    lines = [f"- {verb}" for verb in verbs[:DIGEST_ITEMS]]
    if count > DIGEST_ITEMS:
        lines.append(_("… and %(more)d more.") % {"more": count - DIGEST_ITEMS})
    body = _(
        "Hello %(name)s,\n\nThe flag scan raised these prompts for cases you are responsible for:\n\n%(items)s\n\n"
        "A flag is a prompt to look at the case, not a legal verdict. Open RightsGuard to see each flag with its "
        "rule, its basis and the facts behind it."
    ) % {"name": user.full_name or user.username, "items": "\n".join(lines)}
    return subject, body
