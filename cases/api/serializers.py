"""Serializers: output shapes (read from selectors, never query) and input shapes (parsed, then handed to one
service). Input serializers validate form only (types, lengths, ranges); the rules live in the services.

Sensitive fields (DESIGN §8) are masked for every caller, in lists, details and the answers to writes alike:
a suspect's ``id_number`` shows the first three and last two characters with asterisks between (all asterisks when
it is that short); an involved officer's ``medical_notes`` are ``null``. One value is shown in full only by the
reveal endpoints, under the rule of cases/policy.py (role, recent re-authentication for sessions, logged).
"""

import functools
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import tokens
from accounts.authority import Actor
from accounts.models import ApiToken, OrgLevel, OrgUnit, Role, User, unit_name
from cases import policy
from cases.api.filters import MAX_YEAR, MIN_YEAR
from cases.choices import (
    FAULT_FINDING_CHOICES,
    FLAG_FIELDS,
    INJURY_RANK,
    NOTE_MAX_LENGTH,
    PREFERENCE_KINDS,
    CaseStatus,
    Channel,
    Disposition,
    DuplicateReason,
    DutyStatus,
    EventKind,
    FindingProblem,
    FlagKind,
    FlagResolution,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    NoSuspectReason,
    NoteVisibility,
    NotificationDelivery,
    NotificationKind,
    OfficerType,
    OverrideReason,
    PauseReason,
    PoliceFault,
    ReferralTarget,
    ReviewVerdict,
    SupportAnswer,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
)
from cases.models import Case, InvolvedOfficer, Suspect
from cases.overrides import BASIS_MAX, TEXT_MAX, override_errors
from cases.rules.base import Severity, Tag
from cases.rules.facts import FACTS
from cases.sensitive import mask_id_number
from cases.services.duplicates import REASON_MAX as DUPLICATE_REASON_MAX
from cases.services.fault import DEPARTMENT_MAX, DOCUMENT_REFERENCE_MAX, NOTES_MAX

_GRADE_BY_RANK = {rank: str(grade) for grade, rank in INJURY_RANK.items()}
INT32_MAX = 2**31 - 1
SMALL_MAX = 32767  # PositiveSmallIntegerField on every supported database

# --- enums: one named schema component per choice set -------------------------------------------------------------


@functools.cache
def _enum_field_class(choices: type[models.TextChoices]) -> type[serializers.ChoiceField]:
    """A ChoiceField documented as the ``$ref`` of a component named after the enum, so every use of e.g.
    ``CaseStatus`` shares one schema and unrelated ``status`` fields do not collide."""

    def to_representation(self: serializers.ChoiceField, value: Any) -> Any:
        # Blank ("not set") goes out as null: no enum has a blank value.
        return None if value == "" else serializers.ChoiceField.to_representation(self, value)

    cls = type(f"{choices.__name__}Field", (serializers.ChoiceField,), {"to_representation": to_representation})
    return extend_schema_field({"type": "string", "enum": list(choices.values)}, component_name=choices.__name__)(cls)


def enum(choices: type[models.TextChoices], **kwargs: Any) -> serializers.ChoiceField:
    return _enum_field_class(choices)(choices=choices.choices, **kwargs)


