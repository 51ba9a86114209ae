"""The queue's rows, ready to print: every word and date of a row worked out here, once, in the reader's language.

A page shows 25 rows of eight cells; in the template language each cell's tags, filters and translations cost more
than the page's queries. The presenter works out the page's words once (translated in Python, where ``makemessages``
finds them), then each row's values, and a Jinja2 template (cases/jinja2/cases/queue/rows.html) prints them with the
usual escaping.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.models import unit_name
from cases.models import Case
from cases.templatetags.rg import _field_labels, days_left, status_style

SUMMARY_CHARS = 60
PLACEHOLDER_PK = 987654321


@dataclass(frozen=True)
class Row:
    pk: int
    version: int
    reference: str
    url: str
    select_label: str
    badges: tuple[tuple[str, str], ...]  # (Bootstrap style, word)
    kind: str
    summary: str
    match: str
    status: str  # its label
    status_style: str
    unit: str
    paused: bool
    deadline: str  # "" without a running clock
    overdue: bool
    last_activity: str
    assigned: str


def shortened(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis where it was cut (as ``truncatechars``)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RowPresenter:
    """The words of one page, in the active language, and each row's values."""

    def __init__(self) -> None:
        self.language = get_language() or settings.LANGUAGE_CODE
        self.kinds = _field_labels(Case, "kind", self.language)
        self.statuses = _field_labels(Case, "status", self.language)
        self.select = _("Select %(ref)s")
        self.flags = (
            ("is_stalled", "danger", _("Stalled")),
            ("has_overdue_referral", "warning", _("Overdue referral")),
            ("is_downgraded", "danger", _("Downgraded")),
            ("has_review_prompt", "info", _("Review prompt")),
            ("is_idle", "secondary", _("Idle")),
        )
        self.date_format = formats.get_format("SHORT_DATE_FORMAT", lang=self.language)
        self.labels = {
            "select": _("Select"),
            "reference": _("Reference"),
            "incident": _("Incident"),
            "status": _("Status"),
            "unit": _("Unit"),
            "deadline": _("Deadline"),
            "activity": _("Last activity"),
            "assigned": _("Assigned"),
            "paused": _("Paused"),
            "none": _("No cases match."),
        }
        self.today = timezone.localdate()
        # The case page's address, resolved once for the page: a case id is only digits.
        self.detail_url = reverse("cases:detail", args=[PLACEHOLDER_PK]).replace(str(PLACEHOLDER_PK), "{}")
        self._deadlines: dict[int, str] = {}

    def deadline(self, days: int) -> str:
        if days not in self._deadlines:
            if days < 0:
                text = ngettext("%(n)s day overdue", "%(n)s days overdue", -days) % {"n": -days}
            else:
                text = ngettext("%(n)s day left", "%(n)s days left", days) % {"n": days}
            self._deadlines[days] = text
        return self._deadlines[days]

    def day(self, moment: datetime | None) -> str:
        return dateformat.format(timezone.localtime(moment), self.date_format) if moment else ""

    def row(self, case: Case) -> Row:
        days = days_left(case, self.today)
        unit = case.unit
        return Row(
            pk=case.pk,
            version=case.version,
            reference=case.reference,
            url=self.detail_url.format(case.pk),
            select_label=self.select % {"ref": case.reference},
            badges=tuple((style, word) for name, style, word in self.flags if getattr(case, name)),
            kind=self.kinds.get(case.kind, case.kind),
            summary=shortened(case.summary),
            match=str(getattr(case, "match", "") or ""),
            status=self.statuses.get(case.status, case.status),
            status_style=status_style(case.status),
            unit=unit_name(unit.name, unit.name_en, self.language),
            paused=case.paused_at is not None,
            deadline="" if days is None else self.deadline(days),
            overdue=days is not None and days < 0,
            last_activity=self.day(case.last_activity_at),
            assigned=str(case.assigned_to) if case.assigned_to_id else "—",
        )


def render_rows(cases: list[Case]) -> SafeString:
    """The table body's rows for ``cases`` (or the one row saying none matched)."""
    presenter = RowPresenter()
    context = {"rows": [presenter.row(c) for c in cases], "label": presenter.labels}
    return SafeString(render_to_string("cases/queue/rows.html", context, using="jinja2"))
