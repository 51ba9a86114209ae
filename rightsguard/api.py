"""API-wide error handling: service errors become precise HTTP answers.

PermissionDenied → 403, IllegalTransition → 409, StaleVersion → 412, other ValidationError → 400; the body
carries a machine-readable ``code`` and, for field errors, the messages per field.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cases.exceptions import IllegalTransition, StaleVersion


def _messages(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, IllegalTransition):
        return Response({"code": "illegal_transition", "detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StaleVersion):
        return Response(
            {"code": "stale_version", "detail": exc.messages[0]}, status=status.HTTP_412_PRECONDITION_FAILED
        )
    if isinstance(exc, DjangoValidationError):
        return Response({"code": "invalid", "errors": _messages(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response(
            {"code": "permission_denied", "detail": str(exc) or "Permission denied."}, status=status.HTTP_403_FORBIDDEN
        )
    return drf_exception_handler(exc, context)
