"""The typical-case library: closed cases written up as anonymised teaching material for officers.

A ``WriteUp`` is the working copy an editor drafts from one closed case, with where it stands in the workflow
(library/workflow.py). Each publication freezes the working copy into the next ``WriteUpVersion``, which is what
readers read: a revision is drafted and approved while the previous version is still read, and a withdrawn write-up
keeps its versions (its history) though no one reads them any more. Reads and "was this useful" answers are per
reader and version.

Every write goes through library/services.py, which writes the log (``WriteUpEvent``) in the same transaction. The
invariants that must hold whatever the door are constraints here: one write-up per case, a state with exactly the
marks it implies, a version read only while published and with a scope, a version approved by someone other than its
last editor, one read and one answer per reader and version.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.choices import DutyScenario, IncidentKind, PlaceCategory
from cases.models import Case
from library.choices import TEXT_MAX, TITLE_MAX, LogStep, WriteUpState

USER = settings.AUTH_USER_MODEL
S = WriteUpState


def _in(field: str, choices: type[models.TextChoices], name: str, *, blank: bool = False) -> models.CheckConstraint:
    values = [*choices.values, ""] if blank else choices.values
    return models.CheckConstraint(condition=Q(**{f"{field}__in": values}), name=name)


class WriteUpText(models.Model):
    """The texts of a write-up in Chinese and English (either may be left empty), the rules and articles of its legal
    basis, and the facets readers filter by, copied from the case when it was proposed."""

    title_zh = models.CharField(_("title (Chinese)"), max_length=TITLE_MAX, blank=True)
    happened_zh = models.TextField(_("what happened (Chinese)"), max_length=TEXT_MAX, blank=True)
    handling_zh = models.TextField(_("how it was handled (Chinese)"), max_length=TEXT_MAX, blank=True)
    legal_basis_zh = models.TextField(_("legal basis (Chinese)"), max_length=TEXT_MAX, blank=True)
    outcome_zh = models.TextField(_("outcome (Chinese)"), max_length=TEXT_MAX, blank=True)
    lessons_zh = models.TextField(_("lessons for officers (Chinese)"), max_length=TEXT_MAX, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=TITLE_MAX, blank=True)
    happened_en = models.TextField(_("what happened (English)"), max_length=TEXT_MAX, blank=True)
    handling_en = models.TextField(_("how it was handled (English)"), max_length=TEXT_MAX, blank=True)
    legal_basis_en = models.TextField(_("legal basis (English)"), max_length=TEXT_MAX, blank=True)
    outcome_en = models.TextField(_("outcome (English)"), max_length=TEXT_MAX, blank=True)
    lessons_en = models.TextField(_("lessons for officers (English)"), max_length=TEXT_MAX, blank=True)
    # The rule catalogue's codes (R7) and the articles (刑法第277条第5款) the case applied, as the editor chose them
    # among those the case records (``cases.selectors.legal_basis_of``).
    rule_codes = models.JSONField(_("rules"), default=list, blank=True)
    articles = models.JSONField(_("articles"), default=list, blank=True)
    kind = models.CharField(_("incident type"), max_length=40, choices=IncidentKind.choices)
    duty_scenario = models.CharField(
        _("duty scenario"), max_length=20, choices=DutyScenario.choices, blank=True, default=""
    )
    place_category = models.CharField(
        _("place category"), max_length=20, choices=PlaceCategory.choices, blank=True, default=""
    )

    class Meta:
        abstract = True


class WriteUp(WriteUpText):
    case = models.OneToOneField(Case, verbose_name=_("source case"), on_delete=models.PROTECT, related_name="+")
    # The unit the case was proposed at: its supervisors (and those above) edit the write-up, its administrators (and
    # those above) approve and publish it, to this unit's subtree or a part of it.
    unit = models.ForeignKey(OrgUnit, verbose_name=_("proposing unit"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=12, choices=WriteUpState.choices, default=WriteUpState.PROPOSED)
    proposal_note = models.TextField(_("why it teaches"), blank=True)
    proposed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"))
    # Who last changed the texts: never the one who approves them (four eyes).
    last_editor = models.ForeignKey(
        USER, verbose_name=_("last editor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(_("last edited at"), null=True, blank=True)
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("sent for approval at"), null=True, blank=True)
    # The approver's note when the write-up was last returned; the withdrawal's note while withdrawn.
    return_note = models.TextField(_("note on return"), blank=True)
    withdrawal_note = models.TextField(_("note on withdrawal"), blank=True)
    # Why the proposal was declined (a declined write-up is never published: the case is not taken up).
    decline_note = models.TextField(_("reason for declining"), blank=True)
    # Whether readers read the published version now: from publication until withdrawal, a revision under way too.
    listed = models.BooleanField(_("read by officers"), default=False)
    published_version = models.ForeignKey(
        "WriteUpVersion",
        verbose_name=_("published version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The subtree the published version is read in, and its path (readers are found by path, without a join).
    scope_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("published to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scope_path = models.CharField(max_length=255, blank=True, editable=False)
    # When the published version was published (the readers' order).
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Optimistic concurrency: every write bumps it; forms and API clients send the version they read.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("typical case")
        verbose_name_plural = _("typical cases")
        ordering = ["-updated_at", "-id"]
        constraints = [
            _in("state", WriteUpState, "writeup_state_valid"),
            _in("kind", IncidentKind, "writeup_kind_valid"),
            _in("duty_scenario", DutyScenario, "writeup_duty_scenario_valid", blank=True),
            _in("place_category", PlaceCategory, "writeup_place_category_valid", blank=True),
            models.CheckConstraint(condition=Q(version__gte=1), name="writeup_version_positive"),
            # Each state with exactly the marks it implies.
            models.CheckConstraint(
                condition=Q(state=S.PROPOSED, listed=False, published_version__isnull=True, submitted_at__isnull=True)
                | Q(state=S.DRAFTING, submitted_at__isnull=True)
                | Q(state=S.SUBMITTED, submitted_at__isnull=False, submitted_by__isnull=False)
                | Q(state=S.PUBLISHED, listed=True, submitted_at__isnull=True)
                | (Q(state=S.WITHDRAWN, listed=False, submitted_at__isnull=True) & ~Q(withdrawal_note=""))
                | (
                    Q(state=S.DECLINED, listed=False, published_version__isnull=True, submitted_at__isnull=True)
                    & ~Q(decline_note="")
                ),
                name="writeup_state_marks",
            ),
            # Read only with a version to read and a subtree to read it in.
            models.CheckConstraint(
                condition=Q(listed=False)
                | (
                    Q(published_version__isnull=False, scope_unit__isnull=False, published_at__isnull=False)
                    & ~Q(scope_path="")
                ),
                name="writeup_listed_has_version_and_scope",
            ),
            # A withdrawn write-up was published: a proposal or a draft is not withdrawn, it is simply not published.
            models.CheckConstraint(
                condition=~Q(state=S.WITHDRAWN) | Q(published_version__isnull=False),
                name="writeup_withdrawn_was_published",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[S.DRAFTING, S.SUBMITTED]) | Q(last_editor__isnull=False),
                name="writeup_drafted_has_editor",
            ),
        ]
        indexes = [
            # The readers' list: what is read, by the path of the subtree it is read in.
            models.Index(
                fields=["scope_path"],
                name="writeup_listed_scope",
                condition=Q(listed=True),
                opclasses=["text_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title_zh or self.title_en or str(_("Untitled typical case"))


class WriteUpVersion(WriteUpText):
    """A published version of a write-up: frozen, never edited. Readers read the write-up's latest
    (``published_version``) while it is listed."""

    writeup = models.ForeignKey(WriteUp, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    scope_unit = models.ForeignKey(OrgUnit, verbose_name=_("published to"), on_delete=models.PROTECT, related_name="+")
    edited_by = models.ForeignKey(USER, verbose_name=_("last editor"), on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(USER, verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("typical case version")
        verbose_name_plural = _("typical case versions")
        ordering = ["writeup", "number"]
        constraints = [
            models.UniqueConstraint(fields=["writeup", "number"], name="writeup_version_number_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="writeup_version_number_positive"),
            # Four eyes: whoever approves a text did not write its last change.
            models.CheckConstraint(condition=~Q(approved_by=F("edited_by")), name="writeup_version_four_eyes"),
            _in("kind", IncidentKind, "writeup_version_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.writeup_id} v{self.number}"


class VersionArticle(models.Model):
    """An article a published version links to, one row each: what the readers' article filter looks in."""

    version = models.ForeignKey(WriteUpVersion, on_delete=models.PROTECT, related_name="article_rows")
    article = models.CharField(_("article"), max_length=60)

    class Meta:
        verbose_name = _("article of a typical case")
        verbose_name_plural = _("articles of typical cases")
        constraints = [models.UniqueConstraint(fields=["version", "article"], name="version_article_once")]
        indexes = [models.Index(fields=["article", "version"], name="version_article_lookup")]

    def __str__(self) -> str:
        return self.article


