"""The campaign API's shapes. Output serializers read what the selectors fetched (they never query); input serializers
parse a request for one service and check only its form: the services decide what is allowed."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import OrgUnit
from cases.api.serializers import INT32_MAX, BoundedDateField, UnitRefSerializer, UserRefSerializer, enum, text
from cases.choices import CaseStatus, FlagKind, IncidentKind, SuspectStatus
from oversight import policy
from oversight.choices import (
    CUSTODY_STATUSES,
    Answer,
    CampaignKind,
    CampaignState,
    ChecklistItem,
    Measure,
    ProblemType,
    PursuitStatus,
    SelectionMode,
)
from oversight.models import Campaign, CampaignCase
from oversight.scope import Scope

# --- what the API answers ---------------------------------------------------------------------------------------------


class ScopeSerializer(serializers.Serializer):
    """The queue's filters a campaign selects its cases by: none given, every submitted case of the owner unit."""

    statuses = serializers.ListField(child=enum(CaseStatus), required=False, max_length=20)
    kinds = serializers.ListField(child=enum(IncidentKind), required=False, max_length=50)
    flags = serializers.ListField(child=enum(FlagKind), required=False, max_length=20)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Only the cases of this unit (within the owner unit); none: every case of the owner unit."),
    )
    occurred_from = BoundedDateField(required=False, allow_null=True)
    occurred_to = BoundedDateField(required=False, allow_null=True)
    closed_from = BoundedDateField(required=False, allow_null=True)
    closed_to = BoundedDateField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        # A misspelt filter ("status") would otherwise be dropped without a word, and the campaign select every case.
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("A campaign's scope has no such filter.")] for key in unknown}
                )
        return super().to_internal_value(data)

    @staticmethod
    def scope(data: dict[str, Any]) -> Scope:
        unit = data.get("unit")
        return Scope(
            statuses=tuple(data.get("statuses") or ()),
            kinds=tuple(data.get("kinds") or ()),
            flags=tuple(data.get("flags") or ()),
            unit_path=unit.path if unit is not None else "",
            occurred_from=data.get("occurred_from"),
            occurred_to=data.get("occurred_to"),
            closed_from=data.get("closed_from"),
            closed_to=data.get("closed_to"),
        )


class StoredScopeSerializer(serializers.Serializer):
    """A campaign's scope as stored (the unit by its path)."""

    statuses = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(child=serializers.CharField())
    unit_path = serializers.CharField()
    occurred_from = serializers.DateField(allow_null=True)
    occurred_to = serializers.DateField(allow_null=True)
    closed_from = serializers.DateField(allow_null=True)
    closed_to = serializers.DateField(allow_null=True)


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = enum(CampaignKind)
    state = enum(CampaignState)
    owner_unit = UnitRefSerializer()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    deadline = serializers.DateField()
    scope = serializers.SerializerMethodField()
    selection = enum(SelectionMode)
    sample_size = serializers.IntegerField(allow_null=True)
    seed = serializers.SerializerMethodField(
        help_text=_(
            "Draws the same sample from the same cases; recorded at the start. Empty for a reviewer until then."
        )
    )
    selected_count = serializers.SerializerMethodField(
        help_text=_(
            "The selected cases the caller sees: every one for the campaign's organisers, those of the sub-units they "
            "review for a reviewer."
        )
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(OpenApiTypes.STR)
    def get_seed(self, campaign: Campaign) -> str:
        return campaign.seed if policy.sees_seed(self.context["request"].actor, campaign) else ""

    @extend_schema_field(OpenApiTypes.INT)
    def get_selected_count(self, campaign: Campaign) -> int:
        # Counted by the view (``selectors.campaigns_for``, the progress or the report's total), never the
        # campaign's own count, which a reviewer does not learn.
        return campaign.selected_seen  # type: ignore[attr-defined]

    @extend_schema_field(StoredScopeSerializer)
    def get_scope(self, campaign: Campaign) -> dict[str, Any]:
        return StoredScopeSerializer(Scope.from_json(campaign.scope)).data


class ProgressSerializer(serializers.Serializer):
    unit = UnitRefSerializer(allow_null=True, help_text=_("None on the row of totals."))
    selected = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    problems = serializers.IntegerField()
    rectified = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text=_("Problems not rectified by their date."))
    made_up = serializers.IntegerField()
    accountable = serializers.IntegerField()
    reviewers = UserRefSerializer(many=True)


class CampaignDetailSerializer(CampaignSerializer):
    progress = ProgressSerializer(
        many=True, help_text=_("Per sub-unit, over the cases the caller sees; then the total.")
    )


class ReviewerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sub_unit = UnitRefSerializer()
    reviewer = UserRefSerializer()
    assigned_at = serializers.DateTimeField()


class SelectedCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = enum(CaseStatus)
    unit = serializers.IntegerField(source="unit_id")


