"""Navigation facts for every page: the unread count, at most two queries (none unread: one, simple)."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from cases import policy, selectors
from cases.models import Notification


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"mfa_required": settings.RIGHTSGUARD_MFA_REQUIRED}
    actor = request.actor  # type: ignore[attr-defined]  # set by ActorMiddleware for every request
    return {
        "nav_is_supervisor": policy.has_queue(actor),
        "nav_can_report": policy.can_report(actor),
        "nav_rules": policy.can_read_rule_catalogue(actor),
        "nav_retention": policy.can_read_retention_plan(actor),
        "nav_is_officer": policy.can_file(actor),
        "nav_can_search": policy.can_search(actor),
        "max_upload_bytes": settings.RIGHTSGUARD_MAX_UPLOAD_BYTES,
        "nav_unread": _unread(actor),
    }


def _unread(actor: Any) -> int:
    """The actor's unread notifications they may still read. Most pages are seen with none unread: that is asked
    first, on the notifications table alone, and only then are the unread ones checked against what the actor may
    still read (``selectors.readable_notifications_q``), whose join with the cases takes longer to plan than to run."""
    unread = Notification.objects.filter(recipient_id=actor.user_id, read_at__isnull=True)
    if not unread.exists():
        return 0
    return selectors.notifications_for(actor).filter(read_at__isnull=True).count()
