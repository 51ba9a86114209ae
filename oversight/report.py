"""The figures of a campaign's report: per sub-unit and in total, over the selected cases the reader sees.

Scope: ``policy.campaign_cases_visible_to`` — the rule the campaign page uses. The campaign's runners count every
selected case; a reviewer counts the cases of the sub-units they review. The campaign page's progress
(``selectors.progress``) is made from these same counts, so the page and the report never disagree.

What each figure counts (a "case" is a selected case of the campaign, a row of ``CampaignCase``):

- **Cases selected**: the cases in the campaign's frozen list.
- **Cases reviewed**: those with a recorded review (recording it again does not count twice).
- **Problems found**: problem records raised on those cases, in total and **by type**; a case with two problems
  counts two.
- **Problems rectified**: those with a rectification recorded. **Rectified on time**: rectified on or before the
  rectify-by date (``rectified_on <= rectify_by``, both local dates); **rectified late**: after it. On time and late
  add up to rectified.
- **Overdue rectifications**: problems not rectified whose rectify-by date is before the report's day (``as_of``,
  today): still open on their last day is not yet overdue. The figure is as of that day, also for a closed
  campaign, whose open problems stay open.
- **Cases made up**: cases sent back to be handled again through the case workflow (each case at most once).
- **Officers held accountable**: *people*, not records. An officer held accountable twice in the campaign (criticised
  for one problem, then sanctioned for another) is one officer held accountable; the seed reports "held 39 officers
  accountable", a count of officers. The records carry no account (colleagues without a login are held accountable
  too), so an officer is the same officer when the records give the same name, badge number and unit. Per sub-unit
  each officer counts once in that sub-unit; the total counts each officer once over the whole campaign, so it can
  be less than the sum of the rows. **Accountability by measure** counts the records (decisions), per measure:
  one officer may receive two measures. **Accountability records** is their total.
- Fugitive pursuit (a campaign of that kind only): **fugitives pursued** — the pursuit records, one per suspect at
  large when the campaign started; how many stand **at large**, **located**, **arrested**, **surrendered**,
  **extradited or repatriated**, **deceased** now; **still at large**: neither caught nor deceased (at large or
  located: a located fugitive is not yet in custody); **across the border**: pursuits recorded as crossing the
  border, whatever their status.

How it is counted: six grouped queries (seven for a fugitive pursuit) and one for the units, whatever the number of
cases — the selected cases (from the ``(campaign, sub_unit)`` index alone), the reviews, the made-up cases (a partial
index), problems and accountability records, each grouped by sub-unit with a ``COUNT … FILTER`` per figure; the
campaign-wide distinct officers; the pursuits by sub-unit. The same grouping by campaign instead of by
sub-unit gives each campaign's figures for the yearly report's campaigns section (``yearly.py``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Length
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.authority import Actor
from accounts.models import OrgUnit
from oversight import policy
from oversight.choices import CampaignKind, Measure, ProblemType, PursuitStatus
from oversight.models import Accountability, Campaign, CampaignCase, Problem, PursuitRecord, Review

P = PursuitStatus
STILL_AT_LARGE = (P.AT_LARGE, P.LOCATED)


def _counts(codes: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(codes, 0)


@dataclass(frozen=True)
class Figures:
    """One row of the report (a sub-unit, a campaign) or its total: every figure of the module docstring."""

    selected: int = 0
    reviewed: int = 0
    problems: int = 0
    problems_by_type: dict[str, int] = field(default_factory=lambda: _counts(ProblemType.values))
    rectified: int = 0
    rectified_on_time: int = 0
    rectified_late: int = 0
    overdue: int = 0
    made_up: int = 0
    officers_accountable: int = 0
    accountability_records: int = 0
    accountability_by_measure: dict[str, int] = field(default_factory=lambda: _counts(Measure.values))
    pursued: int = 0
    pursuit_by_status: dict[str, int] = field(default_factory=lambda: _counts(PursuitStatus.values))
    still_at_large: int = 0
    cross_border: int = 0

    def plus(self, other: "Figures") -> "Figures":
        """The two rows added up (officers too: the caller replaces the total's with the distinct count)."""

        added: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            theirs = getattr(other, name)
            # A breakdown keeps its choices' order (every choice is a key, zero or not).
            added[name] = (
                {k: n + theirs.get(k, 0) for k, n in value.items()} if isinstance(value, dict) else value + theirs
            )
        return Figures(**added)


@dataclass(frozen=True)
class SubUnitFigures:
    unit: OrgUnit
    figures: Figures


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    as_of: date  # the day overdue rectifications are counted against
    generated_at: datetime
    rows: tuple[SubUnitFigures, ...]  # by the sub-unit's place in the tree
    total: Figures

    @property
    def pursuit(self) -> bool:
        return self.campaign.kind == CampaignKind.FUGITIVE_PURSUIT


def officer_key() -> Concat:
    """The same officer: the same name, badge number and unit on the record (the services store them trimmed).

    The name goes in after its length, so the key reads back one way only: a name or a badge number may contain the
    separator ("张|7" without a badge and "张" with badge "7|" are two officers), and the unit's id, last, is digits."""
    return Concat(
        Cast(Length("officer_name"), CharField()),
        Value(":"),
        "officer_name",
        Value("|"),
        "officer_badge",
        Value("|"),
        Cast("unit_id", CharField()),
        output_field=CharField(),
    )


def grouped_figures(
    items: QuerySet[CampaignCase], *, by: str, as_of: date, pursuit: bool, officers_overall: bool = True
) -> tuple[dict[int, Figures], int]:
    """The figures of ``items`` grouped by one of their columns (``sub_unit_id`` or ``campaign_id``), and (unless
    ``officers_overall`` is off: then 0) the distinct officers held accountable over all of them: a fixed number of
    grouped queries."""
    rows: dict[int, dict[str, Any]] = {}

    def row(key: int) -> dict[str, Any]:
        return rows.setdefault(key, {})

    # Three narrow counts rather than one scan joined to the reviews: the selected cases per group are read from
    # the (campaign, sub-unit) index alone, the reviews and the made-up cases (a partial index) are few.
    for r in items.order_by().values(by).annotate(n=Count("pk")):
        row(r[by]).update(selected=r["n"], reviewed=0, made_up=0)
    for r in (
        Review.objects.filter(campaign_case__in=items.values("pk"))
        .order_by()
        .values(f"campaign_case__{by}")
        .annotate(n=Count("pk"))
    ):
        row(r[f"campaign_case__{by}"])["reviewed"] = r["n"]
    for r in items.filter(made_up_at__isnull=False).order_by().values(by).annotate(n=Count("pk")):
        row(r[by])["made_up"] = r["n"]

    ids = items.values("pk")
    through = f"campaign_case__{by}"
    problems = (
        Problem.objects.filter(campaign_case__in=ids)
        .order_by()
        .values(through)
        .annotate(
            problems=Count("pk"),
            rectified=Count("pk", filter=Q(rectified_on__isnull=False)),
            rectified_on_time=Count("pk", filter=Q(rectified_on__lte=F("rectify_by"))),
            rectified_late=Count("pk", filter=Q(rectified_on__gt=F("rectify_by"))),
            overdue=Count("pk", filter=Q(rectified_on__isnull=True, rectify_by__lt=as_of)),
            **{f"type_{t}": Count("pk", filter=Q(type=t)) for t in ProblemType.values},
        )
    )
    for r in problems:
        target = row(r[through])
        target.update({k: r[k] for k in ("problems", "rectified", "rectified_on_time", "rectified_late", "overdue")})
        target["problems_by_type"] = {t: r[f"type_{t}"] for t in ProblemType.values}

    records = Accountability.objects.filter(campaign_case__in=ids)
    accountability = (
        records.order_by()
        .values(through)
        .annotate(
            accountability_records=Count("pk"),
            officers_accountable=Count(officer_key(), distinct=True),
            **{f"measure_{m}": Count("pk", filter=Q(measure=m)) for m in Measure.values},
        )
    )
    for r in accountability:
        target = row(r[through])
        target.update({k: r[k] for k in ("accountability_records", "officers_accountable")})
        target["accountability_by_measure"] = {m: r[f"measure_{m}"] for m in Measure.values}
    officers = records.aggregate(n=Count(officer_key(), distinct=True))["n"] if officers_overall else 0

    if pursuit:
        pursuits = (
            PursuitRecord.objects.filter(campaign_case__in=ids)
            .order_by()
            .values(through)
            .annotate(
                pursued=Count("pk"),
                cross_border=Count("pk", filter=Q(cross_border=True)),
                **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in PursuitStatus.values},
            )
        )
        for r in pursuits:
            by_status = {s: r[f"status_{s}"] for s in PursuitStatus.values}
            row(r[through]).update(
                pursued=r["pursued"],
                cross_border=r["cross_border"],
                pursuit_by_status=by_status,
                still_at_large=sum(by_status[s] for s in STILL_AT_LARGE),
            )
    return {key: Figures(**values) for key, values in rows.items()}, officers