class CampaignCaseSerializer(serializers.Serializer):
    """A selected case: its review's date, how many problems, whether it was made up."""

    id = serializers.IntegerField(help_text=_("The selected case's id in this campaign (the reviews' {item_pk})."))
    case = SelectedCaseSerializer()
    sub_unit = UnitRefSerializer()
    reviewed_at = serializers.SerializerMethodField()
    problem_count = serializers.IntegerField()
    made_up_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_reviewed_at(self, item: CampaignCase) -> str | None:
        review = getattr(item, "review", None)
        return serializers.DateTimeField().to_representation(review.reviewed_at) if review is not None else None


class ChecklistAnswerSerializer(serializers.Serializer):
    item = enum(ChecklistItem)
    answer = enum(Answer)
    note = serializers.CharField()


class CampaignReviewSerializer(serializers.Serializer):
    reviewer = UserRefSerializer()
    reviewed_at = serializers.DateTimeField()
    summary = serializers.CharField()
    answers = ChecklistAnswerSerializer(many=True, source="answers.all")


class ProblemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = enum(ProblemType)
    description = serializers.CharField()
    responsible_unit = UnitRefSerializer()
    rectify_by = serializers.DateField()
    raised_at = serializers.DateTimeField()
    rectification = serializers.CharField()
    rectified_on = serializers.DateField(allow_null=True)


class AccountabilitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    problem = serializers.IntegerField(source="problem_id", allow_null=True)
    officer_name = serializers.CharField()
    officer_badge = serializers.CharField()
    unit = UnitRefSerializer()
    measure = enum(Measure)
    document_reference = serializers.CharField()
    decided_on = serializers.DateField()
    recorded_at = serializers.DateTimeField()


class MadeUpSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="made_up_at")
    problem = serializers.IntegerField(source="made_up_problem_id")


class CaseReviewSerializer(serializers.Serializer):
    """Everything a campaign recorded about one selected case: the checklist, the problems with their rectification,
    whether the case was made up, and the accountability records."""

    id = serializers.IntegerField(help_text=_("The selected case's id in this campaign."))
    version = serializers.IntegerField(
        help_text=_(
            "The version of what the campaign recorded about this case; every write raises it. Send it back (in the "
            "body or in If-Match) and a write made meanwhile is refused with 412."
        )
    )
    case = SelectedCaseSerializer()
    sub_unit = UnitRefSerializer()
    review = serializers.SerializerMethodField()
    problems = ProblemSerializer(many=True, source="problems.all")
    made_up = serializers.SerializerMethodField()
    accountability = AccountabilitySerializer(many=True, source="accountabilities.all")

    @extend_schema_field(CampaignReviewSerializer(allow_null=True))
    def get_review(self, item: CampaignCase) -> dict[str, Any] | None:
        review = getattr(item, "review", None)
        return CampaignReviewSerializer(review).data if review is not None else None

    @extend_schema_field(MadeUpSerializer(allow_null=True))
    def get_made_up(self, item: CampaignCase) -> dict[str, Any] | None:
        return MadeUpSerializer(item).data if item.made_up_at else None


class SuspectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = enum(SuspectStatus)


class PursuitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_case = serializers.IntegerField(source="campaign_case_id")
    case = serializers.CharField(source="campaign_case.case.reference", help_text=_("The case's reference."))
    suspect = SuspectRefSerializer()
    status = enum(PursuitStatus)
    located_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    unit = UnitRefSerializer(allow_null=True)
    cross_border = serializers.BooleanField()
    note = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


# --- what the API reads -----------------------------------------------------------------------------------------------


class ItemVersioned(serializers.Serializer):
    """A write about a selected case: optionally the version the client read (as If-Match may give it)."""

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=INT32_MAX,
        help_text=_("The review's version the client last read; a stale version is refused with 412."),
    )


class CampaignCreateSerializer(serializers.Serializer):
    name = text(max_length=150)
    kind = enum(CampaignKind)
    owner_unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    period_start = BoundedDateField()
    period_end = BoundedDateField()
    deadline = BoundedDateField()
    scope = ScopeSerializer(required=False)
    selection = enum(SelectionMode)
    sample_size = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1_000_000)
    seed = text(required=False, allow_blank=True, max_length=64)


class AssignSerializer(serializers.Serializer):
    sub_unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    reviewer = serializers.IntegerField(min_value=1, help_text=_("The reviewer's user id."))


class ChecklistAnswerInputSerializer(serializers.Serializer):
    item = enum(ChecklistItem)
    answer = enum(Answer)
    note = text(required=False, allow_blank=True, max_length=5000)


