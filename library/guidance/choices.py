"""The vocabulary of guidance tips: where a tip stands, its log's steps, its priorities and texts."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from library.choices import LANGUAGES, column


class TipState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("guidance tip", "Draft")
    SUBMITTED = "submitted", _("Awaiting approval")
    PUBLISHED = "published", pgettext_lazy("guidance tip", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("guidance tip", "Withdrawn")


class TipStep(models.TextChoices):
    CREATED = "created", pgettext_lazy("guidance tip", "Written")
    SAVED = "saved", _("Draft saved")
    SUBMITTED = "submitted", _("Sent for approval")
    RETURNED = "returned", _("Returned to the editor")
    PUBLISHED = "published", pgettext_lazy("guidance tip", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("guidance tip", "Withdrawn")


class TipPriority(models.TextChoices):
    """How urgently officers should read a tip: the readers' lists and the terminals show the urgent ones first."""

    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("Important")
    NORMAL = "normal", _("Normal")


# Most urgent first (lists order by it).
PRIORITY_RANK = {TipPriority.URGENT: 0, TipPriority.HIGH: 1, TipPriority.NORMAL: 2}

# A tip's texts, each written in Chinese, English or both (a column per language: ``title_zh``, ``body_en``).
TIP_FIELDS = ("title", "body")
TIP_LABELS = {"title": _("Title"), "body": _("Tip")}
TIP_COLUMNS = tuple(column(field, language) for language in LANGUAGES for field in TIP_FIELDS)
TIP_TITLE_MAX = 120
# Short: a tip is read on a phone between two calls.
TIP_BODY_MAX = 2000
TAGS_MAX = 10