class WriteUpEvent(models.Model):
    """The write-up's own log, append-only, written in the same transaction as the change it records."""

    writeup = models.ForeignKey(WriteUp, on_delete=models.PROTECT, related_name="events")
    step = models.CharField(_("step"), max_length=20, choices=LogStep.choices)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("typical case event")
        verbose_name_plural = _("typical case events")
        ordering = ["at", "id"]
        constraints = [_in("step", LogStep, "writeup_event_step_valid")]
        indexes = [models.Index(fields=["writeup", "at", "id"], name="writeup_event_log")]

    def __str__(self) -> str:
        return f"{self.writeup_id} {self.step} {self.at:%Y-%m-%d %H:%M}"


class LibraryRead(models.Model):
    """An officer's first opening of a published version: one row per reader and version, whatever they reopen. The
    unit is where the reader belonged when they read it (the unit within the version's scope), which the read counts
    per unit and a unit's training record go by."""

    version = models.ForeignKey(WriteUpVersion, on_delete=models.PROTECT, related_name="reads")
    reader = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        verbose_name = _("typical case read")
        verbose_name_plural = _("typical case reads")
        constraints = [models.UniqueConstraint(fields=["version", "reader"], name="library_read_once")]
        indexes = [models.Index(fields=["version", "unit"], name="library_read_by_unit")]

    def __str__(self) -> str:
        return f"{self.reader_id} read {self.version_id}"


class LibraryFeedback(models.Model):
    """A reader's "was this useful" for a version: one answer per reader and version, which they may change."""

    version = models.ForeignKey(WriteUpVersion, on_delete=models.PROTECT, related_name="feedback")
    reader = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    useful = models.BooleanField(_("useful"))
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("typical case feedback")
        verbose_name_plural = _("typical case feedback")
        constraints = [models.UniqueConstraint(fields=["version", "reader"], name="library_feedback_once")]

    def __str__(self) -> str:
        return f"{self.reader_id} on {self.version_id}: {self.useful}"


# The guidance tips (library/guidance/models.py) are models of this app: imported here, so Django finds them.
from library.guidance.models import Tip, TipEvent, TipPush, TipRead  # noqa: E402, F401
