"""The analysis API's answers: the figures of the analysis page (analysis/figures.py), as numbers and codes; and the
early warnings (analysis/warnings.py) with their steps; and the evaluation reports (analysis/evaluation.py)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from analysis import explain
from analysis.choices import WHOLE_YEAR, EvaluationState, Severity, WarningKind, WarningState
from analysis.models import LESSONS_MAX, EarlyWarning
from analysis.services import NOTE_MAX
from cases.api.serializers import CaseRefSerializer, UnitRefSerializer, UserRefSerializer, enum
from cases.choices import DutyScenario, IncidentKind, ReviewVerdict


class AnalysisQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2015, max_value=2100, help_text=_("The year analysed (local time)."))
    unit = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("Unit id; default: your widest unit.")
    )


class MonthSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    cases = serializers.IntegerField()
    cases_previous_year = serializers.IntegerField()


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    cases = serializers.IntegerField()
    officers_injured = serializers.IntegerField(
        help_text=_("Involved officers, regular and auxiliary, with an appraised minor injury or worse.")
    )


class StrengthSerializer(serializers.Serializer):
    regular = serializers.IntegerField()
    auxiliary = serializers.IntegerField()


class UnitFiguresSerializer(serializers.Serializer):
    unit = UnitRefSerializer(allow_null=True, help_text=_("None for the total."))
    own = serializers.BooleanField(help_text=_("The cases the analysed unit handles itself, not through a sub-unit."))
    cases = serializers.IntegerField()
    cases_previous_year = serializers.IntegerField()
    cases_change_pct = serializers.FloatField(allow_null=True)
    officers_injured = serializers.IntegerField()
    officers_injured_previous_year = serializers.IntegerField()
    officer_strength = StrengthSerializer(allow_null=True)
    cases_per_100_officers = serializers.FloatField(allow_null=True)
    officers_injured_per_100_officers = serializers.FloatField(allow_null=True)


class VerdictCountSerializer(serializers.Serializer):
    verdict = enum(ReviewVerdict)
    reviews = serializers.IntegerField()


class HandlingSerializer(serializers.Serializer):
    unit = UnitRefSerializer(allow_null=True, help_text=_("None for the total."))
    own = serializers.BooleanField()
    cases_first_referred = serializers.IntegerField(help_text=_("Referred for the first time in the year."))
    median_days_to_first_referral = serializers.IntegerField(
        allow_null=True, help_text=_("Whole days from submission; a number of days some case took.")
    )
    cases_flagged_downgraded = serializers.IntegerField(
        help_text=_("Cases submitted in the year flagged as handled below what the facts call for, so far.")
    )
    downgraded_share_pct = serializers.FloatField(allow_null=True)
    downgrade_flags_overridden = serializers.IntegerField()
    look_back_reviews = VerdictCountSerializer(many=True)


class ScenarioSerializer(serializers.Serializer):
    kind = enum(IncidentKind)
    duty_scenario = serializers.ChoiceField(
        choices=[("", _("Not recorded")), *DutyScenario.choices], help_text=_("Empty: not recorded.")
    )
    cases = serializers.IntegerField()


class HeatCellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=1, max_value=7, help_text=_("ISO weekday: 1 Monday … 7 Sunday."))
    hour = serializers.IntegerField(min_value=0, max_value=23)
    cases = serializers.IntegerField()


class CodeCountSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("The recorded value; empty: not recorded."))
    cases = serializers.IntegerField()
    cases_previous_year = serializers.IntegerField()


class BreakdownsSerializer(serializers.Serializer):
    place = CodeCountSerializer(many=True)
    weapon = CodeCountSerializer(many=True)
    intox = CodeCountSerializer(many=True)
    crowd = CodeCountSerializer(many=True)


class AnalysisSerializer(serializers.Serializer):
    unit = UnitRefSerializer()
    year = serializers.IntegerField()
    months = MonthSerializer(many=True)
    years = YearSerializer(many=True)
    sub_units = UnitFiguresSerializer(many=True)
    total = UnitFiguresSerializer()
    handling = HandlingSerializer(many=True)
    handling_total = HandlingSerializer()
    scenarios = ScenarioSerializer(many=True)
    heat_map = HeatCellSerializer(many=True, help_text=_("Only the cells with cases."))
    heat_map_time_not_recorded = serializers.IntegerField()
    breakdowns = BreakdownsSerializer()


# --- early warnings ------------------------------------------------------------------------------------------------


class WarningQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=WarningState.choices, required=False, help_text=_("Default: any."))
    kind = serializers.ChoiceField(choices=WarningKind.choices, required=False, help_text=_("Default: any."))
    unit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Unit id: the warnings owned by it or a unit below it; default: every unit of yours."),
    )


class WarningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = enum(WarningKind)
    severity = enum(Severity)
    state = enum(WarningState)
    owner_unit = UnitRefSerializer(help_text=_("The unit whose rights-protection office should act."))
    case = CaseRefSerializer(allow_null=True, help_text=_("The case of a repeat warning; null for a rise."))
    key = serializers.CharField(help_text=_("The condition and period it was raised for (one warning each)."))
    figures = serializers.JSONField(
        help_text=_(
            "The numbers that raised it: for a rise observed, expected, limit, p_value, alpha, window and baseline "
            "(ISO dates), and the dimension and code of a scenario rise; for a repeat warning the case's reference "
            "and the counts."
        )
    )
    explanation = serializers.SerializerMethodField(help_text=_("What it found, as one sentence in your language."))
    raised_at = serializers.DateTimeField()
    acknowledged_by = UserRefSerializer(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledgement_note = serializers.CharField()
    resolved_by = UserRefSerializer(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField()
    version = serializers.IntegerField(help_text=_("Send it back (body or If-Match) with a step: a stale one is 412."))

    def get_explanation(self, warning: EarlyWarning) -> str:
        return explain.explanation(warning.kind, warning.figures, warning.owner_unit.display_name)


class WarningStepSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTE_MAX, help_text=_("What the office is doing (optional).")
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The warning's version you read; a stale one is refused with 412.")
    )


class WarningResolveSerializer(WarningStepSerializer):
    note = serializers.CharField(max_length=NOTE_MAX, help_text=_("What was found and done (required)."))


# --- case analysis and evaluation reports -------------------------------------------------------------------------


class EvaluationQuerySerializer(serializers.Serializer):
    unit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Unit id: the reports of it and the units below it; default: every unit of yours."),
    )
    year = serializers.IntegerField(required=False, min_value=2015, max_value=2100, help_text=_("Default: any."))
    state = serializers.ChoiceField(choices=EvaluationState.choices, required=False, help_text=_("Default: any."))


class EvaluationCreateSerializer(serializers.Serializer):
    unit = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("The unit's id."))
    year = serializers.IntegerField(min_value=2015, max_value=2100)
    quarter = serializers.IntegerField(
        min_value=WHOLE_YEAR, max_value=4, help_text=_("1 to 4 for a quarter, 0 for the whole year.")
    )


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The report's version you read; a stale one is refused with 412.")
    )


class LessonsSerializer(VersionSerializer):
    lessons = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("The lessons and measures, at most %(max)d characters (a draft only).") % {"max": LESSONS_MAX},
    )


class ReturnSerializer(VersionSerializer):
    note = serializers.CharField(max_length=NOTE_MAX, help_text=_("What should change (required)."))


class PairSerializer(serializers.Serializer):
    current = serializers.IntegerField(allow_null=True, help_text=_("The period."))
    previous = serializers.IntegerField(allow_null=True, help_text=_("The same period a year earlier."))
    change_pct = serializers.FloatField(allow_null=True)


class RateSerializer(serializers.Serializer):
    current = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)


class EvaluationMonthSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    cases = serializers.IntegerField()
    cases_previous_year = serializers.IntegerField()


class TopItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    cases = serializers.IntegerField()
    share_pct = serializers.FloatField(allow_null=True, help_text=_("Of all the period's cases."))


class TopSerializer(serializers.Serializer):
    top = TopItemSerializer(many=True, help_text=_("The five most frequent recorded, most first."))
    other = serializers.IntegerField(help_text=_("The other recorded ones together."))
    not_recorded = serializers.IntegerField()
    total = serializers.IntegerField()


class RepeatRowSerializer(serializers.Serializer):
    case = serializers.IntegerField(help_text=_("The case's id."))
    reference = serializers.CharField()
    suspect = serializers.CharField(help_text=_("The suspect's name, masked."))
    earlier_cases = serializers.IntegerField(
        help_text=_("Earlier cases against police on record in the unit's area with the same ID number.")
    )


class RepeatSerializer(serializers.Serializer):
    cases = serializers.IntegerField(help_text=_("The period's cases with such a suspect."))
    suspects = serializers.IntegerField()
    listed = RepeatRowSerializer(
        many=True, help_text=_("Only to the supervisors covering the cases; empty for everyone else.")
    )


class WarningCountSerializer(serializers.Serializer):
    kind = enum(WarningKind)
    raised = serializers.IntegerField()
    acknowledged = serializers.IntegerField(help_text=_("Resolved ones included."))
    resolved = serializers.IntegerField()


class EvaluationWarningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = enum(WarningKind)
    severity = enum(Severity)
    owner_unit = serializers.CharField(help_text=_("The owner unit's code."))
    raised_at = serializers.DateTimeField()
    state = enum(WarningState, help_text=_("As it stood when the figures were read."))
    explanation = serializers.CharField()


class EvaluationFiguresSerializer(serializers.Serializer):
    frozen = serializers.BooleanField(help_text=_("Whether these are the figures kept at approval."))
    generated_at = serializers.DateTimeField(help_text=_("When the figures were read."))
    cases = PairSerializer()
    officers_injured = PairSerializer(help_text=_("Minor injury or worse."))
    officer_strength = PairSerializer()
    cases_per_100_officers = RateSerializer()
    officers_injured_per_100_officers = RateSerializer()
    months = EvaluationMonthSerializer(many=True)
    duty_scenarios = TopSerializer()
    place_categories = TopSerializer()
    repeat_attackers = RepeatSerializer()
    warnings_by_kind = WarningCountSerializer(many=True, help_text=_("Of the warnings the caller may open."))
    warnings = EvaluationWarningSerializer(many=True, help_text=_("Those the caller may open, oldest first."))


class EvaluationRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = UnitRefSerializer()
    year = serializers.IntegerField()
    quarter = serializers.IntegerField(help_text=_("1 to 4; 0 for the whole year."))
    state = enum(EvaluationState)
    lessons = serializers.CharField()
    written_by = UserRefSerializer()
    updated_at = serializers.DateTimeField()
    submitted_by = UserRefSerializer(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    approved_by = UserRefSerializer(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    returned_by = UserRefSerializer(allow_null=True, help_text=_("The last return, kept after it is submitted again."))
    returned_at = serializers.DateTimeField(allow_null=True)
    return_note = serializers.CharField()
    version = serializers.IntegerField(
        help_text=_("Send it back (body or If-Match) with a change: a stale one is 412.")
    )


class EvaluationSerializer(EvaluationRowSerializer):
    figures = EvaluationFiguresSerializer(
        source="api_figures",
        help_text=_("As approved, or read now before approval; what the caller may be told of them."),
    )