class ReviewInputSerializer(ItemVersioned):
    answers = ChecklistAnswerInputSerializer(
        many=True, help_text=_("Every item of the campaign kind's checklist, once.")
    )
    summary = text(required=False, allow_blank=True, max_length=5000)

    def validate_answers(self, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items = [a["item"] for a in answers]
        if len(items) != len(set(items)):
            raise serializers.ValidationError(_("Answer each item once."))
        return answers


class ProblemInputSerializer(ItemVersioned):
    type = enum(ProblemType)
    description = text(max_length=5000)
    responsible_unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    rectify_by = BoundedDateField()


class RectifyInputSerializer(ItemVersioned):
    rectification = text(max_length=5000)
    rectified_on = BoundedDateField()


class MakeUpInputSerializer(ItemVersioned):
    problem = serializers.IntegerField(min_value=1, help_text=_("The problem found in this case it is made up for."))


class AccountabilityInputSerializer(ItemVersioned):
    officer_name = text(max_length=100)
    officer_badge = text(required=False, allow_blank=True, max_length=20)
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    measure = enum(Measure)
    document_reference = text(max_length=100)
    decided_on = BoundedDateField()
    problem = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class PursuitStepInputSerializer(ItemVersioned):
    status = enum(PursuitStatus)
    on = BoundedDateField()
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    cross_border = serializers.BooleanField(required=False, allow_null=True, default=None)
    note = text(required=False, allow_blank=True, max_length=5000)
    custody = serializers.ChoiceField(
        choices=[(s, SuspectStatus(s).label) for s in CUSTODY_STATUSES],
        required=False,
        default=SuspectStatus.DETAINED,
        help_text=_("For an arrest, a surrender or an extradition: the suspect's status from now on."),
    )


# --- the campaign's report ----------------------------------------------------------------------------------------


class ProblemTypeCountSerializer(serializers.Serializer):
    type = enum(ProblemType)
    count = serializers.IntegerField()


class MeasureCountSerializer(serializers.Serializer):
    measure = enum(Measure)
    count = serializers.IntegerField()


class PursuitStatusCountSerializer(serializers.Serializer):
    status = enum(PursuitStatus)
    count = serializers.IntegerField()


class PursuitFiguresSerializer(serializers.Serializer):
    pursued = serializers.IntegerField(help_text=_("Pursuit records: one per suspect at large when it started."))
    by_status = PursuitStatusCountSerializer(many=True, help_text=_("Every status, in the pursuit's order."))
    still_at_large = serializers.IntegerField(help_text=_("At large or located: not yet caught."))
    cross_border = serializers.IntegerField(help_text=_("Pursuits across the border, whatever their status."))


class ReportFiguresSerializer(serializers.Serializer):
    selected = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    problems = serializers.IntegerField()
    problems_by_type = ProblemTypeCountSerializer(many=True, help_text=_("Every problem type, in the choices' order."))
    rectified = serializers.IntegerField()
    rectified_on_time = serializers.IntegerField(help_text=_("Rectified on or before the rectify-by date."))
    rectified_late = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text=_("Not rectified and past the rectify-by date on the report's day."))
    made_up = serializers.IntegerField()
    officers_accountable = serializers.IntegerField(
        help_text=_("Officers, each once (same name, badge number and unit), however many decisions.")
    )
    accountability_records = serializers.IntegerField()
    accountability_by_measure = MeasureCountSerializer(many=True, help_text=_("Decisions per measure."))
    pursuit = PursuitFiguresSerializer(allow_null=True, help_text=_("Fugitive pursuit campaigns only; else null."))


class ReportRowSerializer(serializers.Serializer):
    unit = UnitRefSerializer()
    figures = ReportFiguresSerializer()


class CampaignReportSerializer(serializers.Serializer):
    campaign = CampaignSerializer()
    as_of = serializers.DateField(help_text=_("The day overdue rectifications are counted against (today)."))
    generated_at = serializers.DateTimeField()
    rows = ReportRowSerializer(many=True, help_text=_("Per sub-unit, over the selected cases the caller sees."))
    total = ReportFiguresSerializer(
        help_text=_("Over every row; officers held accountable counts each officer once over the campaign.")
    )

    @staticmethod
    def figures(f: Any, *, pursuit: bool) -> dict[str, Any]:
        """A report's ``Figures`` in this shape: the breakdowns as lists in their choices' order."""
        return {
            "selected": f.selected,
            "reviewed": f.reviewed,
            "problems": f.problems,
            "problems_by_type": [{"type": t, "count": f.problems_by_type[t]} for t in ProblemType.values],
            "rectified": f.rectified,
            "rectified_on_time": f.rectified_on_time,
            "rectified_late": f.rectified_late,
            "overdue": f.overdue,
            "made_up": f.made_up,
            "officers_accountable": f.officers_accountable,
            "accountability_records": f.accountability_records,
            "accountability_by_measure": [
                {"measure": m, "count": f.accountability_by_measure[m]} for m in Measure.values
            ],
            "pursuit": {
                "pursued": f.pursued,
                "by_status": [{"status": s, "count": f.pursuit_by_status[s]} for s in PursuitStatus.values],
                "still_at_large": f.still_at_large,
                "cross_border": f.cross_border,
            }
            if pursuit
            else None,
        }

    @classmethod
    def of(cls, report: Any, request: Any) -> dict[str, Any]:
        report.campaign.selected_seen = report.total.selected  # the cases the caller counts, as the rows
        return cls(
            {
                "campaign": report.campaign,
                "as_of": report.as_of,
                "generated_at": report.generated_at,
                "rows": [
                    {"unit": r.unit, "figures": cls.figures(r.figures, pursuit=report.pursuit)} for r in report.rows
                ],
                "total": cls.figures(report.total, pursuit=report.pursuit),
            },
            context={"request": request},  # what the caller may see of the campaign (its seed) depends on them
        ).data
