"""A user's own notifications and how they hear about them; the administrators' retry of failed notification
e-mails."""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for, administrators_over
from cases import selectors
from cases.choices import MEMBER_NOTICE_KINDS, PREFERENCE_KINDS, NotificationDelivery, NotificationKind
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
    failed = list(notifications.filter(email_failed_at__isnull=False).select_related("case", "unit"))
    for note in failed:
        about = note.case.unit_path if note.case is not None else note.unit.path if note.unit is not None else ""
        if not (by.is_superuser or (about and administrators_over(about).filter(pk=by.pk).exists())):
            raise PermissionDenied(_("Only an administrator of the case's unit may retry its e-mails."))
    return Notification.objects.filter(pk__in=[n.pk for n in failed]).update(
        email_failed_at=None, email_attempts=0, email_retry_at=timezone.now()
    )


def notification_preference_errors(deliveries: Mapping[str, object], *, complete: bool) -> dict[str, str]:
    """What is wrong with these delivery choices, one message per kind: the one rule for the settings page and the
    API. Each key must be a kind the user chooses the delivery of (``PREFERENCE_KINDS``) and each value a
    ``NotificationDelivery``; ``complete``: every such kind must be given (the page's form, an API PUT)."""
    errors: dict[str, str] = {}
    for kind, delivery in deliveries.items():
        if kind == NotificationKind.EMAIL_PROBLEMS:
            errors[kind] = _("E-mail problems are told in the notification list only: their e-mail is what failed.")
        elif kind == NotificationKind.WELFARE:
            errors[kind] = _("Welfare prompts are told in the notification list only: they are not sent by e-mail.")
        elif kind == NotificationKind.NOTICES:
            errors[kind] = _("Notices about units are told in the notification list only: they are not sent by e-mail.")
        elif kind in MEMBER_NOTICE_KINDS:
            errors[kind] = _(
                "Guidance and library notices are told in the notification list only: they are not sent by e-mail."
            )
        elif kind not in PREFERENCE_KINDS:
            errors[kind] = _("There is no such kind of notification to choose a delivery for.")
        elif delivery is None or delivery == "":
            errors[kind] = _("Choose how you hear about this kind of notification.")
        elif not isinstance(delivery, str) or delivery not in NotificationDelivery.values:
            errors[kind] = _("Choose one of %(choices)s.") % {"choices": ", ".join(NotificationDelivery.values)}
    if complete:
        for kind in PREFERENCE_KINDS:
            if kind not in deliveries:
                errors[kind] = _("Choose how you hear about this kind of notification.")
    return errors


@transaction.atomic
def set_notification_preferences(
    *, user: User, deliveries: Mapping[str, object], complete: bool = False
) -> dict[str, str]:
    """Record how the user hears about each kind of notification given, after ``notification_preference_errors``
    finds nothing wrong (otherwise a ValidationError with its messages per kind, and nothing is recorded). It applies
    to notifications made from now on; those already waiting keep the delivery they were made with. Returns the user's
    delivery for every kind (``selectors.notification_preferences``)."""
    errors = notification_preference_errors(deliveries, complete=complete)
    if errors:
        raise ValidationError(errors)
    for kind, delivery in deliveries.items():
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
    return selectors.notification_preferences(user)
