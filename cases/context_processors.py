"""Navigation facts for every page: one cheap query for the unread count."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from cases import policy, selectors


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"mfa_required": settings.RIGHTSGUARD_MFA_REQUIRED}
    actor = request.actor  # type: ignore[attr-defined]  # set by ActorMiddleware for every request
    return {
        "nav_is_supervisor": policy.has_queue(actor),
        "nav_can_report": policy.can_report(actor),
        "nav_rules": policy.can_read_rule_catalogue(actor),
        "nav_is_officer": policy.can_file(actor),
        "nav_can_search": policy.can_search(actor),
        "max_upload_bytes": settings.RIGHTSGUARD_MAX_UPLOAD_BYTES,
        "nav_unread": selectors.notifications_for(actor).filter(read_at__isnull=True).count(),
    }
