"""The shapes of the integrations' API: the 110 incident a dispatch system sends, and what it is answered."""

from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.api.serializers import BoundedDateTimeField, enum, text
from cases.choices import IncidentKind
from integrations.models import INCIDENT_NUMBER_MAX

# A 110 incident rarely involves more: the limits keep one request's work bounded.
MAX_UNITS = 50
MAX_OFFICERS = 200


class Incident110OfficerSerializer(serializers.Serializer):
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


class Incident110Serializer(serializers.Serializer):
    incident_number = text(
        INCIDENT_NUMBER_MAX,
        help_text=_("The 110 incident number: with the unit, what makes a replay start nothing new."),
    )
    occurred_at = BoundedDateTimeField(help_text=_("When it happened (ISO 8601 with its offset); not in the future."))
    location = text(200, help_text=_("Where it happened."))
    summary = text(5000, help_text=_("The 110 record's account of the incident."))
    kind = enum(
        IncidentKind,
        required=False,
        default=IncidentKind.OTHER,
        help_text=_("The incident type if the 110 record says; left out, the officer chooses it."),
    )
    units_dispatched = serializers.ListField(
        child=text(12),
        allow_empty=False,
        max_length=MAX_UNITS,
        help_text=_("Codes of the units dispatched; each must be among the units the integration account imports for."),
    )
    officers = Incident110OfficerSerializer(  # type: ignore[call-arg]  # many=True takes the list's options
        many=True,
        allow_empty=False,
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
