"""A user's own notifications and how they hear about them; the administrators' retry of failed notification
e-mails."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for, administrators_over
from cases import selectors
from cases.choices import PREFERENCE_KINDS, NotificationDelivery
from cases.models import Notification, NotificationPreference


@transaction.atomic
def mark_notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (or just ``ids``) read; returns how many changed. Like their list, only
    those the user may still read (``selectors.readable_notifications_q``): the others are neither changed nor
    counted."""
    seen = selectors.readable_notifications_q(actor_for(user))
    qs = Notification.objects.filter(seen, recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


@transaction.atomic
def retry_failed_emails(*, notifications: QuerySet[Notification], by: User) -> int:
    """Give the selected failed e-mails a new round of attempts (once the address or the mail server is fixed):
    the next retry sweep, or for flags the next digest, sends them. Only an administrator over each case's unit
    may."""
    failed = list(notifications.filter(email_failed_at__isnull=False).select_related("case"))
    for note in failed:
        if not (by.is_superuser or administrators_over(note.case.unit_path).filter(pk=by.pk).exists()):
            raise PermissionDenied(_("Only an administrator of the case's unit may retry its e-mails."))
    return Notification.objects.filter(pk__in=[n.pk for n in failed]).update(
        email_failed_at=None, email_attempts=0, email_retry_at=timezone.now()
    )


@transaction.atomic
def set_notification_preferences(*, user: User, deliveries: dict[str, str]) -> None:
    """Record how the user hears about each kind of notification (``PREFERENCE_KINDS``). It applies to notifications
    made from now on; those already waiting keep the delivery they were made with."""
    for kind, delivery in deliveries.items():
        if kind not in PREFERENCE_KINDS or delivery not in NotificationDelivery.values:
            raise ValidationError({kind: _("Choose how you hear about this kind of notification.")})
    for kind, delivery in deliveries.items():
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
