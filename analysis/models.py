"""What the analysis of cases needs besides the cases: each unit's officer strength per year, the denominator of the
rates per 100 officers; the early warnings (analysis/warnings.py) with their settings; and the units' case analysis
and evaluation reports. Written through ``analysis.services`` only."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, JSONArray, Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from analysis.choices import (
    CASE_KINDS,
    QUARTERS,
    RISE_KINDS,
    WHOLE_YEAR,
    EvaluationState,
    Severity,
    WarningKind,
    WarningState,
)
from cases.models import Case

# The years a strength may be recorded for: none before the earliest case the application holds.
FIRST_YEAR = 2000
LAST_YEAR = 2100


class PostgresCheckConstraint(models.CheckConstraint):
    """A check that only PostgreSQL can state (JSON containment): made and validated there; on SQLite, the embedded
    default, the table has no such check and the services' own rule (analysis/services.py) is what holds."""

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if schema_editor.connection.vendor == "postgresql" else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if schema_editor.connection.vendor == "postgresql" else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if schema_editor.connection.vendor == "postgresql" else None

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)  # type: ignore[misc]


class OfficerStrength(models.Model):
    """How many officers a unit has in a year: regular police officers and auxiliary officers, as its personnel
    office counts them (the establishment at the end of the year, or the year's average where that is what the unit
    reports; one figure per unit and year either way)."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    regular = models.PositiveIntegerField(_("regular officers"))
    auxiliary = models.PositiveIntegerField(_("auxiliary officers"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"), editable=False)

    class Meta:
        verbose_name = _("officer strength")
        verbose_name_plural = _("officer strengths")
        ordering = ["unit__path", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year"],
                name="officerstrength_once_per_unit_year",
                violation_error_message=_("This unit's officer strength for this year is recorded already."),
            ),
            models.CheckConstraint(
                condition=Q(regular__gte=0) & Q(auxiliary__gte=0), name="officerstrength_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR), name="officerstrength_year_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}: {self.regular} + {self.auxiliary}"

    @property
    def total(self) -> int:
        return self.regular + self.auxiliary


def _in(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


# The bounds of the settings (the admin form says them; the constraints hold them whatever the door).
WINDOW_DAYS = (28, 366)
BASELINE_MONTHS = (3, 120)
ALPHA_MAX = 0.2
MIN_CASES = (1, 1000)
# A repeat-victim warning follows a welfare prompt (cases/welfare.py), which is raised at three attacks: the threshold
# may ask for more, never for fewer.
REPEAT_VICTIM_THRESHOLD = (3, 50)


class WarningSettings(models.Model):
    """The early warnings' parameters (docs/early-warnings.md), as an administrator of the whole tree set them. Never
    changed in place: each change is a new row with who made it and when, and the job reads the latest; the older rows
    are the history."""

    window_days = models.PositiveSmallIntegerField(
        _("window (days)"),
        default=90,
        help_text=_("The recent period compared with the baseline, taken as the nearest whole number of months."),
    )
    baseline_months = models.PositiveSmallIntegerField(
        _("baseline (months)"), default=12, help_text=_("The months before the window that set what is expected.")
    )
    alpha = models.FloatField(
        _("significance level"),
        default=0.001,
        help_text=_("A rise is raised when a count this high or higher had less than this chance under the baseline."),
    )
    min_cases = models.PositiveSmallIntegerField(
        _("minimum cases"), default=5, help_text=_("No rise is raised on fewer cases in the window than this.")
    )
    repeat_victim_threshold = models.PositiveSmallIntegerField(
        _("attacks on one officer within twelve months"),
        default=3,
        help_text=_("An officer attacked this many times or more within twelve months is warned about (3 or more)."),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    changed_at = models.DateTimeField(_("changed at"), editable=False)

    class Meta:
        verbose_name = _("early warning settings")
        verbose_name_plural = _("early warning settings")
        ordering = ["-changed_at", "-id"]
        get_latest_by = ["changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_days__gte=WINDOW_DAYS[0], window_days__lte=WINDOW_DAYS[1]),
                name="warningsettings_window_days_range",
            ),
            models.CheckConstraint(
                condition=Q(baseline_months__gte=BASELINE_MONTHS[0], baseline_months__lte=BASELINE_MONTHS[1]),
                name="warningsettings_baseline_months_range",
            ),
            models.CheckConstraint(condition=Q(alpha__gt=0, alpha__lte=ALPHA_MAX), name="warningsettings_alpha_range"),
            models.CheckConstraint(
                condition=Q(min_cases__gte=MIN_CASES[0], min_cases__lte=MIN_CASES[1]),
                name="warningsettings_min_cases_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    repeat_victim_threshold__gte=REPEAT_VICTIM_THRESHOLD[0],
                    repeat_victim_threshold__lte=REPEAT_VICTIM_THRESHOLD[1],
                ),
                name="warningsettings_repeat_victim_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.changed_at:%Y-%m-%d %H:%M}: {self.window_days}d / {self.baseline_months}m / {self.alpha}"

    @property
    def window_months(self) -> int:
        """The window in whole months (cases are counted by the month they were submitted in): the nearest number."""
        return max(1, (self.window_days + 15) // 30)


class EarlyWarning(models.Model):
    """A condition the early-warning job found (analysis/warnings.py), for the office of ``owner_unit`` to look into:
    raised once per condition and period (``key``), then acknowledged and resolved by a supervisor of that unit, each
    step with who and when, the resolution with a note. Written through ``analysis.services`` only."""

    kind = models.CharField(_("kind"), max_length=20, choices=WarningKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    # The unit whose rights-protection office should act: the county of a unit rise, the province of a scenario rise,
    # the handling unit of the case of a repeat warning.
    owner_unit = models.ForeignKey(OrgUnit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # One per condition and period, so that a rerun raises nothing again: "unit_rise:<unit id>:<last day of the
    # window>", "scenario_rise:<province id>:<dimension>:<code>:<last day>", "repeat_attacker:<case id>",
    # "repeat_victim:<welfare prompt id>".
    key = models.CharField(_("key"), max_length=150, editable=False)
    # The numbers that raised it (docs/early-warnings.md): observed, expected, limit, p-value, the window, …
    figures = models.JSONField(_("figures"), default=dict, blank=True, editable=False)
    state = models.CharField(_("state"), max_length=15, choices=WarningState.choices, default=WarningState.OPEN)
    raised_at = models.DateTimeField(_("raised at"), editable=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement_note = models.TextField(_("acknowledgement note"), blank=True, default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True, default="")
    # Optimistic concurrency: every step bumps it, and the page's forms and API clients send the version they read,
    # so a stale tab or a form sent twice is refused instead of writing again.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="earlywarning_once_per_key"),
            _in("kind", WarningKind, "earlywarning_kind_valid"),
            _in("severity", Severity, "earlywarning_severity_valid"),
            _in("state", WarningState, "earlywarning_state_valid"),
            models.CheckConstraint(
                condition=Q(key__startswith=Concat(F("kind"), Value(":"))), name="earlywarning_key_names_kind"
            ),
            # A warning about a case names it; one about a unit's figures names none.
            models.CheckConstraint(
                condition=Q(kind__in=CASE_KINDS, case__isnull=False) | Q(kind__in=RISE_KINDS, case__isnull=True),
                name="earlywarning_case_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(
                    state=WarningState.OPEN,
                    acknowledged_at__isnull=True,
                    acknowledged_by__isnull=True,
                    acknowledgement_note="",
                    resolved_at__isnull=True,
                    resolved_by__isnull=True,
                    resolution_note="",
                )
                | Q(
                    state=WarningState.ACKNOWLEDGED,
                    acknowledged_at__isnull=False,
                    acknowledged_by__isnull=False,
                    resolved_at__isnull=True,
                    resolved_by__isnull=True,
                    resolution_note="",
                )
                | Q(
                    state=WarningState.RESOLVED,
                    acknowledged_at__isnull=False,
                    acknowledged_by__isnull=False,
                    resolved_at__isnull=False,
                    resolved_by__isnull=False,
                ),
                name="earlywarning_steps_match_state",
            ),
            # Resolving says what was done: a note with more than white space.
            models.CheckConstraint(
                condition=~Q(state=WarningState.RESOLVED) | Q(resolution_note__regex=r"\S"),
                name="earlywarning_resolved_has_note",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=F("raised_at")),
                name="earlywarning_acknowledged_after_raised",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("acknowledged_at")),
                name="earlywarning_resolved_after_acknowledged",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="earlywarning_version_positive"),
        ]
        indexes = [
            models.Index(fields=["state", "-raised_at"], name="earlywarning_state_raised"),
            models.Index(fields=["owner_unit", "state"], name="earlywarning_owner_state"),
        ]

    def __str__(self) -> str:
        return self.key


# The longest "lessons and measures" text a report keeps: some ten pages, more than any office writes for a quarter.
LESSONS_MAX = 20000


class EvaluationReport(models.Model):
    """A unit's case analysis and evaluation for a quarter or a year (docs/evaluation-report.md): the figures of its
    subtree (analysis/evaluation.py) and the "lessons and measures" its office writes, submitted by a supervisor and
    approved by another (four eyes: the head's sign-off). Until it is approved the figures are read live; approval
    freezes them in ``figures``, so an approved report is a record that shows what was approved, never today's
    figures. Approved is final. Written through ``analysis.services`` only."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    # 0: the whole year; 1-4: that quarter.
    quarter = models.PositiveSmallIntegerField(_("quarter"), default=WHOLE_YEAR)
    lessons = models.TextField(_("lessons and measures"), blank=True, default="")
    state = models.CharField(_("state"), max_length=15, choices=EvaluationState.choices, default=EvaluationState.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), editable=False)
    # Who last saved the lessons (the one who started it until then), and when anything last changed.
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # The last return to the writers, kept (and shown) after the report is submitted again.
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_note = models.TextField(_("why it was returned"), blank=True, default="")
    # Whoever wrote its lessons or submitted it, at any step (a return forgets nobody), as user ids in the order they
    # first had a hand in it: none of them approves or returns it (four eyes). The submitter alone would not do: after
    # a return, a colleague may send the same text again, and its first writer would then approve their own words.
    authors = models.JSONField(_("authors"), default=list, blank=True, editable=False)
    # The figures as approved (analysis/evaluation.py ``compute``); empty before approval.
    figures = models.JSONField(_("figures"), default=dict, blank=True, editable=False)
    # Optimistic concurrency, as on the early warnings: every change bumps it; a stale page or client is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("evaluation report")
        verbose_name_plural = _("evaluation reports")
        ordering = ["-year", "quarter", "unit__path", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "quarter"],
                name="evaluationreport_once_per_unit_period",
                violation_error_message=_("This unit has a report for this period already."),
            ),
            _in("state", EvaluationState, "evaluationreport_state_valid"),
            models.CheckConstraint(
                condition=Q(quarter__in=[WHOLE_YEAR, *QUARTERS]), name="evaluationreport_quarter_valid"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR), name="evaluationreport_year_plausible"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("lessons"), LESSONS_MAX), name="evaluationreport_lessons_bounded"
            ),
            models.CheckConstraint(
                condition=Q(
                    state=EvaluationState.DRAFT,
                    submitted_by__isnull=True,
                    submitted_at__isnull=True,
                    approved_by__isnull=True,
                    approved_at__isnull=True,
                    figures={},
                )
                | Q(
                    state=EvaluationState.SUBMITTED,
                    submitted_by__isnull=False,
                    submitted_at__isnull=False,
                    approved_by__isnull=True,
                    approved_at__isnull=True,
                    figures={},
                )
                | (
                    Q(
                        state=EvaluationState.APPROVED,
                        submitted_by__isnull=False,
                        submitted_at__isnull=False,
                        approved_by__isnull=False,
                        approved_at__isnull=False,
                    )
                    & ~Q(figures={})
                ),
                name="evaluationreport_steps_match_state",
            ),
            # Four eyes: the one who submitted it does not approve it, nor anyone who wrote or submitted it before.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("submitted_by")),
                name="evaluationreport_approver_is_not_submitter",
            ),
            PostgresCheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(authors__contains=JSONArray(F("approved_by"))),
                name="evaluationreport_approver_is_no_author",
            ),
            PostgresCheckConstraint(
                condition=Q(submitted_by__isnull=True) | Q(authors__contains=JSONArray(F("submitted_by"))),
                name="evaluationreport_submitter_is_an_author",
            ),
            # A report goes for approval with its lessons written.
            models.CheckConstraint(
                condition=Q(state=EvaluationState.DRAFT) | Q(lessons__regex=r"\S"),
                name="evaluationreport_submitted_has_lessons",
            ),
            # A return is recorded whole: who, when and why (a note with more than white space).
            models.CheckConstraint(
                condition=Q(returned_by__isnull=True, returned_at__isnull=True, return_note="")
                | Q(returned_by__isnull=False, returned_at__isnull=False, return_note__regex=r"\S"),
                name="evaluationreport_return_recorded_whole",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | Q(submitted_at__gte=F("created_at")),
                name="evaluationreport_submitted_after_started",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | Q(approved_at__gte=F("submitted_at")),
                name="evaluationreport_approved_after_submitted",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="evaluationreport_version_positive"),
        ]
        indexes = [models.Index(fields=["state", "-year"], name="evaluationreport_state_year")]

    def __str__(self) -> str:
        return f"{self.unit} {self.period_label}"

    @property
    def period_label(self) -> str:
        return f"{self.year}" if self.quarter == WHOLE_YEAR else f"{self.year} Q{self.quarter}"
