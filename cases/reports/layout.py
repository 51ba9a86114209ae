"""The report as the tables and charts every format shows, with labels in the active language.

The selector returns codes and numbers only; labels are resolved here, when a file or page is rendered, so an
export follows the language it is rendered in (the Celery task activates the requester's language first).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import OrgLevel, unit_name
from cases.choices import (
    CaseStatus,
    Channel,
    Disposition,
    FindingProblem,
    FlagKind,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    OverrideReason,
    ReviewVerdict,
    SupportKind,
    SuspectStatus,
)
from cases.reports.yearly import Item, Pair, Spread, SubunitItem, UnitRef, YearlyReport, report_timezone

Format = Literal["int", "money", "days", "ratio", "pct"]  # pct: a percentage, one decimal
ChartKind = Literal["line", "bar", "hbar"]


@dataclass(frozen=True)
class Row:
    label: str
    current: int | float | Decimal | None
    previous: int | float | Decimal | None
    format: Format = "int"
    key: str = ""  # stable name of the row where other code picks it out (key figures)
    # A breakdown row (one incident type, one grade, …): the PDF and the page leave it out when both years are
    # empty; the CSV and XLSX keep every row so the files line up year after year.
    optional: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.current and not self.previous

    @property
    def change(self) -> int | float | Decimal | None:
        return Pair(self.current, self.previous).change

    @property
    def change_ratio(self) -> float | None:
        return Pair(self.current, self.previous).change_ratio

    @property
    def change_pct(self) -> float | None:
        return Pair(self.current, self.previous).change_pct


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: ChartKind
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    table: str  # the table whose rows the chart draws (the XLSX chart points at that sheet)
    rows: tuple[int, ...]  # indexes of the drawn rows in that table
    span: tuple[int, int]  # the run of table rows the chart is about, zero rows included (start, stop)


def unit_label(unit: UnitRef) -> str:
    """The unit's name in the active language (Chinese names are the official ones; English where recorded)."""
    return f"{unit_name(unit.name, unit.name_en)} ({unit.code})"


def _choice_rows(items: Iterable[Item], enum: type[models.TextChoices], fmt: Format = "int") -> tuple[Row, ...]:
    labels = dict(enum.choices)
    return tuple(Row(str(labels.get(i.code, i.code)), i.current, i.previous, fmt, optional=True) for i in items)


def _row(label: str, pair: Pair, fmt: Format = "int", key: str = "") -> Row:
    return Row(label, pair.current, pair.previous, fmt, key)


def _subunit_label(item: SubunitItem) -> str:
    if item.own:
        return _("%(unit)s itself") % {"unit": unit_label(item.unit)}
    return unit_label(item.unit)


def _spread_rows(label: str, spread: Spread) -> tuple[Row, ...]:
    return (
        _row(_("%(measure)s: cases measured") % {"measure": label}, spread.count),
        _row(_("%(measure)s: median days") % {"measure": label}, spread.median, "days"),
        _row(_("%(measure)s: 90th percentile, days") % {"measure": label}, spread.p90, "days"),
    )


