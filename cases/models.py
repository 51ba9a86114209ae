"""Case domain models: fields, constraints and indexes only. All writes go through ``cases.services``."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases import messages
from cases.choices import (
    FAULT_FINDING_CHOICES,
    FAULT_FINDING_VALUES,
    FAULT_NEEDS_DOCUMENT,
    LENIENT_DISPOSITIONS,
    OPEN_REQUEST_STATUSES,
    OPEN_STATUSES,
    AccessAction,
    CaseStatus,
    Channel,
    Disposition,
    DutyScenario,
    DutyStatus,
    EventKind,
    FindingProblem,
    FlagKind,
    FlagResolution,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    NoSuspectReason,
    NotificationDelivery,
    NotificationKind,
    OfficerType,
    OverrideReason,
    PauseReason,
    PlaceCategory,
    ReferralTarget,
    ReviewVerdict,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
    Weapon,
)
from cases.fields import EncryptedCharField, blind_index

USER = settings.AUTH_USER_MODEL


def _choice_check(
    field: str, choices: type[models.TextChoices], name: str, *, blank: bool = False
) -> models.CheckConstraint:
    values = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(condition=Q(**{f"{field}__in": values}), name=name)


class ReferenceCounter(models.Model):
    """Last reference number issued per year; its row is locked while a number is taken, so none repeat or skip."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class StageLimit(models.Model):
    """How long a stage may take (editable by admins). ``track`` is blank for stages that do not depend on it."""

    stage = models.CharField(_("stage"), max_length=20, choices=CaseStatus.choices)
    track = models.CharField(_("track"), max_length=20, choices=Track.choices, blank=True)
    days = models.PositiveSmallIntegerField(_("days"))
    halved_in_major_period = models.BooleanField(_("halved during a major security period"), default=False)
    basis = models.CharField(_("basis"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stage time limit")
        verbose_name_plural = _("stage time limits")
        ordering = ["stage", "track"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "track"], name="stagelimit_unique"),
            _choice_check("stage", CaseStatus, "stagelimit_stage_valid"),
            _choice_check("track", Track, "stagelimit_track_valid", blank=True),
            models.CheckConstraint(condition=Q(days__gt=0), name="stagelimit_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.track} {self.days}d"


class RetentionPolicy(models.Model):
    """How long a closed case of one incident type stays as it is, then sealed, before it is anonymised (days from
    its closure). Editable by administrators of the whole tree; each change is kept in ``RetentionPolicyChange``
    with its reason. ``basis`` says why the period is what it is, and ``basis_verified`` whether that basis is the
    law's own text (False: the office's reading, to be checked before it is relied on)."""

    kind = models.CharField(_("incident type"), max_length=40, choices=IncidentKind.choices, unique=True)
    seal_after_days = models.PositiveIntegerField(_("seal after (days from closure)"))
    anonymise_after_days = models.PositiveIntegerField(_("anonymise after (days from closure)"))
    basis = models.TextField(_("basis"))
    basis_verified = models.BooleanField(_("basis verified from the legal text"), default=False)
    effective_from = models.DateField(_("effective from"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")
        ordering = ["kind"]
        constraints = [
            _choice_check("kind", IncidentKind, "retention_kind_valid"),
            models.CheckConstraint(condition=Q(seal_after_days__gt=0), name="retention_seal_positive"),
            models.CheckConstraint(
                condition=Q(anonymise_after_days__gte=F("seal_after_days")), name="retention_anonymise_after_seal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.seal_after_days}/{self.anonymise_after_days}"


class RetentionPolicyChange(models.Model):
    """One change of a retention period, with who made it and why. Written by ``change_retention_policy`` only."""

    policy = models.ForeignKey(RetentionPolicy, on_delete=models.PROTECT, related_name="changes")
    seal_after_days = models.PositiveIntegerField(_("seal after (days from closure)"))
    anonymise_after_days = models.PositiveIntegerField(_("anonymise after (days from closure)"))
    previous_seal_after_days = models.PositiveIntegerField(_("sealed after, before"))
    previous_anonymise_after_days = models.PositiveIntegerField(_("anonymised after, before"))
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(USER, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("retention period change")
        verbose_name_plural = _("retention period changes")
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="retention_change_has_reason")]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.at:%Y-%m-%d}"


class Case(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("handling unit"), on_delete=models.PROTECT, related_name="cases")
    # Copy of unit.path: the supervisor queue filters by subtree without joining the unit table.
    unit_path = models.CharField(max_length=255, editable=False)
    kind = models.CharField(_("incident type"), max_length=40, choices=IncidentKind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    dispatch_ref = models.CharField(_("110 incident number"), max_length=40, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    narrative = models.TextField(_("what happened"), blank=True)
    major_security_period = models.BooleanField(_("during a major security period"), default=False)

    # Facts for the downgrade rules, as cases/rules/facts.FACTS declares them (tests/cases/test_facts.py keeps these
    # fields in step with it, major_security_period above included). None means unknown, a value, not a guess.
    # Blank: not recorded (cases filed before they were asked, or left unanswered); the analysis counts them apart.
    duty_scenario = models.CharField(
        _("duty scenario"), max_length=20, choices=DutyScenario.choices, blank=True, default=""
    )
    place_category = models.CharField(
        _("place category"), max_length=20, choices=PlaceCategory.choices, blank=True, default=""
    )
    weapon = models.CharField(_("weapon"), max_length=20, choices=Weapon.choices, default=Weapon.UNKNOWN)
    vehicle_used = models.BooleanField(_("vehicle used against officers"), null=True, blank=True)
    endangered_safety = models.BooleanField(_("enough to endanger personal safety"), null=True, blank=True)
    could_cause_serious_harm = models.BooleanField(_("enough to cause serious injury or death"), null=True, blank=True)
    officers_attacked = models.PositiveSmallIntegerField(_("officers attacked"), null=True, blank=True)
    attackers = models.PositiveSmallIntegerField(_("attackers"), null=True, blank=True)
    organised_or_incited = models.BooleanField(_("organised or incited"), null=True, blank=True)
    intoxicated = models.BooleanField(_("attacker intoxicated"), null=True, blank=True)
    suspect_escaped = models.BooleanField(_("suspect escaped"), null=True, blank=True)
    evidence_lost = models.BooleanField(_("key evidence lost"), null=True, blank=True)
    others_hurt = models.BooleanField(_("others hurt"), null=True, blank=True)
    major_property_loss = models.BooleanField(_("major property loss"), null=True, blank=True)
    prior_attack_on_police = models.BooleanField(
        _("attacker previously punished for attacking police"), null=True, blank=True
    )
    online_views = models.PositiveIntegerField(_("online views"), null=True, blank=True)
    online_reposts = models.PositiveIntegerField(_("online reposts"), null=True, blank=True)
    personal_info_items = models.PositiveIntegerField(_("personal-information items exposed"), null=True, blank=True)

    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.DRAFT, editable=False
    )
    track = models.CharField(_("track"), max_length=20, choices=Track.choices, blank=True, editable=False)
    stage_started_at = models.DateTimeField(_("stage started"), null=True, blank=True, editable=False)
    stage_due_at = models.DateTimeField(_("stage due"), null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True, editable=False)
    # When the current stage's time limit was extended (once per stage, where the law allows it).
    stage_extended_at = models.DateTimeField(_("time limit extended at"), null=True, blank=True, editable=False)
    pause_reason = models.CharField(
        _("pause reason"), max_length=20, choices=PauseReason.choices, blank=True, editable=False
    )
    last_activity_at = models.DateTimeField(_("last activity"), editable=False)
    conclusion_reason = models.TextField(_("reason recorded at conclusion"), blank=True, editable=False)
    # Why the case concluded without an identified suspect (blank when one is identified); the rules read it.
    no_suspect_reason = models.CharField(
        _("why no suspect is identified"), max_length=20, choices=NoSuspectReason.choices, blank=True, editable=False
    )

    filed_by = models.ForeignKey(USER, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="filed_cases")
    assigned_to = models.ForeignKey(
        USER,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    created_at = models.DateTimeField(_("created at"), editable=False)
    updated_at = models.DateTimeField(_("updated at"), editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    # When the case was first referred (the earliest referral's ``referred_at``), kept by the referring services:
    # the yearly report's referral times read it instead of searching each case's referrals for its first.
    first_referred_at = models.DateTimeField(_("first referred at"), null=True, blank=True, editable=False)
    # Optimistic concurrency: forms and API clients send the version they read; a mismatch is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The filing step the filer last opened on their draft, where "continue editing" takes them back; empty: none yet.
    # Where the filer was, not what the case says: it changes neither the version nor the timeline.
    draft_step = models.CharField(max_length=20, blank=True, editable=False)

    # Read model kept by services so queues filter without joins.
    max_injury_rank = models.PositiveSmallIntegerField(_("worst injury"), null=True, blank=True, editable=False)
    disposition_rank = models.PositiveSmallIntegerField(_("disposition rank"), null=True, blank=True, editable=False)
    # The involved officers' and the suspects' names, one per line (cases/parties.py ``party_names``): the search
    # finds a party by name in the case row itself, through one character-pair index (migration 0027).
    party_names = models.TextField(_("parties' names"), blank=True, default="", editable=False)
    expected_min_rank = models.PositiveSmallIntegerField(
        _("expected minimum rank"), null=True, blank=True, editable=False
    )
    is_stalled = models.BooleanField(_("stalled"), default=False, editable=False)
    is_idle = models.BooleanField(_("idle"), default=False, editable=False)
    has_overdue_referral = models.BooleanField(_("overdue referral"), default=False, editable=False)
    is_downgraded = models.BooleanField(_("downgraded"), default=False, editable=False)
    has_review_prompt = models.BooleanField(_("review prompt"), default=False, editable=False)
    # Kept by the flag scan (cases/flagging/). The case version it last evaluated: every service write bumps
    # ``version``, so "changed since the last scan" is one indexed comparison and an unchanged case costs nothing.
    flags_checked_version = models.PositiveIntegerField(default=0, editable=False)
    # When the current stage's clock reaches 75 % of its limit; empty while paused, outside an open stage, or
    # once that warning went out. Indexed so the scan finds due warnings without computing clocks in SQL.
    sla_warn_at = models.DateTimeField(_("75 % warning due"), null=True, blank=True, editable=False)
    # When the 75 % warning of the current stage was sent; a value before ``stage_started_at`` belongs to an
    # earlier stage, so each stage warns once.
    sla_warned_at = models.DateTimeField(_("75 % warning sent"), null=True, blank=True, editable=False)
    # Retention (cases/retention.py): a closed case is sealed (only administrators covering its unit see it, every
    # read logged) and later anonymised, each once, by the daily job, unless an administrator holds it.
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True, editable=False)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    legal_hold = models.BooleanField(_("legal hold"), default=False, editable=False)
    legal_hold_reason = models.TextField(_("reason for the legal hold"), blank=True, editable=False)
    legal_hold_by = models.ForeignKey(
        USER,
        verbose_name=_("legal hold placed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    legal_hold_at = models.DateTimeField(_("legal hold placed at"), null=True, blank=True, editable=False)
    # Set when the case was merged into another as its duplicate (cases/services/duplicates.py): this one is then a
    # closed record that points at the case that carries on; an administrator's unmerge empties it again.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
        editable=False,
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-last_activity_at", "-id"]
        constraints = [
            _choice_check("status", CaseStatus, "case_status_valid"),
            _choice_check("kind", IncidentKind, "case_kind_valid"),
            _choice_check("channel", Channel, "case_channel_valid"),
            _choice_check("weapon", Weapon, "case_weapon_valid"),
            _choice_check("duty_scenario", DutyScenario, "case_duty_scenario_valid", blank=True),
            _choice_check("place_category", PlaceCategory, "case_place_category_valid", blank=True),
            _choice_check("track", Track, "case_track_valid", blank=True),
            _choice_check("pause_reason", PauseReason, "case_pause_reason_valid", blank=True),
            _choice_check("no_suspect_reason", NoSuspectReason, "case_no_suspect_reason_valid", blank=True),
            models.CheckConstraint(
                condition=Q(reference__regex=r"^RG-[0-9]{4}-[0-9]{6}$"), name="case_reference_format"
            ),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True, pause_reason="") | Q(paused_at__isnull=False) & ~Q(pause_reason=""),
                name="case_pause_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_STATUSES, stage_due_at__isnull=False) | ~Q(status__in=OPEN_STATUSES),
                name="case_open_stage_has_due_date",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="case_version_positive"),
            # Only a closed case is sealed, and only a sealed one anonymised.
            models.CheckConstraint(
                condition=Q(sealed_at__isnull=True) | Q(status=CaseStatus.CLOSED), name="case_sealed_only_closed"
            ),
            models.CheckConstraint(
                condition=Q(anonymised_at__isnull=True) | Q(sealed_at__isnull=False),
                name="case_anonymised_only_sealed",
            ),
            # A hold says who placed it, when and why; a lifted hold leaves nothing behind (the timeline keeps both).
            models.CheckConstraint(
                condition=Q(
                    legal_hold=False, legal_hold_reason="", legal_hold_by__isnull=True, legal_hold_at__isnull=True
                )
                | Q(legal_hold=True, legal_hold_by__isnull=False, legal_hold_at__isnull=False)
                & ~Q(legal_hold_reason=""),
                name="case_legal_hold_complete",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")), name="case_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(status=CaseStatus.CLOSED), name="case_merged_record_closed"
            ),
        ]
        indexes = [
            models.Index(fields=["filed_by", "-created_at"], name="case_filed_by_recent"),
            models.Index(fields=["status", "stage_due_at"], name="case_status_due"),
            models.Index(fields=["occurred_at"], name="case_occurred"),
            models.Index(fields=["assigned_to", "-last_activity_at"], name="case_assigned_recent"),
            models.Index(fields=["unit_path"], name="case_unit_path_prefix", opclasses=["text_pattern_ops"]),
            # The supervisor queue's partial index is created per database vendor in migration 0002.
            # The flag scan's candidate queries (cases/flagging/scan.py): each partial index holds only the rows that
            # need attention, so a scan with nothing to do reads a few index pages, not the table.
            models.Index(
                fields=["id"],
                condition=~Q(flags_checked_version=F("version")) & ~Q(status=CaseStatus.DRAFT),
                name="case_flags_unchecked",
            ),
            models.Index(
                fields=["stage_due_at"],
                condition=Q(is_stalled=False, paused_at__isnull=True, status__in=OPEN_STATUSES),
                name="case_stall_candidates",
            ),
            models.Index(
                fields=["last_activity_at"],
                condition=Q(is_idle=False, status__in=OPEN_STATUSES),
                name="case_idle_candidates",
            ),
            models.Index(fields=["sla_warn_at"], condition=Q(sla_warn_at__isnull=False), name="case_sla_warn_due"),
            # The default order, newest activity first: the API case list and the administration list read the
            # first page in index order however many cases there are, and so does the queue of a wide subtree
            # (a province or the ministry), where the subtree index would return tens of thousands to sort.
            models.Index(fields=["-last_activity_at", "-id"], name="case_recent"),
            # The retention job's candidates: closed cases not yet anonymised, by closure date.
            models.Index(
                fields=["closed_at"],
                condition=Q(status=CaseStatus.CLOSED, anonymised_at__isnull=True),
                name="case_retention_due",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class InvolvedOfficer(models.Model):
    """An infringed officer (victim). ``user`` is empty for colleagues without an account."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="officers")
    user = models.ForeignKey(
        USER, verbose_name=_("account"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    badge_number = models.CharField(_("badge number"), max_length=20, blank=True)
    officer_type = models.CharField(
        _("officer type"), max_length=10, choices=OfficerType.choices, default=OfficerType.REGULAR
    )
    duty_status = models.CharField(
        _("duty status"), max_length=25, choices=DutyStatus.choices, default=DutyStatus.ON_DUTY
    )
    injury = models.CharField(_("injury"), max_length=20, choices=InjuryGrade.choices, default=InjuryGrade.NONE)
    medical_notes = models.TextField(_("medical details"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The merge of a duplicate case that listed this officer here (cases/services/duplicates.py); its unmerge removes
    # exactly these. Empty for an officer listed otherwise.
    added_by_merge = models.ForeignKey(
        "CaseMerge", null=True, blank=True, on_delete=models.PROTECT, related_name="added_officers", editable=False
    )

    class Meta:
        verbose_name = _("involved officer")
        verbose_name_plural = _("involved officers")
        ordering = ["id"]
        constraints = [
            _choice_check("officer_type", OfficerType, "officer_type_valid"),
            _choice_check("duty_status", DutyStatus, "officer_duty_status_valid"),
            _choice_check("injury", InjuryGrade, "officer_injury_valid"),
            models.UniqueConstraint(
                fields=["case", "user"], condition=Q(user__isnull=False), name="officer_unique_account_per_case"
            ),
        ]
        # Also on PostgreSQL, from migration 0026: officer_badge_upper over UPPER(badge_number), which the search and
        # the welfare check (cases/welfare.py) find an officer by.
        indexes = [models.Index(fields=["user", "case"], name="officer_user_case")]

    def __str__(self) -> str:
        return self.name


class CaseLink(models.Model):
    """Two cases about one incident, kept apart but related (cases/services/duplicates.py). One row per pair, the
    lower id first, so the pair is unique whichever case it was linked from."""

    low = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    high = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    linked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(_("linked at"))

    class Meta:
        verbose_name = _("case link")
        verbose_name_plural = _("case links")
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="caselink_unique_pair"),
            # Also refuses a case linked to itself.
            models.CheckConstraint(condition=Q(low__lt=F("high")), name="caselink_lower_id_first"),
        ]
        indexes = [models.Index(fields=["high"], name="caselink_high")]

    def __str__(self) -> str:
        return f"{self.low_id}-{self.high_id}"


class CaseMerge(models.Model):
    """One case merged into another as its duplicate, with what the merge changed, so that an administrator can undo
    exactly that (cases/services/duplicates.py). Kept after an unmerge, which it then records."""

    survivor = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merges_received")
    merged = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merges")
    reason = models.TextField(_("reason"))
    merged_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(_("merged at"))
    # The merged case's stage fields as they were before the merge closed it (ISO datetimes), restored by an unmerge.
    previous = models.JSONField(default=dict)
    unmerged_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unmerged_at = models.DateTimeField(_("unmerged at"), null=True, blank=True)
    unmerge_reason = models.TextField(_("reason for the unmerge"), blank=True)

    class Meta:
        verbose_name = _("case merge")
        verbose_name_plural = _("case merges")
        ordering = ["merged_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(survivor=F("merged")), name="casemerge_not_itself"),
            # A case is merged into one survivor at a time; a merge undone stays on record beside a later one.
            models.UniqueConstraint(
                fields=["merged"], condition=Q(unmerged_at__isnull=True), name="casemerge_one_in_force"
            ),
            models.CheckConstraint(
                condition=Q(unmerged_at__isnull=True, unmerged_by__isnull=True)
                | Q(unmerged_at__isnull=False, unmerged_by__isnull=False),
                name="casemerge_unmerge_has_actor",
            ),
        ]
        indexes = [models.Index(fields=["survivor", "merged_at"], name="casemerge_survivor")]

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.survivor_id}"


class Suspect(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="suspects")
    name = models.CharField(_("name"), max_length=100, blank=True)
    # Encrypted at rest (cases/fields.py); max_length is the plain text's.
    id_number = EncryptedCharField(_("ID number"), max_length=30, blank=True)
    # The keyed blind index of the ID number (cases/fields.py ``blind_index``), set by ``save`` whenever the number
    # is: the search finds a suspect by exact number without decrypting. Empty when there is no number.
    id_number_index = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=30, choices=SuspectStatus.choices, default=SuspectStatus.UNIDENTIFIED
    )
    disposition = models.CharField(
        _("disposition"), max_length=30, choices=Disposition.choices, default=Disposition.UNDER_INVESTIGATION
    )
    disposition_article = models.CharField(_("article applied"), max_length=60, blank=True)
    sentence_months = models.PositiveSmallIntegerField(_("sentence (months)"), null=True, blank=True)
    probation = models.BooleanField(_("probation"), null=True, blank=True)
    decided_at = models.DateField(_("decided on"), null=True, blank=True)
    lowered_reason = models.TextField(_("reason for a lowered charge"), blank=True)
    # Why a lenient outcome (``LENIENT_DISPOSITIONS``) was reached; empty: not recorded, or not a lenient outcome.
    lenient_reason = models.CharField(
        _("reason for the lenient outcome"), max_length=30, choices=LenientReason.choices, blank=True
    )
    lenient_reason_detail = models.TextField(_("the reason in words"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suspect")
        verbose_name_plural = _("suspects")
        ordering = ["id"]
        constraints = [
            _choice_check("status", SuspectStatus, "suspect_status_valid"),
            _choice_check("disposition", Disposition, "suspect_disposition_valid"),
            _choice_check("lenient_reason", LenientReason, "suspect_lenient_reason_valid", blank=True),
            # A reason belongs to a lenient outcome: it goes when the disposition stops being one.
            models.CheckConstraint(
                condition=Q(lenient_reason="", lenient_reason_detail="")
                | Q(disposition__in=sorted(LENIENT_DISPOSITIONS)),
                name="suspect_lenient_reason_with_lenient_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(lenient_reason=LenientReason.OTHER) | ~Q(lenient_reason_detail=""),
                name="suspect_other_lenient_reason_says_which",
            ),
        ]
        indexes = [
            models.Index(fields=["id_number_index"], condition=~Q(id_number_index=""), name="suspect_id_number_index")
        ]

    def __str__(self) -> str:
        return self.name or str(_("Unknown suspect"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every write of a suspect passes here (services, the admin site, the API through the services), so the
        # index never lags the number it stands for.
        self.id_number_index = blind_index(self.id_number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "id_number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "id_number_index"}
        super().save(*args, **kwargs)

    @property
    def is_identified(self) -> bool:
        return self.status != SuspectStatus.UNIDENTIFIED


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    target = models.CharField(
        _("referred to"), max_length=20, choices=ReferralTarget.choices, default=ReferralTarget.INTERNAL_UNIT
    )
    to_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    body_name = models.CharField(_("name of the body"), max_length=150, blank=True)
    track = models.CharField(_("track"), max_length=20, choices=Track.choices)
    referred_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    referred_at = models.DateTimeField(_("referred at"))
    due_at = models.DateTimeField(_("acknowledgement due"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    external_reference = models.CharField(_("handling unit's case number"), max_length=60, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Set for a transfer for administrative punishment after the suspect was not prosecuted or was exempted
    # (Criminal Procedure Law Art. 177 para 3): a handover recorded during supervision, not a workflow referral.
    suspect = models.ForeignKey(
        "Suspect",
        verbose_name=_("suspect transferred"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers",
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["referred_at", "id"]
        constraints = [
            _choice_check("target", ReferralTarget, "referral_target_valid"),
            _choice_check("track", Track, "referral_track_valid"),
            models.CheckConstraint(
                condition=Q(suspect__isnull=True) | Q(track=Track.ADMINISTRATIVE, closed_at__isnull=False),
                name="referral_transfer_is_administrative_handover",
            ),
            models.UniqueConstraint(
                fields=["suspect"], condition=Q(suspect__isnull=False), name="referral_one_transfer_per_suspect"
            ),
            models.CheckConstraint(
                condition=Q(target=ReferralTarget.INTERNAL_UNIT, to_unit__isnull=False)
                | ~Q(target=ReferralTarget.INTERNAL_UNIT) & ~Q(body_name=""),
                name="referral_has_recipient",
            ),
            models.UniqueConstraint(
                fields=["case", "to_unit"],
                condition=Q(closed_at__isnull=True, to_unit__isnull=False),
                name="referral_one_open_per_unit",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(acknowledged_at__isnull=True, closed_at__isnull=True),
                name="referral_awaiting_ack",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.to_unit or self.body_name}"


class SupportMeasure(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="support_measures")
    officer = models.ForeignKey(
        InvolvedOfficer,
        verbose_name=_("for officer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_measures",
    )
    kind = models.CharField(_("measure"), max_length=30, choices=SupportKind.choices)
    status = models.CharField(_("status"), max_length=15, choices=SupportStatus.choices, default=SupportStatus.OFFERED)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    # Who delivered it: the hospital of the green channel, the legal-aid centre, the insurer...
    provider = models.CharField(_("provided by"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The officer's request, when the measure began as one (the same record carries the office's answer).
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        USER, verbose_name=_("requested by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The office's answer to the request: approved or refused, by whom, when and why.
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        USER, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(_("reason given"), blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("support measure")
        verbose_name_plural = _("support measures")
        ordering = ["id"]
        constraints = [
            _choice_check("kind", SupportKind, "support_kind_valid"),
            _choice_check("status", SupportStatus, "support_status_valid"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(kind=SupportKind.COMFORT_PAYMENT, amount__gte=0),
                name="support_amount_only_for_payment",
            ),
            # A request is the officer's and waits for an answer: it has its time and nothing decided or delivered.
            models.CheckConstraint(
                condition=~Q(status=SupportStatus.REQUESTED)
                | Q(requested_at__isnull=False, decided_at__isnull=True, delivered_on__isnull=True),
                name="support_request_unanswered",
            ),
            # Approving or refusing answers a request: both have the request and the answer's time.
            models.CheckConstraint(
                condition=~Q(status__in=(SupportStatus.APPROVED, SupportStatus.REFUSED))
                | Q(requested_at__isnull=False, decided_at__isnull=False),
                name="support_answer_has_request",
            ),
            # A refusal says why.
            models.CheckConstraint(
                condition=~Q(status=SupportStatus.REFUSED) | ~Q(decision_reason=""),
                name="support_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=SupportStatus.DELIVERED) | Q(delivered_on__isnull=False),
                name="support_delivered_has_date",
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | Q(requested_at__isnull=False),
                name="support_answer_after_request",
            ),
            # One open request per measure kind and officer (the office answers it, it is not asked twice).
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=Q(status__in=OPEN_REQUEST_STATUSES, officer__isnull=True),
                name="support_one_open_request_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class SupervisionFinding(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="findings")
    problem = models.CharField(_("problem"), max_length=40, choices=FindingProblem.choices)
    detail = models.TextField(_("detail"))
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("raised at"))
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    officers_held_accountable = models.PositiveSmallIntegerField(_("officers held accountable"), default=0)
    accountability_note = models.TextField(_("accountability"), blank=True)

    class Meta:
        verbose_name = _("supervision finding")
        verbose_name_plural = _("supervision findings")
        ordering = ["raised_at", "id"]
        constraints = [_choice_check("problem", FindingProblem, "finding_problem_valid")]

    def __str__(self) -> str:
        return self.get_problem_display()


# Which police-fault finding counts: the latest by the date of the finding, then the later record. A finding carried
# over from the case record has no date and comes before every dated one, so any finding recorded since supersedes it.
# Beside the model rather than in the selectors, so that the flag scan's reading (cases/flagging/snapshot.py), which
# the selectors themselves call on (``selectors.legal_basis_of``), orders by it without importing them.
FAULT_FINDING_ORDER = (F("found_on").asc(nulls_first=True), F("id").asc())


class FaultFinding(models.Model):
    """A finding on whether police conduct was at fault in the incident, made by the legal-affairs department
    (法制部门) and recorded by a supervisor of the case's unit (cases/services/fault.py).

    Findings are never edited: a later one supersedes an earlier one, and the current finding is the latest by
    ``found_on``, then by id (``FAULT_FINDING_ORDER``). A finding carried over from the case
    record's former police-fault field has no author, date or document, and never silences a rule
    (cases/rules/downgrade.py, R14).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="fault_findings")
    finding = models.CharField(_("police fault found"), max_length=10, choices=FAULT_FINDING_CHOICES)
    # The legal-affairs department is a department inside a public-security organ, not a unit of the office's tree.
    department = models.CharField(_("department that made the finding"), max_length=150, blank=True)
    found_on = models.DateField(_("date of the finding"), null=True, blank=True)
    document_reference = models.CharField(_("finding document number"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    carried_over = models.BooleanField(_("carried over from the case record"), default=False)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("police-fault finding")
        verbose_name_plural = _("police-fault findings")
        ordering = ["found_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(finding__in=list(FAULT_FINDING_VALUES)), name="faultfinding_valid"),
            # Recorded by a person, with the department and date of the finding; or carried over by the system.
            models.CheckConstraint(
                condition=Q(carried_over=True, recorded_by__isnull=True)
                | Q(carried_over=False, recorded_by__isnull=False, found_on__isnull=False) & ~Q(department=""),
                name="faultfinding_recorded_or_carried_over",
            ),
            models.CheckConstraint(
                condition=Q(carried_over=True)
                | ~Q(finding__in=sorted(FAULT_NEEDS_DOCUMENT))
                | ~Q(document_reference=""),
                name="faultfinding_document_when_at_fault",
            ),
        ]
        indexes = [models.Index(fields=["case", "found_on", "id"], name="faultfinding_case_latest")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.finding} {self.found_on or '-'}"

    @property
    def is_documented(self) -> bool:
        return bool(self.document_reference)


class LookBackReview(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reviews")
    campaign_year = models.PositiveSmallIntegerField(_("campaign year"))
    reviewer = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    verdict = models.CharField(
        _("verdict"), max_length=10, choices=ReviewVerdict.choices, default=ReviewVerdict.PENDING
    )
    disposition_consistent = models.BooleanField(_("disposition consistent with the facts"), null=True, blank=True)
    officer_informed = models.BooleanField(_("officer informed of the outcome"), null=True, blank=True)
    support_delivered = models.BooleanField(_("support delivered"), null=True, blank=True)
    clarification_issued = models.BooleanField(_("clarification issued where due"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("look-back review")
        verbose_name_plural = _("look-back reviews")
        ordering = ["started_at", "id"]
        constraints = [
            _choice_check("verdict", ReviewVerdict, "review_verdict_valid"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(finished_at__isnull=True), name="review_one_open_per_case"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True, verdict=ReviewVerdict.PENDING)
                | Q(finished_at__isnull=False) & ~Q(verdict=ReviewVerdict.PENDING),
                name="review_verdict_when_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.campaign_year} {self.get_verdict_display()}"


class Flag(models.Model):
    """A prompt raised by the scans; never a legal verdict."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("kind"), max_length=20, choices=FlagKind.choices)
    rule_code = models.CharField(_("rule"), max_length=20)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # How it was resolved: blank while open; "overridden" has its FlagOverride.
    resolution = models.CharField(_("resolution"), max_length=12, choices=FlagResolution.choices, blank=True)
    acknowledged_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-raised_at", "id"]
        constraints = [
            _choice_check("kind", FlagKind, "flag_kind_valid"),
            _choice_check("resolution", FlagResolution, "flag_resolution_valid", blank=True),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolution="") | Q(resolved_at__isnull=False) & ~Q(resolution=""),
                name="flag_resolved_with_resolution",
            ),
            models.UniqueConstraint(
                fields=["case", "kind", "rule_code"],
                condition=Q(resolved_at__isnull=True),
                name="flag_one_open_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                | Q(acknowledged_by__isnull=False, acknowledged_at__isnull=False),
                name="flag_acknowledged_by_and_at",
            ),
        ]
        indexes = [models.Index(fields=["kind"], condition=Q(resolved_at__isnull=True), name="flag_open_by_kind")]

    def __str__(self) -> str:
        return f"{self.case} {self.kind} {self.rule_code}"


class FlagOverride(models.Model):
    """A supervisor's decision, taken when concluding or closing a case, that a rule's finding does not stand: who,
    when, why (a reason of a fixed list, always explained, with the legal basis where the reason is the law).
    Written in the transaction that resolves the flag as overridden and records it on the timeline; never changed.
    """

    flag = models.OneToOneField(Flag, on_delete=models.PROTECT, related_name="override")
    action = models.CharField(_("action"), max_length=20)
    reason = models.CharField(_("reason"), max_length=20, choices=OverrideReason.choices)
    explanation = models.TextField(_("explanation"))
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    by = models.ForeignKey(USER, verbose_name=_("overridden by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("overridden at"))

    class Meta:
        verbose_name = _("flag override")
        verbose_name_plural = _("flag overrides")
        ordering = ["at", "id"]
        constraints = [
            _choice_check("reason", OverrideReason, "flagoverride_reason_valid"),
            models.CheckConstraint(condition=~Q(explanation=""), name="flagoverride_explained"),
            models.CheckConstraint(
                condition=~Q(reason=OverrideReason.LAWFUL_REASON) | ~Q(legal_basis=""),
                name="flagoverride_lawful_reason_has_basis",
            ),
        ]
        indexes = [models.Index(fields=["at"], name="flagoverride_at")]

    def __str__(self) -> str:
        return f"{self.flag} {self.reason}"


class Attachment(models.Model):
    """Evidence stored outside the web root under a generated name; served only through a permission check."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    original_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=100, unique=True, editable=False)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="attachment_sha256_hex"),
        ]

    def __str__(self) -> str:
        return self.original_name


class WelfarePrompt(models.Model):
    """A welfare prompt: an officer attacked three or more times within twelve months, told to the rights-protection
    supervisors of their unit with an offer of psychological support (cases/welfare.py). One per officer per twelve
    months: a row is the record that the prompt for that stretch went out."""

    # Who: "user:<id>" for an officer with an account, "badge:<province code>:<number>" for one known by badge number
    # only (each province issues its own badge numbers).
    officer_key = models.CharField(max_length=40)
    officer_name = models.CharField(_("officer"), max_length=100)
    # The case whose attack reached the threshold, and that attack's time: the end of the twelve months counted.
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="+")
    attacked_at = models.DateTimeField(_("attacked at"))
    attacks = models.PositiveSmallIntegerField(_("attacks within twelve months"))
    raised_at = models.DateTimeField(_("raised at"))

    class Meta:
        verbose_name = _("welfare prompt")
        verbose_name_plural = _("welfare prompts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # A rerun of the check for the same attack finds its prompt and raises none.
            models.UniqueConstraint(fields=["officer_key", "case"], name="welfareprompt_once_per_attack"),
            models.CheckConstraint(condition=Q(attacks__gte=3), name="welfareprompt_three_attacks"),
        ]
        indexes = [models.Index(fields=["officer_key", "attacked_at"], name="welfareprompt_officer_time")]

    def __str__(self) -> str:
        return f"{self.officer_name}: {self.attacks}"


class CaseEvent(models.Model):
    """Append-only timeline, written in the same transaction as the change it records.

    On PostgreSQL the table is partitioned by month of ``at`` (cases/partitions.py): its primary key there is (id, at),
    and a foreign key to an event is declared with ``db_constraint=False``. Its partitions are never dropped.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    action = models.CharField(_("action"), max_length=20, blank=True)
    from_status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        constraints = [_choice_check("kind", EventKind, "event_kind_valid")]
        indexes = [models.Index(fields=["case", "at", "id"], name="event_case_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class AccessLog(models.Model):
    """Who read or exported what, when and from where. Append-only.

    On PostgreSQL the table is partitioned by month of ``at`` (cases/partitions.py), its primary key there (id, at);
    a month's partition is dropped whole once all of it is older than ``RIGHTSGUARD_ACCESS_LOG_KEEP_DAYS`` (at least a
    year), the only way its rows ever go.
    """

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=AccessAction.choices)
    object_ref = models.CharField(_("object"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, default="ok")
    at = models.DateTimeField(_("at"))
    source_ip = models.GenericIPAddressField(_("source address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        constraints = [_choice_check("action", AccessAction, "accesslog_action_valid")]
        indexes = [
            models.Index(fields=["user", "-at"], name="accesslog_user_recent"),
            models.Index(fields=["case", "-at"], name="accesslog_case_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.object_ref}"


class Notification(models.Model):
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    # What it is about: a case, or, for a notice from an app built on the cases (cases/notices.py), a unit and the
    # site page that tells the rest (a path such as "/analysis/warnings/7/"), which checks who may see it.
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    link = models.CharField(_("link"), max_length=200, blank=True, default="")
    # No constraint in the database: the timeline is partitioned by month on PostgreSQL (cases/partitions.py), and a
    # partitioned table's keys include the month, so no foreign key can point at an event's id alone. The link still
    # holds: an event is never deleted nor changed (the append-only trigger refuses it on every partition).
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    # What happened, as a message key and its parameters rendered in the reader's language (cases/messages.py);
    # ``verb`` is its English text, and the whole text of rows whose message could not be recovered.
    message = models.CharField(_("message"), max_length=30, blank=True, default="")
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    verb = models.CharField(_("what happened"), max_length=200)
    # What it is about (the inbox's kind filter, the recipient's preferences) and how the recipient chose, when it
    # was created, to hear about it: e-mailed at once, in the daily digest, or in-app only (then ``emailed_at`` is
    # set at creation: there is nothing to send).
    kind = models.CharField(
        _("kind"), max_length=20, choices=NotificationKind.choices, default=NotificationKind.RECORDS
    )
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=NotificationDelivery.choices, default=NotificationDelivery.EMAIL
    )
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # E-mail delivery (cases/notifications.py): a failed attempt is retried with exponential backoff until
    # RIGHTSGUARD_EMAIL_MAX_ATTEMPTS, then the notification is marked failed and the unit's administrators are told.
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    email_last_error = models.CharField(_("last e-mail error"), max_length=500, blank=True, default="")
    email_retry_at = models.DateTimeField(_("next e-mail attempt"), null=True, blank=True)
    email_failed_at = models.DateTimeField(_("e-mail failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Delivering the same event twice (a retried task) must not notify anyone twice.
            models.UniqueConstraint(
                fields=["recipient", "event"], condition=Q(event__isnull=False), name="notification_once_per_event"
            ),
            models.CheckConstraint(
                condition=Q(message__in=["", *messages.MESSAGES]), name="notification_message_known"
            ),
            _choice_check("kind", NotificationKind, "notification_kind_valid"),
            _choice_check("delivery", NotificationDelivery, "notification_delivery_valid"),
            # About a case, or else about a unit with the page to open: never about nothing.
            models.CheckConstraint(
                condition=Q(case__isnull=False, unit__isnull=True, link="")
                | (
                    Q(case__isnull=True, unit__isnull=False)
                    & Q(link__startswith="/")
                    & ~Q(link__startswith="//")
                    # Browsers read a backslash or a blank after the first slash as another host.
                    & ~Q(link__contains="\\")
                    & ~Q(link__contains=" ")
                    & ~Q(link__contains="\t")
                    & ~Q(link__contains="\n")
                    & ~Q(link__contains="\r")
                ),
                name="notification_about_case_or_unit",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            # The inbox filtered by kind.
            models.Index(fields=["recipient", "kind", "-created_at"], name="notification_inbox_kind"),
            # The flag digest (cases/notifications.py) sweeps what is still to be e-mailed.
            models.Index(fields=["recipient"], condition=Q(emailed_at__isnull=True), name="notification_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.verb}"

    @property
    def text(self) -> str:
        """What happened, in the active language."""
        return (messages.render(self.message, self.params) if self.message else "") or self.verb


class NotificationPreference(models.Model):
    """How a user hears about one kind of notification; without a row, the default (e-mail at once)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    delivery = models.CharField(_("delivery"), max_length=10, choices=NotificationDelivery.choices)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once"),
            _choice_check("kind", NotificationKind, "notificationpreference_kind_valid"),
            _choice_check("delivery", NotificationDelivery, "notificationpreference_delivery_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {self.delivery}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an ``Idempotency-Key``, replayed when a terminal retries it."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


# --- Yearly report exports (cases/reports) ---------------------------------------------------------------------


class ReportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel workbook")
    PDF = "pdf", _("PDF")
    DETAIL = "detail", _("Case list (CSV)")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    # Finished longer ago than RIGHTSGUARD_EXPORT_KEEP_DAYS: the file was removed (cases/reports/files.py).
    EXPIRED = "expired", _("Expired")


class BackgroundExport(models.Model):
    """A file produced in the background for the one user who asked for it, whose page follows its progress
    (cases/reports/services.py ``produce_file`` writes it)."""

    requested_by = models.ForeignKey(USER, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    # The file is written in the requester's language at the time of the request, not the worker's.
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            _choice_check("status", ExportStatus, "%(class)s_status_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="%(class)s_progress_percent"),
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE) | ~Q(file_name=""), name="%(class)s_done_has_file"
            ),
        ]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="%(class)s_user_recent")]


class ReportExport(BackgroundExport):
    """A yearly-report file produced in the background for one user; the reports page polls its progress."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    format = models.CharField(_("format"), max_length=10, choices=ReportFormat.choices)

    class Meta(BackgroundExport.Meta):
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")
        constraints = [
            *BackgroundExport.Meta.constraints,
            _choice_check("format", ReportFormat, "reportexport_format_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year} {self.format} {self.status}"


class QueueExportRefusal(models.TextChoices):
    """Why a queue workbook was not prepared, when the job refused it (an unexpected error leaves this empty)."""

    NO_QUEUE = "no_queue", _("The requester no longer supervises a unit")
    TOO_MANY = "too_many", _("More rows than a workbook may hold")


class QueueExport(BackgroundExport):
    """The queue as a workbook, prepared in the background for the supervisor who asked for it (too many rows to
    write while they wait). The filters are kept as the page had them, not the cases: the job lists the queue."""

    # ``QueueFilters`` (cases/queue_filters.py) as JSON, the page's sort as the paginator's order, and the page's
    # query (what the access log names, and the link back to the queue).
    filters = models.JSONField(_("filters"), default=dict)
    order = models.CharField(_("order"), max_length=40)
    query = models.TextField(_("query"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    refusal = models.CharField(_("refusal"), max_length=10, choices=QueueExportRefusal.choices, blank=True)

    class Meta(BackgroundExport.Meta):
        verbose_name = _("queue export")
        verbose_name_plural = _("queue exports")
        constraints = [
            *BackgroundExport.Meta.constraints,
            _choice_check("refusal", QueueExportRefusal, "queueexport_refusal_valid", blank=True),
        ]

    def __str__(self) -> str:
        return f"queue {self.requested_by_id} {self.rows} {self.status}"


class OutboxMessage(models.Model):
    """A background job, written in the same transaction as the change that starts it (transactional outbox).

    Published to the broker once the transaction commits; a periodic relay publishes what a broker outage or a
    crash left behind. ``key`` is the job's business key: enqueuing the same job twice stores it once.
    """

    task = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    # Set by the task when it has run: a message published but never done is published again by the relay.
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["created_at"], name="outbox_unpublished", condition=Q(published_at__isnull=True)),
            models.Index(fields=["published_at"], name="outbox_not_done", condition=Q(done_at__isnull=True)),
            models.Index(fields=["done_at"], name="outbox_done"),
        ]

    def __str__(self) -> str:
        return self.key


class JobRun(models.Model):
    """One row per periodic job and period: a second beat's tick for the same period finds it and does nothing."""

    job = models.CharField(max_length=100)
    period_start = models.DateTimeField()
    started_at = models.DateTimeField()

    class Meta:
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")
        constraints = [models.UniqueConstraint(fields=["job", "period_start"], name="job_run_once_per_period")]

    def __str__(self) -> str:
        return f"{self.job}@{self.period_start:%Y-%m-%d %H:%M:%S}"


# --- Report summaries (cases/summaries.py) -------------------------------------------------------------------------
# Counts the yearly report adds up instead of the cases themselves, kept by the case services in the same
# transaction as the change (one atomic ``n = n + delta`` upsert per row) and rebuilt from scratch by
# ``manage.py reconcile``. ``area_path`` is the handling unit's path cut below the city level: the reports that read
# the summaries (the ministry's and the provinces') break their cases down by province or by city, never finer, so
# the rows do not multiply with the stations. A row whose count went back to zero stays, with n = 0.
# No check keeps n from going negative: a count that drifted (rows written around the services) is for reconcile to
# report and repair, never a reason to refuse someone's change to a case.


class SummaryDimension(models.TextChoices):
    KIND = "kind", _("incident type")
    CHANNEL = "channel", _("channel")
    STATUS = "status", _("status")
    # The analysis's breakdowns (cases/dimensions.py decides each case's code).
    SCENARIO = "scenario", _("incident type and duty scenario")
    PLACE = "place", _("place category")
    WEEKHOUR = "weekhour", _("weekday and hour")
    WEAPON = "weapon", _("weapon")
    INTOX = "intox", _("attacker intoxicated")
    CROWD = "crowd", _("attackers organised or in a group")


class ReportCaseSummary(models.Model):
    """Submitted cases (drafts never count) by area, local month of submission, and one dimension at a time: a case
    counts once under its type, once under its channel and once under where it stands now (its status), and once on
    each of the analysis's breakdowns (cases/dimensions.py), so every figure of the report and of the analysis is a
    sum over one dimension's rows and the rows do not multiply with the combinations."""

    area_path = models.CharField(max_length=255)
    month = models.DateField()  # the first day of the local (Asia/Shanghai) month of submission
    dimension = models.CharField(max_length=10, choices=SummaryDimension.choices)
    code = models.CharField(max_length=80)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area_path", "month", "dimension", "code"], name="report_case_summary_cell"
            ),
            _choice_check("dimension", SummaryDimension, "report_case_summary_dimension_valid"),
        ]
        indexes = [models.Index(fields=["month"], name="report_case_summary_month")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.month:%Y-%m} {self.dimension}={self.code}: {self.n}"


class ReportOfficerSummary(models.Model):
    """Involved officers of submitted cases, by the case's area and local month of submission, type and injury."""

    area_path = models.CharField(max_length=255)
    month = models.DateField()
    officer_type = models.CharField(max_length=20)
    injury = models.CharField(max_length=20)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area_path", "month", "officer_type", "injury"], name="report_officer_summary_cell"
            ),
        ]
        indexes = [models.Index(fields=["month"], name="report_officer_summary_month")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.month:%Y-%m} {self.officer_type}/{self.injury}: {self.n}"


class ReportSuspectSummary(models.Model):
    """Suspects of submitted cases, by the case's area and local month of submission, status and disposition."""

    area_path = models.CharField(max_length=255)
    month = models.DateField()
    status = models.CharField(max_length=30)
    disposition = models.CharField(max_length=30)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area_path", "month", "status", "disposition"], name="report_suspect_summary_cell"
            ),
        ]
        indexes = [models.Index(fields=["month"], name="report_suspect_summary_month")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.month:%Y-%m} {self.status}/{self.disposition}: {self.n}"


class SpreadMeasure(models.TextChoices):
    REFERRAL = "referral", _("submission to first referral")
    CLOSURE = "closure", _("submission to closure")


class ReportSpreadSummary(models.Model):
    """How many cases took how many whole days from submission to their first referral (or to closure), by area and
    local year of the referral (or closure): a histogram that tells the report which few cases hold its
    percentiles, whose exact times it then reads from the cases (cases/summaries.py ``exact_spread``)."""

    measure = models.CharField(max_length=10, choices=SpreadMeasure.choices)
    area_path = models.CharField(max_length=255)
    year = models.SmallIntegerField()
    days = models.IntegerField()  # whole days, rounded down
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["measure", "year", "area_path", "days"], name="report_spread_summary_cell"),
            _choice_check("measure", SpreadMeasure, "report_spread_summary_measure_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.year} {self.area_path} {self.days} d: {self.n}"


class ReportReviewSummary(models.Model):
    """Look-back reviews by campaign year, the case's area, verdict and checklist answers (True, or not)."""

    year = models.SmallIntegerField()
    area_path = models.CharField(max_length=255)
    verdict = models.CharField(max_length=10)
    officer_informed = models.BooleanField()
    support_delivered = models.BooleanField()
    clarification_issued = models.BooleanField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "year",
                    "area_path",
                    "verdict",
                    "officer_informed",
                    "support_delivered",
                    "clarification_issued",
                ],
                name="report_review_summary_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.area_path} {self.verdict}: {self.n}"


class ReportSupportSummary(models.Model):
    """Support measures delivered, by year of delivery, the case's area and kind; their amounts in fen (cents)."""

    year = models.SmallIntegerField()
    area_path = models.CharField(max_length=255)
    kind = models.CharField(max_length=30)
    n = models.IntegerField(default=0)
    cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "area_path", "kind"], name="report_support_summary_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.area_path} {self.kind}: {self.n}"


class ReportFindingSummary(models.Model):
    """Supervision findings by local year raised, the case's area, problem, rectified and rectified on time; with the
    officers held accountable."""

    year = models.SmallIntegerField()
    area_path = models.CharField(max_length=255)
    problem = models.CharField(max_length=40)
    rectified = models.BooleanField()
    on_time = models.BooleanField()
    n = models.IntegerField(default=0)
    accountable = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "area_path", "problem", "rectified", "on_time"], name="report_finding_summary_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.area_path} {self.problem}: {self.n}"
