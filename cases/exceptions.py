"""Errors the case services raise. All are ``ValidationError`` subclasses with a stable ``code``."""

from django.core.exceptions import ValidationError


class IllegalTransition(ValidationError):
    """The action is not allowed from the case's current status (API: 409)."""


class StaleVersion(ValidationError):
    """The caller acted on an out-of-date copy of the case (API: 412)."""


class VersionRequired(ValidationError):
    """The caller approved without naming the version they read and approve (API: 428)."""


class Conflict(ValidationError):
    """The request does not fit the state of the case (already merged, already linked, a merge past its period): API
    409 with the error's ``code``. Nothing was changed."""
