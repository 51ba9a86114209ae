"""OpenAPI building blocks shared by the views: the error answers each operation can give, and common headers.

Every operation lists every status it can answer with (the schema is checked by ``spectacular --validate
--fail-on-warn`` and exercised by schemathesis), so clients can rely on it.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from cases.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from cases.api.idempotency import KEY_PATTERN
from cases.api.serializers import ErrorSerializer
from cases.api.versioning import IF_MATCH_PATTERN

ERROR_DESCRIPTIONS = {
    400: _("Invalid input (code invalid, with the messages per field), or a malformed request."),
    401: _("Not authenticated, or the token or account is no longer valid."),
    403: _(
        "Authenticated but not allowed: the role may not do this to this case now, or (browser session) two-factor "
        "log-in is not complete (code mfa_required)."
    ),
    404: _("No such object among those visible to the caller."),
    409: _("The workflow does not allow this action from the case's current status (code illegal_transition)."),
    412: _("The case changed since the client read it (code stale_version): reload and retry."),
    422: _("The Idempotency-Key was already used for a different request (code idempotency_key_reused)."),
    428: _("An approval that does not name the version approved (code version_required): send the version read."),
    429: _("Too many failed log-ins from this address, or for this username from it (code locked_out)."),
    503: _(
        "The malware scanner could not check the file (code scanner_unavailable), or the evidence store could not be "
        "reached (code storage_unavailable): nothing was kept, or sent; retry later."
    ),
    507: _("The evidence store is full (code storage_full): nothing was kept; retry later."),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}


def responses(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    return {**ok, **errors(*codes)}


IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 100, "pattern": KEY_PATTERN},
    OpenApiParameter.HEADER,
    description=_(
        "Makes the POST safe to retry: a repeat with the same key and body returns the first answer "
        "without doing anything again."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description=_(
        'The case version the client last read, as returned in ETag (e.g. "7"). Same as "version" in the body; '
        "a stale version is refused with 412."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("The case version, quoted; send it back in If-Match."),
    response=[200, 201],
)
