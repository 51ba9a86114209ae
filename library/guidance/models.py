"""Guidance tips: short rights-protection advice (what to do on scene, how to keep evidence) that supervisors and
administrators write for officers, an administrator approves, and officers of a subtree read on their phones and
terminals while it is valid.

A tip is written, sent for approval, published to a subtree and, when it no longer holds, withdrawn. It has no
versions: a published tip is never edited. To change one, an editor starts a new tip from it (``replaces``); publishing
the new one withdraws the old one in the same step, so readers and terminals see one tip go and the other come. Every
write goes through library/guidance/services.py, which writes the tip's log (``TipEvent``) in the same transaction;
the invariants that hold whatever the door are constraints here: a state with exactly the marks it implies, an approver
who neither wrote the tip nor made its last change (four eyes), a validity that ends after it starts, one read per
reader and tip, one push per tip and published version.

Imported by library/models.py, so Django finds these models with the library's.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from library.guidance.choices import TIP_BODY_MAX, TIP_TITLE_MAX, TipPriority, TipState, TipStep

USER = settings.AUTH_USER_MODEL
S = TipState


class Tip(models.Model):
    title_zh = models.CharField(_("title (Chinese)"), max_length=TIP_TITLE_MAX, blank=True)
    body_zh = models.TextField(_("tip (Chinese)"), max_length=TIP_BODY_MAX, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=TIP_TITLE_MAX, blank=True)
    body_en = models.TextField(_("tip (English)"), max_length=TIP_BODY_MAX, blank=True)
    # The duty scenarios (cases.choices.DutyScenario) and incident types (cases.choices.IncidentKind) it is about.
    scenarios = models.JSONField(_("duty scenarios"), default=list, blank=True)
    kinds = models.JSONField(_("incident types"), default=list, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=TipPriority.choices, default=TipPriority.NORMAL)
    # Valid from the first day to the last, both included (local days); no last day: until it is withdrawn.
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The unit the tip belongs to: its supervisors and administrators (and those above) write it, its administrators
    # (and those above) approve it, to this unit's subtree or a part of it.
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=12, choices=TipState.choices, default=TipState.DRAFT)
    author = models.ForeignKey(USER, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("written at"))
    last_editor = models.ForeignKey(USER, verbose_name=_("last editor"), on_delete=models.PROTECT, related_name="+")
    edited_at = models.DateTimeField(_("last edited at"))
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("sent for approval at"), null=True, blank=True)
    return_note = models.TextField(_("note on return"), blank=True)
    withdrawal_note = models.TextField(_("note on withdrawal"), blank=True)
    approved_by = models.ForeignKey(
        USER, verbose_name=_("approved by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scope_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("published to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The path of the subtree it is read in (readers are found by path, without a join).
    scope_path = models.CharField(max_length=255, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    # Optimistic concurrency: every write bumps it; forms send the version they read. The terminals' ETag reads it.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("guidance tip")
        verbose_name_plural = _("guidance tips")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=TipState.values), name="tip_state_valid"),
            models.CheckConstraint(condition=Q(priority__in=TipPriority.values), name="tip_priority_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="tip_version_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")), name="tip_valid_period"
            ),
            # Each state with exactly the marks it implies.
            models.CheckConstraint(
                condition=Q(state=S.DRAFT, submitted_at__isnull=True, published_at__isnull=True)
                | Q(
                    state=S.SUBMITTED, submitted_at__isnull=False, submitted_by__isnull=False, published_at__isnull=True
                )
                | (
                    Q(
                        state=S.PUBLISHED,
                        submitted_at__isnull=True,
                        published_at__isnull=False,
                        approved_by__isnull=False,
                        scope_unit__isnull=False,
                        withdrawn_at__isnull=True,
                    )
                    & ~Q(scope_path="")
                )
                | (
                    Q(state=S.WITHDRAWN, published_at__isnull=False, withdrawn_at__isnull=False)
                    & ~Q(withdrawal_note="")
                ),
                name="tip_state_marks",
            ),
            # Four eyes: whoever approves a tip neither wrote it nor made its last change.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | (~Q(approved_by=F("author")) & ~Q(approved_by=F("last_editor"))),
                name="tip_four_eyes",
            ),
        ]
        indexes = [
            # The readers' list: what is read, by the path of the subtree it is read in.
            models.Index(
                fields=["scope_path"],
                name="tip_published_scope",
                condition=Q(state=S.PUBLISHED),
                opclasses=["text_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title_zh or self.title_en or str(_("Untitled tip"))


class TipEvent(models.Model):
    """The tip's own log, append-only, written in the same transaction as the change it records."""

    tip = models.ForeignKey(Tip, on_delete=models.PROTECT, related_name="events")
    step = models.CharField(_("step"), max_length=20, choices=TipStep.choices)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("guidance tip event")
        verbose_name_plural = _("guidance tip events")
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=Q(step__in=TipStep.values), name="tip_event_step_valid")]
        indexes = [models.Index(fields=["tip", "at", "id"], name="tip_event_log")]

    def __str__(self) -> str:
        return f"{self.tip_id} {self.step} {self.at:%Y-%m-%d %H:%M}"


class TipRead(models.Model):
    """An officer's first opening of a tip (its page, or its API answer on a terminal): one row per reader and tip. The
    unit is where the reader belonged when they read it, which a unit's training record goes by."""

    tip = models.ForeignKey(Tip, on_delete=models.PROTECT, related_name="reads")
    reader = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        verbose_name = _("guidance tip read")
        verbose_name_plural = _("guidance tip reads")
        constraints = [models.UniqueConstraint(fields=["tip", "reader"], name="tip_read_once")]
        indexes = [models.Index(fields=["read_at"], name="tip_read_at")]

    def __str__(self) -> str:
        return f"{self.reader_id} read tip {self.tip_id}"


class TipPush(models.Model):
    """The push of a published tip to the officers of its subtree (library/notices.py ``deliver_push``), done after
    the publication commits by a background task, in chunks of recipients taken in the order of their ids. Each chunk's
    notifications and the mark of the last recipient told (``told_through``) are written in one transaction, so a task
    retried, redelivered or run twice carries on after that mark and never tells anyone twice."""

    tip = models.ForeignKey(Tip, on_delete=models.PROTECT, related_name="pushes")
    # The tip's version as it was published: the push is of that version.
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(_("started at"))
    # The id of the last recipient told (0: none yet).
    told_through = models.BigIntegerField(default=0)
    told = models.PositiveIntegerField(_("officers told"), default=0)
    # Every recipient told, or the tip no longer published when the push came to it (then no one more is told).
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("guidance tip push")
        verbose_name_plural = _("guidance tip pushes")
        constraints = [models.UniqueConstraint(fields=["tip", "version"], name="tip_push_once_per_version")]

    def __str__(self) -> str:
        return f"push of tip {self.tip_id} v{self.version}"
