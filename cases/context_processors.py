"""Navigation facts for every page: one cheap query for the unread count."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.models import Role
from cases.models import Notification
from cases.reports.scope import can_report
from cases.views.common import actor_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"mfa_required": settings.RIGHTSGUARD_MFA_REQUIRED}
    actor = actor_of(request)
    return {
        "nav_is_supervisor": bool(actor.paths_for(Role.SUPERVISOR)),
        "nav_can_report": can_report(actor),
        "nav_is_officer": actor.is_officer,
        "max_upload_bytes": settings.RIGHTSGUARD_MAX_UPLOAD_BYTES,
        "nav_unread": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    }
