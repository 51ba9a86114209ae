"""The access log: who read which case, downloaded which file, revealed what, ran which export, or was refused."""

from django.http import HttpRequest
from django.utils import timezone

from cases.choices import AccessAction
from cases.models import AccessLog, Case


def source_address(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def log_access(
    *,
    request: HttpRequest | None,
    action: str,
    case: Case | None = None,
    object_ref: str = "",
    outcome: str = "ok",
) -> AccessLog:
    """Append one entry. Runs in its own statement: a refused request still leaves its trace."""
    user = getattr(request, "user", None) if request is not None else None
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        case=case,
        action=action,
        object_ref=object_ref[:200],
        outcome=outcome,
        at=timezone.now(),
        source_ip=source_address(request),
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )


def log_denied(*, request: HttpRequest, object_ref: str, outcome: str) -> AccessLog:
    return log_access(request=request, action=AccessAction.DENIED, object_ref=object_ref, outcome=outcome)
