"""Optimistic concurrency over HTTP: the case ``version`` from the body or an ``If-Match`` header."""

import re

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.request import Request

from cases.models import Case

# "*" (any version), or the version integer, optionally quoted as an ETag, optionally weak.
IF_MATCH_PATTERN = r'^(\*|(W/)?"?[0-9]{1,9}"?)$'
_IF_MATCH_RE = re.compile(IF_MATCH_PATTERN)


def expected_version(request: Request, body_version: int | None) -> int | None:
    """The version the client claims to have read, or None when it gives none (the change is then unconditional)."""
    raw = request.headers.get("If-Match")
    header_version: int | None = None
    if raw is not None:
        if not _IF_MATCH_RE.match(raw):
            raise serializers.ValidationError({"If-Match": [_('Give the case version as returned in ETag, e.g. "7".')]})
        digits = raw.removeprefix("W/").strip('"')
        header_version = None if raw == "*" else int(digits)
    if body_version is not None and header_version is not None and body_version != header_version:
        raise serializers.ValidationError({"version": [_("The version in the body and in If-Match differ.")]})
    return body_version if body_version is not None else header_version


def etag(case: Case) -> str:
    return f'"{case.version}"'