class BoundedDateTimeField(serializers.DateTimeField):
    """Datetimes outside 1900–2999 are refused: never real here, and they overflow time-zone arithmetic."""

    def to_internal_value(self, value: Any) -> Any:
        result = super().to_internal_value(value)
        if not MIN_YEAR <= result.year <= MAX_YEAR:
            raise serializers.ValidationError(
                _("Give a date between %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
            )
        return result


class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> Any:
        result = super().to_internal_value(value)
        if not MIN_YEAR <= result.year <= MAX_YEAR:
            raise serializers.ValidationError(
                _("Give a date between %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
            )
        return result


class TextField(serializers.CharField):
    """Text the schema documents as a string is a JSON string: a number or a boolean is refused, not turned into
    text (DRF's ``CharField`` would store ``0`` as ``"0"``), and one longer than its limit is refused even when
    trimming its white space would make it fit."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        # The documented limit is on what is sent: measured before white space is trimmed, as a client checks it.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length, length=len(data))
        return super().to_internal_value(data)


def text(max_length: int | None = None, **kwargs: Any) -> serializers.CharField:
    return TextField(max_length=max_length, **kwargs)  # type: ignore[arg-type]


def fact_fields(*, write: bool) -> dict[str, serializers.Field]:
    """The case facts' fields, made from the facts table in its order; writes leave out what they do not change."""
    fields: dict[str, serializers.Field] = {}
    for fact in FACTS:
        options: dict[str, Any] = {"required": False} if write else {}
        if fact.nullable or fact.blank:
            # A blank choice ("not recorded") goes out as null and comes in as null (``blank_facts_as_stored``).
            options["allow_null"] = True
        if fact.choices is not None:
            fields[fact.name] = enum(fact.choices, **options)  # type: ignore[arg-type]
        elif fact.type is bool:
            fields[fact.name] = serializers.BooleanField(**options)
        else:
            if write:
                options.update(min_value=0, max_value=fact.max_value)
            fields[fact.name] = serializers.IntegerField(**options)
    return fields


def blank_facts_as_stored(attrs: dict[str, Any]) -> dict[str, Any]:
    """A choice fact that may be left unrecorded is stored blank: null from a client means that."""
    for fact in FACTS:
        if fact.blank and fact.name in attrs and attrs[fact.name] is None:
            attrs[fact.name] = ""
    return attrs


# --- references ------------------------------------------------------------------------------------------------------


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    # The official (Chinese) name as recorded, whatever the language: a stable value for clients and filters.
    name = serializers.CharField()
    display_name = serializers.CharField(
        help_text=_("The unit's name in the request's language, falling back to the other, as pages show it.")
    )


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user_ref_name(user.full_name, user.username)


def user_ref_name(full_name: str, username: str) -> str:
    """How the API names a person: their full name, or their username when none is recorded."""
    return full_name or username


# --- cases ----------------------------------------------------------------------------------------------------------


class AllowedActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    requires = serializers.CharField()


class CaseSerializer(serializers.Serializer):
    """A case as it appears in lists, with the read-model fields the queue filters on."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = enum(CaseStatus)
    kind = enum(IncidentKind)
    channel = enum(Channel)
    unit = UnitRefSerializer()
    occurred_at = serializers.DateTimeField(allow_null=True)
    location = serializers.CharField()
    summary = serializers.CharField()
    track = enum(Track, allow_null=True)
    stage_due_at = serializers.DateTimeField(allow_null=True)
    is_paused = serializers.SerializerMethodField()
    last_activity_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    filed_by = UserRefSerializer()
    assigned_to = UserRefSerializer(allow_null=True)
    version = serializers.IntegerField()
    max_injury = serializers.SerializerMethodField(help_text=_("Worst ranked injury among the involved officers."))
    disposition_rank = serializers.IntegerField(allow_null=True)
    expected_min_rank = serializers.SerializerMethodField(
        help_text=_("The lowest rank the rules expect; the office's alone (null for the filer).")
    )
    open_flags = serializers.SerializerMethodField(help_text=_("Open flags; the office's alone (empty for the filer)."))

    # The method fields below are written once, for a case or for a row of ``CASE_LIST_COLUMNS`` alike (the list's
    # rows, ``case_list_data``).

    def _internal(self, case: Case) -> bool:
        return _internal(self.context["request"].actor, case)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_expected_min_rank(self, case: Case) -> int | None:
        return _expected_min_rank(case, internal=self._internal(case))

    def get_is_paused(self, case: Case) -> bool:
        return _is_paused(case)

    @extend_schema_field(enum(InjuryGrade, allow_null=True))
    def get_max_injury(self, case: Case) -> str | None:
        return _max_injury(case)

    @extend_schema_field(serializers.ListField(child=enum(FlagKind)))
    def get_open_flags(self, case: Case) -> list[str]:
        return _open_flags(case, internal=self._internal(case))


def _internal(actor: Actor, case: Any) -> bool:
    # Flags and what a rule expected are the office's assessment (cases/policy.py, sees_internal).
    return policy.sees_internal_at(actor, case.unit_path)


def _expected_min_rank(case: Any, *, internal: bool) -> int | None:
    return case.expected_min_rank if internal else None


def _is_paused(case: Any) -> bool:
    return case.paused_at is not None


def _max_injury(case: Any) -> str | None:
    return None if case.max_injury_rank is None else _GRADE_BY_RANK.get(case.max_injury_rank)


def _open_flags(case: Any, *, internal: bool) -> list[str]:
    if not internal:
        return []
    # The read model's booleans (one per kind, FLAG_FIELDS): a downgrade and a review prompt are apart here too.
    return [str(kind) for kind, name in FLAG_FIELDS.items() if getattr(case, name)]


# --- the case list, from rows ----------------------------------------------------------------------------------------

# What the case list reads of each case (``values_list(*CASE_LIST_COLUMNS, named=True)``), related rows included: no
# model instances are built for a page. Holds every field the list may be ordered by (the keyset reads them).
CASE_LIST_COLUMNS = (
    "id",
    "reference",
    "status",
    "kind",
    "channel",
    "unit_id",
    "unit__code",
    "unit__name",
    "unit__name_en",
    "unit_path",
    "occurred_at",
    "location",
    "summary",
    "track",
    "stage_due_at",
    "paused_at",
    "last_activity_at",
    "created_at",
    "submitted_at",
    "closed_at",
    "filed_by_id",
    "filed_by__full_name",
    "filed_by__username",
    "assigned_to_id",
    "assigned_to__full_name",
    "assigned_to__username",
    "version",
    "max_injury_rank",
    "disposition_rank",
    "expected_min_rank",
    *FLAG_FIELDS.values(),
)


@functools.cache
def _case_list_fields() -> dict[str, serializers.Field]:
    # The list serializer's own fields format the values (choices, date-times in the active time zone).
    return dict(CaseSerializer().fields)


def case_list_data(rows: Iterable[Any], *, actor: Actor) -> list[dict[str, Any]]:
    """``CaseSerializer(cases, many=True).data`` for the cases of these rows (of ``CASE_LIST_COLUMNS``), without
    building a case, a unit or a user per row or running DRF's per-field machinery: the same JSON, byte for byte
    (tests/api/test_case_list_data.py), and the same rules for what the caller reads (the helpers above)."""
    fields = _case_list_fields()
    status, kind, channel, track = (fields[name].to_representation for name in ("status", "kind", "channel", "track"))
    when = fields["created_at"].to_representation
    data = []
    for row in rows:
        internal = _internal(actor, row)
        data.append(
            {
                "id": int(row.id),
                "reference": str(row.reference),
                "status": status(row.status),
                "kind": kind(row.kind),
                "channel": channel(row.channel),
                "unit": {
                    "id": int(row.unit_id),
                    "code": str(row.unit__code),
                    "name": str(row.unit__name),
                    "display_name": str(unit_name(row.unit__name, row.unit__name_en)),
                },
                "occurred_at": None if row.occurred_at is None else when(row.occurred_at),
                "location": str(row.location),
                "summary": str(row.summary),
                "track": None if row.track is None else track(row.track),
                "stage_due_at": None if row.stage_due_at is None else when(row.stage_due_at),
                "is_paused": _is_paused(row),
                "last_activity_at": when(row.last_activity_at),
                "created_at": when(row.created_at),
                "submitted_at": None if row.submitted_at is None else when(row.submitted_at),
                "closed_at": None if row.closed_at is None else when(row.closed_at),
                "filed_by": _user_ref(row.filed_by_id, row.filed_by__full_name, row.filed_by__username),
                "assigned_to": None
                if row.assigned_to_id is None
                else _user_ref(row.assigned_to_id, row.assigned_to__full_name, row.assigned_to__username),
                "version": int(row.version),
                "max_injury": _max_injury(row),
                "disposition_rank": None if row.disposition_rank is None else int(row.disposition_rank),
                "expected_min_rank": _expected_min_rank(row, internal=internal),
                "open_flags": _open_flags(row, internal=internal),
            }
        )
    return data


def _user_ref(pk: int, full_name: str, username: str) -> dict[str, Any]:
    return {"id": int(pk), "name": user_ref_name(full_name, username)}


class CaseDetailSerializer(CaseSerializer):
    """The whole application: details, facts for the rules, the stage clock and what the caller may do next."""

    dispatch_ref = serializers.CharField()
    narrative = serializers.CharField()
    # The facts (cases/rules/facts.FACTS), in the table's order: DRF orders fields by when they were made.
    vars().update(fact_fields(write=False))
    stage_started_at = serializers.DateTimeField(allow_null=True)
    paused_at = serializers.DateTimeField(allow_null=True)
    pause_reason = enum(PauseReason, allow_null=True)
    conclusion_reason = serializers.CharField()
    no_suspect_reason = enum(NoSuspectReason, allow_null=True)
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("Workflow actions the caller may take now (cases/{id}/actions/{action}/).")
    )
    merged_into = serializers.SerializerMethodField(
        help_text=_(
            "For a case merged into another as its duplicate (closed, no action applies to it): the reference of the "
            "case that carries on; null otherwise."
        )
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        out = super().to_representation(instance)
        # The facts the caller reads otherwise than the case holds them (``selectors.fact_answers_as_read``, read by
        # the view): a fact set from the record reads as the answer it replaced, outside the office.
        out.update(self.context.get("fact_answers") or {})
        return out

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_merged_into(self, case: Case) -> str | None:
        if case.merged_into_id is None:
            return None
        return Case.objects.filter(pk=case.merged_into_id).values_list("reference", flat=True).first()

    @extend_schema_field(AllowedActionSerializer(many=True))
    def get_allowed_actions(self, case: Case) -> list[dict[str, str]]:
        return [
            {"action": t.action, "label": str(t.label), "requires": str(t.requires)}
            for t in policy.available_actions(self.context["request"].actor, case)
        ]


class CaseDetailsWriteSerializer(serializers.Serializer):
    """The application's details and the facts the rules use; unknown facts stay null."""

    # Mirrors services.intake.DETAIL_FIELDS (a test keeps them equal).

    kind = enum(IncidentKind, required=False)
    channel = enum(Channel, required=False)
    dispatch_ref = text(40, required=False, allow_blank=True)
    occurred_at = BoundedDateTimeField(required=False, allow_null=True)
    location = text(200, required=False, allow_blank=True)
    summary = text(200, required=False, allow_blank=True)
    narrative = text(20000, required=False, allow_blank=True)
    vars().update(fact_fields(write=True))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A client written for the former field is told where the finding goes now, rather than having it ignored.
        if isinstance(self.initial_data, dict) and "police_fault" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "police_fault": _(
                        "Police fault is no longer a field of the case: a supervisor of the case's unit records the "
                        "legal-affairs department's finding at cases/{id}/fault-findings/."
                    )
                }
            )
        return blank_facts_as_stored(attrs)