def report_tables(report: YearlyReport) -> tuple[Table, ...]:
    """Every table of the report, in reading order."""
    r = report
    level_labels = {
        "pending": _("Pending (investigation, appraisal, prosecution or trial)"),
        "no_penalty": _("No penalty (no action, education, mediation, no punishment)"),
        "administrative": _("Administrative penalty"),
        "criminal_filed": _("Criminal case filed"),
        "non_prosecution": _("Non-prosecution or exemption from punishment"),
        "convicted": _("Convicted"),
    }
    convictions = Pair(
        sum(i.current or 0 for i in r.dispositions.convicted_by_article),
        sum(i.previous or 0 for i in r.dispositions.convicted_by_article),
    )
    flags = {f.kind: f for f in r.flags}
    overview = (
        _row(_("Cases submitted"), r.cases.total, key="cases"),
        _row(_("Officers infringed"), r.officers.total, key="officers"),
        _row(_("Officers injured"), r.officers.injured, key="injured"),
        _row(_("Officers killed"), r.officers.deaths, key="deaths"),
        _row(_("Suspects"), r.suspects.total, key="suspects"),
        _row(_("Suspects arrested"), r.suspects.arrested, key="arrested"),
        _row(_("Suspects at large"), r.suspects.at_large, key="at_large"),
        _row(_("Suspects convicted"), convictions, key="convicted"),
        _row(_("Supervision findings raised"), r.findings.total, key="findings"),
        # Downgrades and review prompts apart: only a verified minimum missed is a downgrade.
        _row(_("Downgraded flags raised"), flags[FlagKind.DOWNGRADED].raised, key="downgrades"),
        _row(_("Review prompts raised"), flags[FlagKind.REVIEW_PROMPT].raised, key="review_prompts"),
        _row(
            _("Review prompts resolved in the year"),
            flags[FlagKind.REVIEW_PROMPT].resolved_in_year,
            key="review_prompts_resolved",
        ),
        _row(_("Look-back reviews"), r.reviews.total, key="reviews"),
        _row(_("Support measures delivered"), r.support.delivered, key="support"),
        _row(_("Comfort payments (CNY)"), r.support.comfort_payment_total, "money", key="payments"),
        _row(_("Clarification notices issued"), r.support.clarification_notices, key="clarifications"),
        _row(_("Median days from submission to referral"), r.intake_to_referral.median, "days", key="referral_median"),
        _row(_("Median days from submission to closure"), r.intake_to_closure.median, "days", key="closure_median"),
    )
    months = tuple(
        Row(formats.date_format(date(2000, int(i.code), 1), "F"), i.current, i.previous) for i in r.cases.by_month
    )
    subunits = tuple(Row(_subunit_label(s), s.current, s.previous, optional=True) for s in r.cases.by_subunit)
    flag_rows: list[Row] = []
    flag_labels = dict(FlagKind.choices)
    for f in r.flags:
        kind = str(flag_labels[f.kind])
        flag_rows += [
            _row(_("%(flag)s: raised") % {"flag": kind}, f.raised),
            _row(_("%(flag)s: resolved") % {"flag": kind}, f.resolved),
            _row(_("%(flag)s: still open") % {"flag": kind}, f.still_open),
        ]
    flag_rows.append(_row(_("Downgraded flags overridden"), r.overrides.downgraded, key="downgraded_overridden"))
    reasons = dict(OverrideReason.choices)
    flag_rows += [
        Row(_("Overridden because: %(reason)s") % {"reason": reasons[i.code]}, i.current, i.previous, optional=True)
        for i in r.overrides.by_reason
    ]
    return (
        Table("overview", _("Key figures"), overview),
        Table("by_month", _("Cases by month of submission"), months),
        Table("by_kind", _("Cases by incident type"), _choice_rows(r.cases.by_kind, IncidentKind)),
        Table("by_subunit", _("Cases by sub-unit"), subunits),
        Table("by_channel", _("Cases by channel"), _choice_rows(r.cases.by_channel, Channel)),
        Table("by_status", _("Cases by current status"), _choice_rows(r.cases.by_status, CaseStatus)),
        Table(
            "officers",
            _("Officers infringed"),
            (
                _row(_("All involved officers"), r.officers.total),
                *_choice_rows(r.officers.by_type, OfficerType),
                _row(_("Injured (slight injury or worse)"), r.officers.injured),
                _row(_("Killed"), r.officers.deaths),
            ),
        ),
        Table("injuries", _("Officers by injury grade"), _choice_rows(r.officers.by_injury, InjuryGrade)),
        Table(
            "suspects",
            _("Suspects"),
            (
                _row(_("Suspects"), r.suspects.total),
                _row(_("Identified"), r.suspects.identified),
                _row(_("Suspects per case"), r.suspects.per_case, "ratio"),
                _row(_("Arrested"), r.suspects.arrested),
                _row(_("At large"), r.suspects.at_large),
            ),
        ),
        Table("suspect_status", _("Suspects by status"), _choice_rows(r.suspects.by_status, SuspectStatus)),
        Table(
            "disposition_levels",
            _("Dispositions by ladder level"),
            tuple(Row(str(level_labels[i.code]), i.current, i.previous) for i in r.dispositions.by_level),
        ),
        Table(
            "convictions",
            _("Convictions by article"),
            _choice_rows(r.dispositions.convicted_by_article, Disposition),
        ),
        Table("dispositions", _("Dispositions"), _choice_rows(r.dispositions.by_disposition, Disposition)),
        Table("flags", _("Flags by kind"), tuple(flag_rows)),
        Table(
            "findings",
            _("Supervision findings"),
            (
                _row(_("Findings raised"), r.findings.total),
                *_choice_rows(r.findings.by_problem, FindingProblem),
                _row(_("Rectified"), r.findings.rectified),
                _row(_("Rectified on time"), r.findings.rectified_on_time),
                _row(_("Officers held accountable"), r.findings.officers_held_accountable),
            ),
        ),
        Table(
            "reviews",
            _("Look-back reviews"),
            (
                _row(_("Reviews of the year's campaign"), r.reviews.total),
                *_choice_rows(r.reviews.by_verdict, ReviewVerdict),
                _row(_("Officer informed of the outcome"), r.reviews.officer_informed),
                _row(_("Support found delivered"), r.reviews.support_delivered),
                _row(_("Clarification found issued"), r.reviews.clarification_issued),
            ),
        ),
        Table(
            "support",
            _("Support measures delivered"),
            (
                _row(_("Measures delivered"), r.support.delivered),
                *_choice_rows(r.support.by_kind, SupportKind),
                _row(_("Comfort payments (CNY)"), r.support.comfort_payment_total, "money"),
                _row(_("Clarification notices issued"), r.support.clarification_notices),
            ),
        ),
        Table(
            "durations",
            _("Handling time"),
            (
                *_spread_rows(_("Submission to first referral"), r.intake_to_referral),
                *_spread_rows(_("Submission to closure"), r.intake_to_closure),
            ),
        ),
    )


