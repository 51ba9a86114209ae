"""Oversight campaigns: the office reviews many cases at once (special supervision, the yearly look-back, fugitive
pursuit), finds problems, has them rectified, has cases handled again ("made up") and holds officers accountable.

Every write goes through oversight/services.py, which also writes the campaign's log (``CampaignEvent``) and the
steps on each case's timeline (through the cases services). The invariants that must hold whatever the door are
constraints here: a case appears once per campaign, choices are their values, a draft has not started, a sampled
campaign that started has its seed, a rectification says what was done and when."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.models import Case, Suspect
from oversight.choices import (
    Answer,
    CampaignKind,
    CampaignState,
    ChecklistItem,
    LogStep,
    Measure,
    ProblemType,
    PursuitStatus,
    ReminderReason,
    SelectionMode,
)

USER = settings.AUTH_USER_MODEL


def _in(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=30, choices=CampaignKind.choices)
    # Reviews happen within this unit's subtree; its supervisors and administrators run the campaign.
    owner_unit = models.ForeignKey(OrgUnit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    deadline = models.DateField(_("deadline"))
    # The queue's filter values (oversight/scope.py): statuses, incident types, flags, occurred and closed dates, a
    # unit of the owner's subtree.
    scope = models.JSONField(_("scope"), default=dict, blank=True)
    selection = models.CharField(_("selection"), max_length=20, choices=SelectionMode.choices)
    # Cases in the sample (per sub-unit when stratified); none when every case in scope is selected.
    sample_size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    # The sample is md5(seed || case id) ascending: the same seed over the same cases selects the same sample.
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT)
    selected_count = models.PositiveIntegerField(_("cases selected"), default=0)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            _in("kind", CampaignKind, "campaign_kind_valid"),
            _in("state", CampaignState, "campaign_state_valid"),
            _in("selection", SelectionMode, "campaign_selection_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="campaign_name_not_empty"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="campaign_period_ordered"),
            models.CheckConstraint(
                condition=Q(selection=SelectionMode.ALL, sample_size__isnull=True)
                | (~Q(selection=SelectionMode.ALL) & Q(sample_size__gte=1)),
                name="campaign_sample_size_matches_selection",
            ),
            models.CheckConstraint(
                condition=Q(state=CampaignState.DRAFT, started_at__isnull=True, closed_at__isnull=True)
                | Q(state=CampaignState.RUNNING, started_at__isnull=False, closed_at__isnull=True)
                | Q(state=CampaignState.CLOSED, started_at__isnull=False, closed_at__isnull=False),
                name="campaign_dates_match_state",
            ),
            models.CheckConstraint(
                condition=Q(state=CampaignState.DRAFT) | Q(selection=SelectionMode.ALL) | ~Q(seed=""),
                name="campaign_started_sample_has_seed",
            ),
        ]
        indexes = [models.Index(fields=["owner_unit", "state"], name="campaign_owner_state")]

    def __str__(self) -> str:
        return self.name


class CampaignCase(models.Model):
    """A case selected for the campaign when it started: the frozen list (a case filed later is never added)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="selected")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    # The child of the owner unit the case's unit lies under (the owner unit itself for its own cases): progress,
    # stratification and reviewers go by it.
    sub_unit = models.ForeignKey(OrgUnit, verbose_name=_("sub-unit"), on_delete=models.PROTECT, related_name="+")
    # "Made up": the case was sent back to be handled again through the case workflow (recall, reopen).
    made_up_at = models.DateTimeField(_("made up at"), null=True, blank=True)
    made_up_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    made_up_problem = models.ForeignKey(
        "Problem", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("for problem")
    )
    # Optimistic concurrency, as a case's own version: every write about this selected case (review, problem,
    # rectification, making up, accountability, pursuit step) bumps it, and the review page's forms and API clients
    # send the version they read, so a stale tab or a form sent twice is refused instead of writing again.
    # The database default too: the cases are selected by one INSERT … SELECT that names only the other columns.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)

    class Meta:
        verbose_name = _("campaign case")
        verbose_name_plural = _("campaign cases")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "case"], name="campaign_case_once"),
            models.CheckConstraint(
                condition=Q(made_up_at__isnull=True, made_up_by__isnull=True, made_up_problem__isnull=True)
                | Q(made_up_at__isnull=False, made_up_by__isnull=False, made_up_problem__isnull=False),
                name="campaign_case_made_up_complete",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="campaign_case_version_positive"),
        ]
        indexes = [
            # Progress and the report count the selected cases per sub-unit from this index alone.
            models.Index(fields=["campaign", "sub_unit"], name="campaign_case_sub_unit"),
            # The campaign page and the API page a campaign's cases in selection (id) order.
            models.Index(fields=["campaign", "id"], name="campaign_case_order"),
            # The few cases made up, counted without reading the campaign's other rows.
            models.Index(
                fields=["campaign", "sub_unit"], condition=Q(made_up_at__isnull=False), name="campaign_case_made_up"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.case_id}"


class ReviewerAssignment(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="reviewers")
    sub_unit = models.ForeignKey(OrgUnit, verbose_name=_("sub-unit"), on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(USER, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"))

    class Meta:
        verbose_name = _("reviewer assignment")
        verbose_name_plural = _("reviewer assignments")
        ordering = ["campaign", "sub_unit", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "sub_unit", "reviewer"], name="reviewer_assigned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.reviewer_id} @ {self.sub_unit_id}"


class CampaignEvent(models.Model):
    """The campaign's own log, append-only, written in the same transaction as the change it records."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="events")
    step = models.CharField(_("step"), max_length=20, choices=LogStep.choices)
    campaign_case = models.ForeignKey(CampaignCase, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")
        ordering = ["at", "id"]
        constraints = [_in("step", LogStep, "campaign_event_step_valid")]
        indexes = [models.Index(fields=["campaign", "at", "id"], name="campaign_event_log")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.step} {self.at:%Y-%m-%d %H:%M}"


class Review(models.Model):
    """The review of one selected case: the checklist of the campaign's kind, answered item by item."""

    campaign_case = models.OneToOneField(CampaignCase, on_delete=models.PROTECT, related_name="review")
    reviewer = models.ForeignKey(USER, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"))
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("campaign review")
        verbose_name_plural = _("campaign reviews")

    def __str__(self) -> str:
        return f"{self.campaign_case}"


class ReviewAnswer(models.Model):
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="answers")
    item = models.CharField(_("item"), max_length=20, choices=ChecklistItem.choices)
    answer = models.CharField(_("answer"), max_length=20, choices=Answer.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("checklist answer")
        verbose_name_plural = _("checklist answers")
        ordering = ["review", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="review_item_once"),
            _in("item", ChecklistItem, "review_item_valid"),
            _in("answer", Answer, "review_answer_valid"),
            models.CheckConstraint(condition=~Q(answer=Answer.PROBLEM) | ~Q(note=""), name="review_problem_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.answer}"


class Problem(models.Model):
    campaign_case = models.ForeignKey(CampaignCase, on_delete=models.PROTECT, related_name="problems")
    type = models.CharField(_("type"), max_length=20, choices=ProblemType.choices)
    description = models.TextField(_("description"))
    responsible_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="+"
    )
    rectify_by = models.DateField(_("rectify by"))
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("raised at"))
    rectification = models.TextField(_("what was done"), blank=True)
    rectified_on = models.DateField(_("rectified on"), null=True, blank=True)
    rectification_recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("campaign problem")
        verbose_name_plural = _("campaign problems")
        ordering = ["raised_at", "id"]
        constraints = [
            _in("type", ProblemType, "problem_type_valid"),
            models.CheckConstraint(condition=~Q(description=""), name="problem_description_not_empty"),
            models.CheckConstraint(
                condition=Q(rectified_on__isnull=True, rectification="", rectification_recorded_by__isnull=True)
                | (Q(rectified_on__isnull=False, rectification_recorded_by__isnull=False) & ~Q(rectification="")),
                name="problem_rectification_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.get_type_display()


class Accountability(models.Model):
    """An officer held accountable for how a selected case was handled."""

    campaign_case = models.ForeignKey(CampaignCase, on_delete=models.PROTECT, related_name="accountabilities")
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    officer_name = models.CharField(_("officer"), max_length=100)
    officer_badge = models.CharField(_("badge number"), max_length=20, blank=True)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    measure = models.CharField(_("measure"), max_length=30, choices=Measure.choices)
    document_reference = models.CharField(_("document reference"), max_length=100)
    decided_on = models.DateField(_("decided on"))
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("accountability record")
        verbose_name_plural = _("accountability records")
        ordering = ["recorded_at", "id"]
        constraints = [
            _in("measure", Measure, "accountability_measure_valid"),
            models.CheckConstraint(condition=~Q(officer_name=""), name="accountability_officer_named"),
            models.CheckConstraint(condition=~Q(document_reference=""), name="accountability_has_document"),
        ]

    def __str__(self) -> str:
        return f"{self.officer_name}: {self.get_measure_display()}"


_P = PursuitStatus
_ENDS = [_P.ARRESTED, _P.SURRENDERED, _P.EXTRADITED, _P.DECEASED]


class PursuitRecord(models.Model):
    """The pursuit of one suspect at large of a case selected by a fugitive-pursuit campaign: one row per suspect,
    made when the campaign starts and moved on step by step (the steps are in the campaign's log and on the case's
    timeline)."""

    campaign_case = models.ForeignKey(CampaignCase, on_delete=models.PROTECT, related_name="pursuits")
    suspect = models.ForeignKey(Suspect, verbose_name=_("suspect"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=PursuitStatus.choices, default=PursuitStatus.AT_LARGE)
    located_on = models.DateField(_("located on"), null=True, blank=True)
    # The day the pursuit ended: arrested, surrendered, extradited (or repatriated), or found deceased.
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # The unit that located or caught the suspect.
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("pursuing unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cross_border = models.BooleanField(_("across the border"), default=False)
    note = models.TextField(_("note"), blank=True)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pursuit record")
        verbose_name_plural = _("pursuit records")
        ordering = ["campaign_case", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign_case", "suspect"], name="pursuit_suspect_once"),
            _in("status", PursuitStatus, "pursuit_status_valid"),
            # Each status has exactly the dates it implies: none at large, the day located, the day it ended.
            models.CheckConstraint(
                condition=Q(status=_P.AT_LARGE, located_on__isnull=True, ended_on__isnull=True)
                | Q(status=_P.LOCATED, located_on__isnull=False, ended_on__isnull=True)
                | Q(status__in=_ENDS, ended_on__isnull=False),
                name="pursuit_dates_match_status",
            ),
            models.CheckConstraint(
                condition=Q(located_on__isnull=True) | Q(ended_on__isnull=True) | Q(ended_on__gte=F("located_on")),
                name="pursuit_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status=_P.AT_LARGE) | Q(unit__isnull=False), name="pursuit_step_has_unit"
            ),
            models.CheckConstraint(
                condition=~Q(status=_P.EXTRADITED) | Q(cross_border=True), name="pursuit_extradition_cross_border"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_case}: {self.suspect_id} {self.status}"


class Reminder(models.Model):
    """A reminder the campaigns' periodic job gave (oversight/reminders.py): a reviewer's cases still to review as the
    deadline nears, or a problem whose rectification is overdue. One row per person and thing they are reminded of
    (the unique constraints), so a job run again, by a second beat or the next period, reminds nobody twice. Its
    sentence is rendered in the reader's language when read or e-mailed, from the values kept here."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="reminders")
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=30, choices=ReminderReason.choices)
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The cases still to review when it was given (review_due).
    count = models.PositiveIntegerField(_("cases"), default=0)
    # The campaign's deadline (review_due), the problem's rectification date (rectification_overdue).
    due = models.DateField(_("due"))
    created_at = models.DateTimeField(_("created at"))
    # Set once e-mailed, or found to have nowhere to go; an e-mail that failed is tried again on the next run.
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign reminder")
        verbose_name_plural = _("campaign reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            _in("reason", ReminderReason, "reminder_reason_valid"),
            models.CheckConstraint(
                condition=Q(reason=ReminderReason.REVIEW_DUE, problem__isnull=True)
                | Q(reason=ReminderReason.RECTIFICATION_OVERDUE, problem__isnull=False),
                name="reminder_problem_matches_reason",
            ),
            models.UniqueConstraint(
                fields=["campaign", "recipient"],
                condition=Q(reason=ReminderReason.REVIEW_DUE),
                name="reminder_review_due_once",
            ),
            models.UniqueConstraint(
                fields=["problem", "recipient"],
                condition=Q(problem__isnull=False),
                name="reminder_overdue_once",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="reminder_inbox"),
            models.Index(fields=["created_at"], condition=Q(emailed_at__isnull=True), name="reminder_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.reason} {self.due}"