class CaseCreateSerializer(CaseDetailsWriteSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all(), help_text=_("Handling unit id."))
    add_filer_as_officer = serializers.BooleanField(
        default=True, help_text=_("List the filer as the first involved officer (an application for oneself).")
    )


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=INT32_MAX,
        help_text=_("The case version the client last read; a stale version is refused with 412."),
    )


class CaseUpdateSerializer(VersionedSerializer, CaseDetailsWriteSerializer):
    pass


# --- workflow actions (cases/workflow.py), one input shape per action ---------------------------------------------


class SubmitActionSerializer(VersionedSerializer):
    pass


class WithdrawActionSerializer(VersionedSerializer):
    reason = text(2000)


class RejectActionSerializer(VersionedSerializer):
    reason = text(2000)
    duplicate_of = text(20, required=False, allow_blank=True, help_text=_("Reference of the case this duplicates."))


class ReferActionSerializer(VersionedSerializer):
    track = enum(Track)
    target = enum(ReferralTarget, required=False)
    to_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), required=False, allow_null=True, help_text=_("Internal handling unit id.")
    )
    body_name = text(150, required=False, allow_blank=True, help_text=_("Name of the outside body."))
    due_at = BoundedDateTimeField(required=False, allow_null=True)


class AcknowledgeActionSerializer(VersionedSerializer):
    external_reference = text(60)