def report_charts(report: YearlyReport, tables: tuple[Table, ...] | None = None) -> tuple[Chart, ...]:
    """The charts: each compares the report year with the year before, drawn from a run of one table's rows."""
    by_key = {t.key: t for t in tables or report_tables(report)}
    year, previous = str(report.year), str(report.previous_year)

    def chart(
        key: str, title: str, kind: ChartKind, *, keep_zero: bool = False, start: int = 0, stop: int | None = None
    ) -> Chart:
        table = by_key[key]
        stop = len(table.rows) if stop is None else stop
        # Rows empty in both years are left out of the picture (the table still lists them).
        drawn = [i for i in range(start, stop) if keep_zero or table.rows[i].current or table.rows[i].previous]
        return Chart(
            key=key,
            title=title,
            kind=kind,
            labels=tuple(table.rows[i].label for i in drawn),
            series=(
                Series(year, tuple(float(table.rows[i].current or 0) for i in drawn)),
                Series(previous, tuple(float(table.rows[i].previous or 0) for i in drawn)),
            ),
            table=key,
            rows=tuple(drawn),
            span=(start, stop),
        )

    support_kinds = len(report.support.by_kind)
    return (
        chart("by_month", _("Cases by month"), "line", keep_zero=True),
        chart("by_kind", _("Cases by incident type"), "hbar"),
        chart("support", _("Support measures delivered by kind"), "hbar", start=1, stop=1 + support_kinds),
        chart("by_subunit", _("Cases by sub-unit"), "hbar"),
        chart("disposition_levels", _("Dispositions by ladder level"), "hbar"),
        # Without the uninjured, who would flatten every other bar.
        chart("injuries", _("Officers by injury grade"), "bar", start=1),
    )


def level_label(level: str) -> str:
    return str(dict(OrgLevel.choices).get(level, level))


def generated_label(report: YearlyReport) -> str:
    local = timezone.localtime(report.generated_at, report_timezone())
    return formats.date_format(local, "DATETIME_FORMAT")


def as_of_label(moment: datetime | None) -> str:
    """How fresh figures read from the read replica are (cases/reading.py): the local time of the last change it had
    applied; empty for figures read from the primary (current)."""
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment, report_timezone()), "DATETIME_FORMAT")


def figures_as_of_label(report: YearlyReport) -> str:
    return as_of_label(report.figures_as_of)


def format_value(value: int | float | Decimal | None, fmt: Format, *, grouped: bool = False) -> str:
    """A figure as text (XLSX keeps numbers numeric). ``grouped`` adds thousands separators, for reading; the CSV
    leaves them out so every program parses the numbers."""
    if value is None:
        return ""
    comma = "," if grouped else ""
    if fmt == "money":
        return f"{Decimal(value):{comma}.2f}"
    if fmt in ("days", "pct"):
        return f"{float(value):{comma}.1f}"
    if fmt == "ratio":
        return f"{float(value):.2f}"
    return f"{int(value):{comma}d}"


def format_change(row: Row, *, grouped: bool = False) -> tuple[str, str]:
    change, pct = row.change, row.change_pct
    if change is None:
        return "", ""
    text = format_value(change, row.format, grouped=grouped)
    if change > 0:
        text = "+" + text
    if pct is None:
        return text, ""
    return text, f"{pct:+.1f}%" if pct else "0.0%"


def display_rows(table: Table, *, for_reading: bool = False) -> list[tuple[Row, str, str, str, str]]:
    """Each row with its figures as text: this year, last year, change, change in percent. ``for_reading`` (the
    page and the PDF) groups thousands and leaves out breakdown rows with nothing in either year."""
    g = for_reading
    return [
        (
            row,
            format_value(row.current, row.format, grouped=g),
            format_value(row.previous, row.format, grouped=g),
            *format_change(row, grouped=g),
        )
        for row in table.rows
        if not (for_reading and row.optional and row.is_empty)
    ]


def column_headers(report: YearlyReport) -> tuple[str, str, str, str, str]:
    return (
        pgettext("report column", "Item"),
        str(report.year),
        str(report.previous_year),
        pgettext("report column", "Change"),
        pgettext("report column", "Change (%)"),
    )
