"""API-wide error handling: service errors become precise HTTP answers, all in one envelope.

PermissionDenied → 403, IllegalTransition and Conflict → 409, StaleVersion → 412, VersionRequired → 428, other
ValidationError → 400. Every error
body is ``{"code": <machine-readable>, "detail": <message>}``; validation errors add ``errors``, the messages
per field (``non_field_errors`` for the rest). DRF's own errors (401, 404, 405, parse errors, …) use the same
envelope, so clients and the OpenAPI schema deal with one error shape.
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cases.exceptions import Conflict, IllegalTransition, StaleVersion, VersionRequired


def _messages(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        # A service's error about no one field (Django's NON_FIELD_ERRORS) is the envelope's ``non_field_errors``.
        return {
            "non_field_errors" if field == NON_FIELD_ERRORS else field: [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _flatten(detail: Any) -> list[str]:
    """DRF error details of any nesting as a flat list of messages."""
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _flatten(value)]
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): _flatten(value) for field, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def invalid(errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"code": "invalid", "detail": _("The request is not valid."), "errors": errors}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, IllegalTransition):
        return Response({"code": "illegal_transition", "detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Conflict):
        return Response({"code": exc.code or "conflict", "detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StaleVersion):
        return Response(
            {"code": "stale_version", "detail": exc.messages[0]}, status=status.HTTP_412_PRECONDITION_FAILED
        )
    if isinstance(exc, VersionRequired):
        return Response(
            {"code": "version_required", "detail": exc.messages[0]}, status=status.HTTP_428_PRECONDITION_REQUIRED
        )
    if isinstance(exc, DjangoValidationError):
        return Response(invalid(_messages(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response(
            {"code": "permission_denied", "detail": str(exc) or _("You do not have permission to do this.")},
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, Http404):
        # Never echo the model name ("No Case matches the given query"): absence and invisibility look alike.
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = invalid(_field_errors(exc.detail))
    else:
        code = exc.get_codes()
        response.data = {
            "code": code if isinstance(code, str) else exc.default_code,
            "detail": " ".join(_flatten(exc.detail)),
        }
    return response
