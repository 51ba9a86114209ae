"""A user's own notifications."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases.models import Notification


@transaction.atomic
def mark_notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (or just ``ids``) read; returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
