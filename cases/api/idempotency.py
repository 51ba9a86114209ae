"""``Idempotency-Key`` for POST endpoints: a retried request gets the first answer instead of a second write.

Terminals on flaky networks resend a POST when they did not see the answer. With the same key, the same user
and the same request (method, path, body), the stored status and body of the first successful answer are
returned and the service is not called again; the same key with a different request is refused with 422
``idempotency_key_reused``. Only successful (2xx) answers are stored: a refused request changed nothing, so
running it again is harmless and may well succeed once the client has fixed what was wrong.
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from accounts.requests import user_of
from cases.models import IdempotencyRecord

HEADER = "Idempotency-Key"
# Visible ASCII, as long as the stored column allows; the schema documents the same pattern.
KEY_PATTERN = r"^[!-~]{1,100}$"
_KEY_RE = re.compile(KEY_PATTERN)
REPLAYED_HEADER = "Idempotent-Replayed"


class _NotStored(Exception):
    """Carries a non-2xx answer out of the transaction so the placeholder record is rolled back."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _canonical(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if hasattr(value, "getlist") and hasattr(value, "keys"):  # QueryDict / MultiValueDict (form bodies)
        return {key: [_canonical(v) for v in value.getlist(key)] for key in value}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_fingerprint(request: Request) -> str:
    """Hash of what makes two requests "the same": method, path and parsed body (files by content)."""
    # For multipart bodies ``request.data`` includes the uploaded files.
    payload = json.dumps(
        {"method": request.method, "path": request.path, "body": _canonical(request.data)},
        sort_keys=True,
        cls=JSONEncoder,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _key_of(request: Request) -> str | None:
    if HEADER not in request.headers:
        return None
    key = request.headers[HEADER]
    if not _KEY_RE.match(key):
        raise serializers.ValidationError(
            {HEADER: [_("Use 1 to 100 visible ASCII characters, for example a UUID.")]}, code="invalid"
        )
    return key


def attempt_of(request: Request) -> str | None:
    """What a request shares with its retries (the user and the ``Idempotency-Key``), or None without a key.
    Inside an ``@idempotent`` handler only one request with a given key runs at a time: its record is claimed
    first, and the claim is held until the handler's transaction ends."""
    key = request.headers.get(HEADER)
    return f"{request.user.pk}:{key}" if key else None


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        return Response(
            {
                "code": "idempotency_key_reused",
                "detail": _(
                    "This Idempotency-Key was already used for a different request. Use a new key for a new request."
                ),
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(record.response_body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    if isinstance(record.response_body, dict) and isinstance(record.response_body.get("version"), int):
        response["ETag"] = f'"{record.response_body["version"]}"'
    return response


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an ``APIView.post`` so that an ``Idempotency-Key`` header makes it safe to retry."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key_of(request)
        if key is None:
            return handler(view, request, *args, **kwargs)
        fingerprint = request_fingerprint(request)
        existing = IdempotencyRecord.objects.filter(user=user_of(request), key=key).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        try:
            with transaction.atomic():
                try:
                    # The placeholder claims the key first: a concurrent request with the same key waits on the
                    # unique index until this transaction ends, then replays what it stored.
                    with transaction.atomic():
                        record = IdempotencyRecord.objects.create(
                            user=user_of(request),
                            key=key,
                            method=request.method or "",
                            path=request.path[:300],
                            request_hash=fingerprint,
                            response_status=0,
                            response_body={},
                            created_at=timezone.now(),
                        )
                except IntegrityError:
                    return _replay(IdempotencyRecord.objects.get(user=user_of(request), key=key), fingerprint)
                response = handler(view, request, *args, **kwargs)
                if not status.is_success(response.status_code):
                    raise _NotStored(response)
                record.response_status = response.status_code
                record.response_body = _jsonable(response.data)
                record.save(update_fields=["response_status", "response_body"])
        except _NotStored as not_stored:
            return not_stored.response
        return response

    return wrapper