class OverrideSerializer(serializers.Serializer):
    """One open flag overridden while concluding or closing (cases/overrides.py)."""

    flag = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("The flag's id."))
    reason = enum(OverrideReason)
    text = TextField(max_length=TEXT_MAX, help_text=_("Why the finding does not stand."))
    basis = TextField(
        max_length=BASIS_MAX,
        required=False,
        allow_blank=True,
        help_text=_("The legal basis; required for a lawful reason."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = override_errors(reason=attrs["reason"], text=attrs["text"], basis=attrs.get("basis", ""))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def overrides_field() -> serializers.ListSerializer:
    return OverrideSerializer(  # type: ignore[call-arg,return-value]  # many=True makes a ListSerializer
        many=True,
        required=False,
        max_length=200,
        help_text=_(
            "An override for each open downgraded flag of the case (required before concluding or closing), and for "
            "any open review prompt the caller chooses to override."
        ),
    )


class ConcludeActionSerializer(VersionedSerializer):
    reason = text(2000, required=False, allow_blank=True)
    no_suspect_reason = enum(
        NoSuspectReason, required=False, allow_blank=True, help_text=_("Required when no suspect is identified.")
    )
    overrides = overrides_field()


class ReopenActionSerializer(VersionedSerializer):
    problem = enum(FindingProblem)
    detail = text(5000)
    rectify_by = BoundedDateField(required=False, allow_null=True)


class CloseActionSerializer(VersionedSerializer):
    officer_informed = serializers.BooleanField()
    disposition_consistent = serializers.BooleanField()
    support_delivered = serializers.BooleanField(required=False, allow_null=True)
    clarification_issued = serializers.BooleanField(required=False, allow_null=True)
    notes = text(5000, required=False, allow_blank=True)
    overrides = overrides_field()


class RecallActionSerializer(VersionedSerializer):
    reason = text(2000)
    # The years the page's recall form offers (cases/forms.py RecallForm).
    campaign_year = serializers.IntegerField(required=False, allow_null=True, min_value=2019, max_value=2100)


class AssignmentSerializer(VersionedSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, help_text=_("A supervisor of the case's unit, or null.")
    )


class PauseClockSerializer(VersionedSerializer):
    reason = enum(PauseReason)
    note = text(2000, required=False, allow_blank=True)


class ExtendDeadlineSerializer(VersionedSerializer):
    approval_reference = text(100, help_text=_("Reference of the approval by the organ above."))
    reason = text(500, help_text=_("Why more time is needed."))


class NoteSerializer(serializers.Serializer):
    text = text(NOTE_MAX_LENGTH)
    visibility = enum(
        NoteVisibility,
        required=False,
        help_text=_(
            "Who may read the note: internal (the office only; the default for supervisors) or shared with the "
            "filer (the only choice, and the default, for the filer)."
        ),
    )


# --- involved officers and suspects ----------------------------------------------------------------------------


class InvolvedOfficerSerializer(serializers.Serializer):
    """An infringed officer. Medical details are masked; the reveal endpoint shows them in full."""

    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id", allow_null=True)
    name = serializers.CharField()
    badge_number = serializers.CharField()
    officer_type = enum(OfficerType)
    duty_status = enum(DutyStatus)
    injury = enum(InjuryGrade)
    medical_notes = serializers.SerializerMethodField(
        help_text=_(
            "Always masked: null when medical details are recorded, empty when there are none. Supervisors covering "
            "the case and the officer themself read them with the reveal endpoint."
        )
    )
    medical_notes_masked = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_medical_notes(self, officer: InvolvedOfficer) -> str | None:
        return None if officer.medical_notes else ""

    def get_medical_notes_masked(self, officer: InvolvedOfficer) -> bool:
        return bool(officer.medical_notes)


class InvolvedOfficerWriteSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, help_text=_("The officer's account, if any.")
    )
    name = text(100, required=False, allow_blank=True)
    badge_number = text(20, required=False, allow_blank=True)
    officer_type = enum(OfficerType, required=False)
    duty_status = enum(DutyStatus, required=False)
    injury = enum(InjuryGrade, required=False)
    medical_notes = text(5000, required=False, allow_blank=True)


class SuspectSerializer(serializers.Serializer):
    """A suspect and their disposition. The ID number is masked; the reveal endpoint shows it in full."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number = serializers.SerializerMethodField(
        help_text=_(
            "Always masked (first 3 and last 2 characters). Supervisors covering the case read it with the reveal "
            "endpoint."
        )
    )
    id_number_masked = serializers.SerializerMethodField()
    status = enum(SuspectStatus)
    disposition = enum(Disposition)
    disposition_article = serializers.CharField()
    sentence_months = serializers.IntegerField(allow_null=True)
    probation = serializers.BooleanField(allow_null=True)
    decided_at = serializers.DateField(allow_null=True)
    lowered_reason = serializers.CharField()
    lenient_reason = enum(
        LenientReason,
        allow_null=True,
        help_text=_("Why a lenient outcome was reached; null when none is recorded or the outcome is not lenient."),
    )
    lenient_reason_detail = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_id_number(self, suspect: Suspect) -> str:
        return mask_id_number(suspect.id_number)

    def get_id_number_masked(self, suspect: Suspect) -> bool:
        return bool(suspect.id_number)


class SuspectSensitiveField(models.TextChoices):
    ID_NUMBER = "id_number", _("ID number")


class OfficerSensitiveField(models.TextChoices):
    MEDICAL_NOTES = "medical_notes", _("medical details")


class SuspectRevealSerializer(serializers.Serializer):
    field = enum(SuspectSensitiveField, help_text=_("The masked field to show in full."))


class OfficerRevealSerializer(serializers.Serializer):
    field = enum(OfficerSensitiveField, help_text=_("The masked field to show in full."))


class RevealedSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField(help_text=_("The value in full, for this answer only."))


class SuspectWriteSerializer(serializers.Serializer):
    name = text(100, required=False, allow_blank=True)
    id_number = text(30, required=False, allow_blank=True)
    status = enum(SuspectStatus, required=False)


class InvolvedOfficerUpdateSerializer(VersionedSerializer, InvolvedOfficerWriteSerializer):
    pass


class SuspectUpdateSerializer(VersionedSerializer, SuspectWriteSerializer):
    pass


class DispositionSerializer(serializers.Serializer):
    disposition = enum(Disposition)
    disposition_article = text(60, required=False, allow_blank=True)
    sentence_months = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=SMALL_MAX)
    probation = serializers.BooleanField(required=False, allow_null=True)
    decided_at = BoundedDateField(required=False, allow_null=True)
    lowered_reason = text(5000, required=False, allow_blank=True)
    lenient_reason = enum(
        LenientReason,
        required=False,
        allow_blank=True,
        help_text=_(
            "Required with an outcome below a criminal case and with non-prosecution or exemption (left out: the "
            "reason recorded before is kept); dropped with any other disposition."
        ),
    )
    lenient_reason_detail = text(
        5000, required=False, allow_blank=True, help_text=_("The reason in words; required with lenient_reason other.")
    )


class TransferSerializer(VersionedSerializer):
    target = serializers.ChoiceField(
        choices=[(t.value, t.label) for t in (ReferralTarget.INTERNAL_UNIT, ReferralTarget.OTHER)],
        required=False,
        help_text=_("internal_unit (a public-security unit you supervise, the default) or other (a body named)."),
    )
    to_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), required=False, allow_null=True, help_text=_("Unit id, for internal_unit.")
    )
    body_name = text(150, required=False, allow_blank=True, help_text=_("Name of the competent body, for other."))


# --- handling records ------------------------------------------------------------------------------------------------


class ReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target = enum(ReferralTarget)
    to_unit = UnitRefSerializer(allow_null=True)
    body_name = serializers.CharField()
    track = enum(Track)
    referred_by = serializers.IntegerField(source="referred_by_id")
    referred_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    external_reference = serializers.CharField()
    outcome = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    suspect = serializers.IntegerField(
        source="suspect_id",
        allow_null=True,
        help_text=_("For a transfer for administrative punishment after non-prosecution: the suspect transferred."),
    )


class SupportMeasureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    officer = serializers.IntegerField(source="officer_id", allow_null=True)
    kind = enum(SupportKind)
    status = enum(SupportStatus)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    started_on = serializers.DateField(allow_null=True)
    delivered_on = serializers.DateField(allow_null=True)
    provider = serializers.CharField(help_text=_("Who delivered the measure (a hospital, a legal-aid centre, ...)."))
    notes = serializers.CharField()
    requested_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the officer requested it; null for a measure the office offered.")
    )
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True, help_text=_("When the office answered the request."))
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decision_reason = serializers.CharField(help_text=_("The office's reason, required when it declines."))
    recorded_by = serializers.IntegerField(source="recorded_by_id")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AmountField(serializers.DecimalField):
    """A money amount, sent as text ("1200.00") as the schema says: a JSON number is refused, never guessed at."""

    default_error_messages = {"text": _('Send the amount as text, such as "1200.00".')}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("text")
        return super().to_internal_value(data)


class SupportMeasureWriteSerializer(serializers.Serializer):
    officer = serializers.PrimaryKeyRelatedField(
        queryset=InvolvedOfficer.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Id of an involved officer of this case."),
    )
    kind = enum(SupportKind)
    status = enum(SupportStatus, required=False)
    amount = AmountField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    started_on = BoundedDateField(required=False, allow_null=True)
    delivered_on = BoundedDateField(required=False, allow_null=True)
    provider = text(200, required=False, allow_blank=True)
    notes = text(5000, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case = self.context.get("case")
        if case is not None:
            # Only this case's officers resolve; another case's officer id is "does not exist".
            self.fields["officer"].queryset = InvolvedOfficer.objects.filter(case=case)  # type: ignore[attr-defined]


class SupportMeasureUpdateSerializer(SupportMeasureWriteSerializer):
    kind = enum(SupportKind, required=False)


class SupportAnswerSerializer(VersionedSerializer):
    answer = enum(
        SupportAnswer,
        help_text=_(
            "approve or decline the officer's request (a refusal gives a reason), or deliver the measure (with the "
            "provider and the date)."
        ),
    )
    reason = text(
        5000, required=False, allow_blank=True, help_text=_("Why; required to decline. The officer reads it.")
    )
    provider = text(200, required=False, allow_blank=True, help_text=_("Who delivered it; required to deliver."))
    delivered_on = BoundedDateField(required=False, allow_null=True, help_text=_("Required to deliver."))


class FindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    problem = enum(FindingProblem)
    detail = serializers.CharField()
    raised_by = serializers.IntegerField(source="raised_by_id")
    raised_at = serializers.DateTimeField()
    rectify_by = serializers.DateField(allow_null=True)
    rectified_at = serializers.DateTimeField(allow_null=True)
    officers_held_accountable = serializers.IntegerField()
    accountability_note = serializers.CharField()


class FindingWriteSerializer(serializers.Serializer):
    problem = enum(FindingProblem)
    detail = text(5000)
    rectify_by = BoundedDateField(required=False, allow_null=True)


class RectifySerializer(serializers.Serializer):
    officers_held_accountable = serializers.IntegerField(required=False, min_value=0, max_value=SMALL_MAX)
    accountability_note = text(5000, required=False, allow_blank=True)


class FaultFindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    finding = enum(PoliceFault)
    department = serializers.CharField()
    found_on = serializers.DateField(allow_null=True)
    document_reference = serializers.CharField()
    notes = serializers.CharField()
    carried_over = serializers.BooleanField(
        help_text=_("Carried over from the case record's former police-fault field: no finding document is on file.")
    )
    recorded_by = UserRefSerializer(allow_null=True)
    recorded_at = serializers.DateTimeField()
    current = serializers.SerializerMethodField(
        help_text=_("Whether this finding is the one that counts (the latest by date of finding, then record).")
    )

    def get_current(self, finding: Any) -> bool:
        return finding.pk == self.context.get("current_id")


class FaultFindingWriteSerializer(VersionedSerializer):
    finding = serializers.ChoiceField(choices=FAULT_FINDING_CHOICES)
    department = text(DEPARTMENT_MAX, help_text=_("The department that made the finding (legal affairs)."))
    found_on = BoundedDateField(help_text=_("Date of the finding: not in the future, not before the incident."))
    document_reference = text(
        DOCUMENT_REFERENCE_MAX,
        required=False,
        allow_blank=True,
        help_text=_("Number of the finding document; required when the fault found is considerable or serious."),
    )
    notes = text(NOTES_MAX, required=False, allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_year = serializers.IntegerField()
    reviewer = serializers.IntegerField(source="reviewer_id", allow_null=True)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    verdict = enum(ReviewVerdict)
    disposition_consistent = serializers.BooleanField(allow_null=True)
    officer_informed = serializers.BooleanField(allow_null=True)
    support_delivered = serializers.BooleanField(allow_null=True)
    clarification_issued = serializers.BooleanField(allow_null=True)
    notes = serializers.CharField()


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    description = serializers.CharField()
    uploaded_by = serializers.IntegerField(source="uploaded_by_id")
    uploaded_at = serializers.DateTimeField()


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("JPEG, PNG, PDF or MP4, recognised by content."))
    description = text(200, required=False, allow_blank=True)


class CaseEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = enum(EventKind)
    action = serializers.CharField()
    from_status = enum(CaseStatus, allow_null=True)
    to_status = enum(CaseStatus, allow_null=True)
    actor = UserRefSerializer(allow_null=True)
    at = serializers.DateTimeField()
    data = serializers.DictField()  # type: ignore[assignment]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        out = super().to_representation(instance)
        if self.context.get("shared_only"):
            # The filer's timeline: an event's pointers at internal records are left out (cases/policy.py).
            out["data"] = policy.shared_event_data(out["data"])
        return out


# --- flags, units, the caller, notifications, reports -------------------------------------------------------------


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = CaseRefSerializer()
    kind = enum(FlagKind)
    rule_code = serializers.CharField()
    detail = serializers.DictField()
    raised_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = enum(FlagResolution, allow_null=True, help_text=_("How the flag was resolved; null while open."))
    acknowledged_by = UserRefSerializer(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


# --- the rule catalogue (cases/rules/catalogue.py) -----------------------------------------------------------------


class RuleSourceSerializer(serializers.Serializer):
    part = serializers.CharField()
    tag = serializers.ChoiceField(
        choices=[str(t) for t in Tag],
        help_text=_(
            "V verified from the official text, S secondary source, R unverified recollection, B project brief, "
            "I the office's inference."
        ),
    )
    tag_text = serializers.CharField(help_text=_("The tag in words."))


class RuleVersionSerializer(serializers.Serializer):
    version = serializers.CharField(help_text=_("The first incident date the version covers, or '-' for none."))
    effective_from = serializers.DateField(allow_null=True)
    effective_to = serializers.DateField(allow_null=True, help_text=_("The last incident date covered (inclusive)."))
    covers = serializers.CharField()
    severity = serializers.ChoiceField(
        choices=[str(v) for v in Severity],
        help_text=_(
            "downgrade: verified law sets a minimum outcome, and an outcome below it is flagged as downgraded; "
            "prompt: its findings are review prompts."
        ),
    )
    severity_label = serializers.CharField()
    other_findings_are_prompts = serializers.BooleanField()
    title = serializers.CharField()
    basis = serializers.CharField()
    verified = serializers.BooleanField(help_text=_("Every part verified from the official text; only then is it law."))
    caveat = serializers.CharField()
    sources = RuleSourceSerializer(many=True)
    expected = serializers.CharField(allow_null=True)
    too_light = serializers.ListField(child=serializers.CharField())
    min_sentence_months = serializers.IntegerField(allow_null=True)
    discourages_probation = serializers.BooleanField()
    silenced_by = serializers.ListField(child=serializers.CharField())


class RuleEntrySerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    versions = RuleVersionSerializer(many=True)


class SuppressionVersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    effective_from = serializers.DateField(allow_null=True)
    effective_to = serializers.DateField(allow_null=True)
    covers = serializers.CharField()
    title = serializers.CharField()
    basis = serializers.CharField()
    verified = serializers.BooleanField()
    caveat = serializers.CharField()
    sources = RuleSourceSerializer(many=True)
    silences = serializers.ListField(child=serializers.CharField())


class SuppressionEntrySerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    versions = SuppressionVersionSerializer(many=True)


class OperationalRuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = enum(FlagKind)
    kind_label = serializers.CharField()
    title = serializers.CharField()
    basis = serializers.CharField()
    verified = serializers.BooleanField()
    caveat = serializers.CharField()
    sources = RuleSourceSerializer(many=True)


class RuleCatalogueSerializer(serializers.Serializer):
    rules = RuleEntrySerializer(many=True)
    suppressions = SuppressionEntrySerializer(many=True)
    operational = OperationalRuleSerializer(many=True)


class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    display_name = serializers.CharField(
        help_text=_("The unit's name in the request's language, falling back to the other, as pages show it.")
    )
    level = enum(OrgLevel)
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]
    path = serializers.CharField()
    depth = serializers.IntegerField()


class MembershipSerializer(serializers.Serializer):
    role = enum(Role)
    unit = UnitRefSerializer()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    badge_number = serializers.CharField()
    email = serializers.CharField()
    memberships = MembershipSerializer(many=True)


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = CaseRefSerializer(allow_null=True, help_text=_("The case it is about; null for a notice about a unit."))
    unit = UnitRefSerializer(allow_null=True, help_text=_("The unit a notice is about; null for a case's news."))
    link = serializers.CharField(
        help_text=_("For a notice about a unit, the path of the page that tells the rest; empty otherwise.")
    )
    verb = serializers.CharField(
        source="text", help_text=_("What happened, in the request's language (Accept-Language), as the pages say it.")
    )
    kind = serializers.ChoiceField(
        choices=NotificationKind.choices, help_text=_("What it is about: the list's kind filter, the delivery setting.")
    )
    message = serializers.CharField(help_text=_("The message key, for a client that words messages itself."))
    params = serializers.JSONField(help_text=_("The message's parameters: codes, references, ISO 8601 times."))
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationPreferencesSerializer(serializers.Serializer):
    """How the caller hears about each kind of notification besides the notification list: one field per kind, with
    the choices of the notification settings page."""

    # As input it documents the body only: what may be saved is the settings page's rule, which answers per kind
    # (``set_notification_preferences``); the view hands it the body as it came.

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            kind: serializers.ChoiceField(
                choices=NotificationDelivery.choices,
                help_text=NotificationKind(kind).label,
            )
            for kind in PREFERENCE_KINDS
        }


class MarkNotificationsReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text=_("Notification ids to mark read; leave out to mark every unread notification read."),
    )


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many notifications changed from unread to read."))


class YearlyReportQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    unit = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("Unit id; default: every unit you oversee.")
    )


class KindCountSerializer(serializers.Serializer):
    kind = enum(IncidentKind)
    count = serializers.IntegerField()


class StatusCountSerializer(serializers.Serializer):
    status = enum(CaseStatus)
    count = serializers.IntegerField()


class FlagCountSerializer(serializers.Serializer):
    kind = enum(FlagKind)
    raised = serializers.IntegerField(help_text=_("Flags of this kind raised in the year."))
    resolved = serializers.IntegerField(help_text=_("Flags of this kind resolved in the year, whenever raised."))


class YearlyReportSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    unit = UnitRefSerializer(allow_null=True)
    total = serializers.IntegerField()
    by_kind = KindCountSerializer(many=True)
    by_status = StatusCountSerializer(many=True)
    by_month = serializers.ListField(child=serializers.IntegerField(), help_text=_("Twelve counts, January first."))
    downgraded_overridden = serializers.IntegerField(
        help_text=_("Downgraded flags overridden in the year when a case was concluded or closed.")
    )
    flags = FlagCountSerializer(
        many=True,
        help_text=_(
            "Every flag kind, raised and resolved in the year: downgraded counts only outcomes below a verified "
            "minimum; review_prompt the other rule findings."
        ),
    )


# --- authentication and errors ------------------------------------------------------------------------------------


class CredentialsSerializer(serializers.Serializer):
    username = text(150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp_token = text(
        16,
        required=False,
        allow_blank=True,
        help_text=_(
            "Two-factor code, for accounts that must use two-factor log-in (supervisors, administrators). Officers "
            "who have an authenticator may send it too; a wrong code is refused."
        ),
    )
    name = text(
        60,
        required=False,
        allow_blank=True,
        help_text=_("A name for the device the token is for, shown in the list of one's tokens."),
    )


class TokenExpiryField(serializers.DateTimeField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: ApiToken) -> str:  # type: ignore[override]
        return super().to_representation(tokens.expires_at(value))


class ApiTokenSerializer(serializers.ModelSerializer):
    expires_at = TokenExpiryField(
        help_text=_("When the token stops working unless it is used before (never later than its lifetime allows).")
    )
    current = serializers.SerializerMethodField(help_text=_("Whether this request was sent with this token."))

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "last_used_at", "expires_at", "mfa_verified", "current"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_current(self, token: ApiToken) -> bool:
        return token.pk == getattr(self.context["request"].auth, "pk", None)


class TokenSerializer(ApiTokenSerializer):
    """A token just issued, with its key: the only time the key is shown."""

    token = serializers.SerializerMethodField(
        help_text=_("Send it as 'Authorization: Token <token>'. It is shown this once and cannot be shown again.")
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_token(self, token: ApiToken) -> str:
        return self.context["key"]


class ErrorSerializer(serializers.Serializer):
    """Every error answer: a machine-readable code, a message, and for invalid input the messages per field."""

    code = serializers.CharField(
        help_text=_(
            "For example invalid, not_authenticated, authentication_failed, permission_denied, not_found, "
            "illegal_transition, stale_version, idempotency_key_reused."
        )
    )
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)  # type: ignore[assignment]


# --- duplicates (cases/duplicates.py, cases/services/duplicates.py) ---------------------------------------------------


class DuplicateCaseSerializer(CaseSerializer):
    dispatch_ref = serializers.CharField()


class DuplicateCandidateSerializer(serializers.Serializer):
    case = DuplicateCaseSerializer()
    reasons = serializers.ListField(
        child=enum(DuplicateReason),
        help_text=_(
            "Why the case may be a duplicate: the same 110 incident number; or, for a case of the same unit whose "
            "incident lies at most two hours apart, the same suspect ID number or name, or a similar place or summary."
        ),
    )


def reason_field() -> serializers.CharField:
    return text(DUPLICATE_REASON_MAX, help_text=_("Why; recorded on the timeline of both cases."))


class LinkInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, help_text=_("The id of the case to link with this one."))
    reason = reason_field()


class ReasonInputSerializer(serializers.Serializer):
    reason = reason_field()


class MergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(
        min_value=1, help_text=_("The id of the case that carries on; this case is merged into it.")
    )
    reason = reason_field()


class CaseLinkSerializer(serializers.Serializer):
    cases = serializers.SerializerMethodField(help_text=_("The references of the two cases linked, lower id first."))
    reason = serializers.CharField()
    linked_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cases(self, link: Any) -> list[str]:
        return [link.low.reference, link.high.reference]


class CaseMergeSerializer(serializers.Serializer):
    merged = serializers.CharField(source="merged.reference", help_text=_("The reference of the merged record."))
    survivor = serializers.CharField(
        source="survivor.reference", help_text=_("The reference of the case that carries on.")
    )
    reason = serializers.CharField()
    merged_at = serializers.DateTimeField()
    unmerged_at = serializers.DateTimeField(allow_null=True)
    unmerge_reason = serializers.CharField()
