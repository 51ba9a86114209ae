"""The shapes of the integrations' API: the 110 incident a dispatch system sends, and what it is answered."""

from collections.abc import Iterator
from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.api.serializers import BoundedDateTimeField, enum, text
from cases.choices import IncidentKind
from integrations.models import INCIDENT_NUMBER_MAX

# A 110 incident rarely involves more: the limits keep one request's work bounded.
MAX_UNITS = 50
MAX_OFFICERS = 200

# An identifier the 110 system issues and an officer may type by hand into the application (``dispatch_ref``): only
# what both write alike. An invisible character (a zero-width space) or another form of a digit (full-width) would make
# the same incident another one, and start a second draft for it; a line break would break the notification's e-mail.
INCIDENT_NUMBER = RegexValidator(
    r"^[0-9A-Za-z-]+$", _("A 110 incident number holds only letters, digits and hyphens."), code="invalid"
)


class ClosedSerializer(serializers.Serializer):
    """Refuses a field it does not know: another system's misspelt optional field (``injure`` for ``injured``) would
    otherwise be dropped in silence and the application say what the 110 record did not."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not unknown or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **self._unknown(unknown)}) from None
        if unknown:
            raise serializers.ValidationError(self._unknown(unknown))
        return value

    @staticmethod
    def _unknown(names: list[str]) -> dict[str, list[Any]]:
        return {name: [_("This field is not part of the request.")] for name in names}


class BoundedListField(serializers.ListField):
    """A list whose length is checked before its items: 10,000 officers are refused without validating each (DRF
    checks ``max_length`` after the items)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class AwareDateTimeField(BoundedDateTimeField):
    """A time with its offset from UTC: without it, the same text is another instant in another time zone."""

    def to_internal_value(self, value: Any) -> Any:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None and timezone.is_naive(parsed):
            raise serializers.ValidationError(
                _("Give the time with its offset from UTC, for example 2026-03-12T21:40:00+08:00.")
            )
        return super().to_internal_value(value)


class Incident110OfficerSerializer(ClosedSerializer):
    police_number = text(
        20,
        help_text=_("The officer's police number (badge number): how the officer's account is found, never by name."),
    )
    name = text(100, help_text=_("The officer's name as the 110 record has it (for the record; not used to match)."))
    unit = text(12, help_text=_("The code of the officer's unit: one of units_dispatched."))
    attacked = serializers.BooleanField(help_text=_("Whether the officer was attacked on scene."))
    injured = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "Whether the officer was injured (the injury is then recorded as awaiting appraisal); null: unknown."
        ),
    )


class Incident110Serializer(ClosedSerializer):
    """A 110 incident; a field not described here is refused, not ignored."""

    incident_number = text(
        INCIDENT_NUMBER_MAX,
        validators=[INCIDENT_NUMBER],
        help_text=_(
            "The 110 incident number (letters, digits and hyphens): with the unit, what makes a replay start nothing "
            "new."
        ),
    )
    occurred_at = AwareDateTimeField(help_text=_("When it happened (ISO 8601 with its offset); not in the future."))
    location = text(200, help_text=_("Where it happened."))
    summary = text(5000, help_text=_("The 110 record's account of the incident."))
    kind = enum(
        IncidentKind,
        required=False,
        default=IncidentKind.OTHER,
        help_text=_("The incident type if the 110 record says; left out, the officer chooses it."),
    )
    units_dispatched = BoundedListField(
        child=text(12),
        allow_empty=False,
        min_length=1,  # for the schema: allow_empty's own message answers an empty list
        max_length=MAX_UNITS,
        help_text=_("Codes of the units dispatched; each must be among the units the integration account imports for."),
    )
    # A list field rather than ``many=True``: the schema then states the list's limits (minItems, maxItems).
    officers = BoundedListField(
        child=Incident110OfficerSerializer(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_OFFICERS,
        help_text=_("The officers on scene. Each unit with an attacked officer gets one application."),
    )

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now():
            raise serializers.ValidationError(_("The incident cannot be in the future."))
        return value


class Incident110DraftSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="case.pk", help_text=_("The application's id."))
    reference = serializers.CharField(source="case.reference", help_text=_("The application's reference."))
    unit = serializers.CharField(source="unit.code", help_text=_("The code of the unit it was started for."))
    created = serializers.BooleanField(help_text=_("Started by this request (false: found, e.g. on a replay)."))
    attached = serializers.BooleanField(
        help_text=_("The incident was matched to an application the officer had recorded for it before.")
    )


class Incident110ResultSerializer(serializers.Serializer):
    incident_number = serializers.CharField()
    drafts = Incident110DraftSerializer(many=True, help_text=_("One per unit with an attacked officer."))


def field_paths(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as one message list per field path (``officers[1].police_number``), so that a refusal
    names exactly what to correct."""
    return dict(_paths(detail, prefix))


def _paths(detail: Any, prefix: str) -> Iterator[tuple[str, list[str]]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _paths(value, _join(prefix, key))
    elif isinstance(detail, list) and any(isinstance(item, dict) for item in detail):
        for index, item in enumerate(detail):
            yield from _paths(item, f"{prefix}[{index}]")
    elif isinstance(detail, list):
        yield prefix or "non_field_errors", [str(message) for message in detail]
    else:
        yield prefix or "non_field_errors", [str(detail)]


def _join(prefix: str, key: Any) -> str:
    """An item of a list by its index (``officers[1]``), a field by its name (``officers[1].unit``)."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)
