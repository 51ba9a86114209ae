"""The vocabulary of the typical-case library: where a write-up stands, its log's steps, its texts and languages."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WriteUpState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    DRAFTING = "drafting", _("Being drafted")
    SUBMITTED = "submitted", _("Awaiting approval")
    PUBLISHED = "published", pgettext_lazy("typical case", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("typical case", "Withdrawn")


class LogStep(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    SAVED = "saved", _("Draft saved")
    ANONYMISED = "anonymised", _("Proposed replacements accepted")
    SUBMITTED = "submitted", _("Sent for approval")
    RETURNED = "returned", _("Returned to the editor")
    PUBLISHED = "published", pgettext_lazy("typical case", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("typical case", "Withdrawn")
    REVISED = "revised", _("Revision started")


class Language(models.TextChoices):
    ZH = "zh", _("Chinese")
    EN = "en", _("English")


# The texts of a write-up, each written in Chinese, English or both (a column per language: ``title_zh``, ``title_en``).
TEXT_FIELDS = ("title", "happened", "handling", "legal_basis", "outcome", "lessons")
TEXT_LABELS = {
    "title": _("Title"),
    "happened": _("What happened"),
    "handling": _("How it was handled"),
    "legal_basis": _("Legal basis"),
    "outcome": _("Outcome"),
    "lessons": _("Lessons for officers"),
}
# What a language's text must have to be sent for approval: everything but the legal basis in words, which the rules
# and articles linked may say alone.
REQUIRED_FIELDS = ("title", "happened", "handling", "outcome", "lessons")
LANGUAGES = ("zh", "en")
TITLE_MAX = 200
TEXT_MAX = 10_000
NOTE_MAX = 2000


def column(field: str, language: str) -> str:
    return f"{field}_{language}"


COLUMNS = tuple(column(field, language) for language in LANGUAGES for field in TEXT_FIELDS)
# The articles linked, which readers read as the case recorded them: the anonymisation check reads them with the texts.
ARTICLES = "articles"
CHECKED = (*COLUMNS, ARTICLES)