def campaign_report(actor: Actor, campaign: Campaign, *, as_of: date | None = None) -> CampaignReport:
    """The campaign's figures per sub-unit and in total, over the selected cases the actor sees (see the module doc)."""
    day = as_of or timezone.localdate()
    items = policy.campaign_cases_visible_to(actor, campaign)
    by_unit, officers = grouped_figures(
        items, by="sub_unit_id", as_of=day, pursuit=campaign.kind == CampaignKind.FUGITIVE_PURSUIT
    )
    units = OrgUnit.objects.in_bulk(list(by_unit))
    rows = tuple(
        SubUnitFigures(units[pk], figures) for pk, figures in sorted(by_unit.items(), key=lambda kv: units[kv[0]].path)
    )
    total = Figures()
    for r in rows:
        total = total.plus(r.figures)
    return CampaignReport(
        campaign=campaign,
        as_of=day,
        generated_at=timezone.now(),
        rows=rows,
        total=replace(total, officers_accountable=officers),
    )


def figure_label(key: str) -> str:
    """The heading of a figure of ``Figures`` (the campaign report's and the yearly report's campaigns section's)."""
    labels = {
        "selected": _("Cases selected"),
        "reviewed": _("Cases reviewed"),
        "problems": _("Problems found"),
        "rectified": _("Problems rectified"),
        "rectified_on_time": _("Rectified on time"),
        "rectified_late": _("Rectified late"),
        "overdue": _("Overdue rectifications"),
        "made_up": _("Cases made up"),
        "officers_accountable": _("Officers held accountable"),
        "pursued": _("Fugitives pursued"),
        "arrested": pgettext("fugitive pursuit", "Arrested"),
        "still_at_large": _("Still at large"),
    }
    return labels[key]
