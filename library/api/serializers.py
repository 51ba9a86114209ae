"""The library API's shapes. Output serializers read what the selectors fetched; input serializers check only the form
of a request for one service: the services decide what is allowed."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.api.serializers import CaseRefSerializer, UnitRefSerializer, UserRefSerializer, enum, text
from cases.choices import DutyScenario, IncidentKind, PlaceCategory
from library.anonymise import Kind
from library.choices import COLUMNS, NOTE_MAX, TEXT_MAX, TITLE_MAX, Language, WriteUpState
from library.workflow import TRANSITIONS

# --- what readers read ---------------------------------------------------------------------------------------------


class RuleRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(help_text=_("The rule on the rule catalogue page."))


class TextsSerializer(serializers.Serializer):
    language = enum(Language)
    title = serializers.CharField()
    happened = serializers.CharField()
    handling = serializers.CharField()
    legal_basis = serializers.CharField()
    outcome = serializers.CharField()
    lessons = serializers.CharField()


class LibraryItemSerializer(serializers.Serializer):
    """A published typical case in the readers' list."""

    id = serializers.IntegerField()
    version = serializers.IntegerField(help_text=_("The number of the published version."))
    title = serializers.CharField(help_text=_("In the request's language, or the other one when it has none."))
    language = enum(Language)
    languages = serializers.ListField(child=enum(Language))
    kind = enum(IncidentKind)
    duty_scenario = enum(DutyScenario, allow_null=True)
    place_category = enum(PlaceCategory, allow_null=True)
    articles = serializers.ListField(child=serializers.CharField())
    published_at = serializers.DateTimeField()


class LibraryReadSerializer(LibraryItemSerializer):
    """A published typical case as its readers read it: every language it is written in, its legal basis, and the
    reader's own answer to "was this useful"."""

    texts = TextsSerializer(many=True)
    rules = RuleRefSerializer(many=True)
    published_to = UnitRefSerializer()
    useful = serializers.BooleanField(allow_null=True, help_text=_("The caller's answer for this version, if any."))
    source_case = CaseRefSerializer(
        allow_null=True, help_text=_("The case it was written from: only for those who see that case.")
    )


class FeedbackInputSerializer(serializers.Serializer):
    useful = serializers.BooleanField()


class FeedbackSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    useful = serializers.BooleanField()


# --- what editors and approvers work on ------------------------------------------------------------------------------


class ChangeSerializer(serializers.Serializer):
    kind = enum(Kind)
    original = serializers.CharField()
    replacement = serializers.CharField()


class ProposalSerializer(serializers.Serializer):
    text = serializers.CharField(help_text=_("The text with every proposed replacement made."))
    changes = ChangeSerializer(many=True)


class LeftoverSerializer(serializers.Serializer):
    field = serializers.CharField()
    kinds = serializers.ListField(child=enum(Kind))


class WriteUpSerializer(serializers.Serializer):
    """A write-up's working copy with where it stands: what the editors' page shows."""

    id = serializers.IntegerField()
    state = enum(WriteUpState)
    version = serializers.IntegerField(help_text=_("Send it back (body or If-Match) with a change."))
    case = CaseRefSerializer()
    unit = UnitRefSerializer()
    proposal_note = serializers.CharField()
    proposed_by = UserRefSerializer()
    proposed_at = serializers.DateTimeField()
    last_editor = UserRefSerializer(allow_null=True)
    edited_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    return_note = serializers.CharField()
    withdrawal_note = serializers.CharField()
    listed = serializers.BooleanField(help_text=_("Whether officers read its published version now."))
    published_version = serializers.IntegerField(allow_null=True)
    published_to = UnitRefSerializer(allow_null=True)
    texts = serializers.DictField(child=serializers.CharField(allow_blank=True))
    rule_codes = serializers.ListField(child=serializers.CharField())
    articles = serializers.ListField(child=serializers.CharField())
    kind = enum(IncidentKind)
    duty_scenario = enum(DutyScenario, allow_null=True)
    place_category = enum(PlaceCategory, allow_null=True)
    remaining = LeftoverSerializer(
        many=True, help_text=_("What of the case each text still holds: it cannot be sent on while any remains.")
    )
    proposals = serializers.DictField(child=ProposalSerializer(), help_text=_("The proposed replacements, by text."))
    actions = serializers.ListField(child=serializers.CharField(), help_text=_("The steps the caller may take now."))


class ProposeInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    note = text(NOTE_MAX, required=False, allow_blank=True)


class EditInputSerializer(serializers.Serializer):
    """The texts to change (those left out are kept), the rules and articles linked, the version read."""

    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    rule_codes = serializers.ListField(child=serializers.CharField(max_length=20), required=False, max_length=50)
    articles = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=50)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in COLUMNS:
            limit = TITLE_MAX if name.startswith("title_") else TEXT_MAX
            fields[name] = text(limit, required=False, allow_blank=True, trim_whitespace=False)
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: [_("A typical case has no such field.")] for key in unknown})
        return super().to_internal_value(data)


ACTIONS = tuple(TRANSITIONS)


class ActionInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    note = text(NOTE_MAX, required=False, allow_blank=True, help_text=_("Returning, withdrawing or declining: why."))
    scope_unit = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text=_("Publishing: the unit whose subtree reads it.")
    )
    texts = serializers.ListField(
        child=serializers.ChoiceField(choices=list(COLUMNS)),
        required=False,
        max_length=len(COLUMNS),
        help_text=_("Accepting the replacements: the texts (every text with a proposal when left out)."),
    )
