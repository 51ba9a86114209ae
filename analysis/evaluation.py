"""The figures of a case analysis and evaluation report (docs/evaluation-report.md): a unit's subtree over a quarter or
a year against the same period a year earlier. Read only, from ``cases.selectors`` (``case_breakdown`` as the
analysis page, ``suspects_with_earlier_cases``) and the early warnings; nothing here writes.

What the figures count, as the analysis page does (analysis/figures.py):

- a **case** is a submitted application (drafts never count), in the local month (settings.TIME_ZONE) it was
  submitted in; the period is the quarter's three months or the year's twelve;
- **officers injured**: involved officers, regular and auxiliary, with an appraised minor injury or worse, in the
  period's cases;
- **per 100 officers**: divided by the officer strength of the unit's subtree for the period's year (``figures.
  strength``: the unit's record, or the sum of its sub-units' when every one has one; none otherwise), and the
  previous period's by the previous year's; a quarter's rate is the quarter's cases, not a yearly rate;
- **change**: this period against the same period a year earlier, in per cent of the earlier figure;
- **top duty scenarios and places**: the five most frequent recorded ones (ties in the order of the choices), each
  with its share of the period's cases; the rest of the recorded ones together, and "not recorded", apart;
- **repeat attackers**: suspects of the period's cases whose ID number (its blind index) a suspect of an earlier case
  on record of the same subtree has too, with how many such earlier cases; the suspect's name is masked by the case
  rule for names in documents (``cases.sensitive.mask_name``: 张三丰 → 张某) before it is kept anywhere;
- **warnings**: the early warnings owned by a unit of the subtree and raised in the period (local dates), by kind,
  with how many of them were acknowledged and resolved by the time the figures were read.

``compute`` returns the figures as JSON-ready data: what an approved report freezes (``EvaluationReport.figures``)
and what a report before approval reads live, so both are shown by the same code. ``read`` then keeps only what the
reader may be told (analysis/policy.py): the suspects and warnings of others are counted, never listed.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import OrgUnit, unit_name
from analysis import figures, policy
from analysis.choices import WHOLE_YEAR, WarningState
from analysis.models import EarlyWarning
from cases import dimensions, selectors
from cases import policy as case_policy
from cases.sensitive import mask_name

# The layout of the frozen figures: a later change of what is kept names a new one, and old reports are read by it.
LAYOUT = 1
TOP = 5
MONTHS_PER_QUARTER = 3


@dataclass(frozen=True)
class Period:
    """A quarter (1-4) or, as quarter 0, a whole year: its months, as first days of local months."""

    year: int
    quarter: int = WHOLE_YEAR

    @property
    def first_month(self) -> int:
        return 1 if self.quarter == WHOLE_YEAR else (self.quarter - 1) * MONTHS_PER_QUARTER + 1

    @property
    def months(self) -> tuple[date, ...]:
        count = 12 if self.quarter == WHOLE_YEAR else MONTHS_PER_QUARTER
        return tuple(date(self.year, self.first_month + i, 1) for i in range(count))

    @property
    def start(self) -> date:
        return self.months[0]

    @property
    def end(self) -> date:
        """The first day after the period."""
        last = self.months[-1]
        return date(last.year + 1, 1, 1) if last.month == 12 else date(last.year, last.month + 1, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    def previous(self) -> "Period":
        """The same period a year earlier."""
        return Period(self.year - 1, self.quarter)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware local datetimes, [start, end)."""
        zone = timezone.get_default_timezone()
        return datetime.combine(self.start, time(), zone), datetime.combine(self.end, time(), zone)

    def label(self) -> str:
        """The period as the pages and files name it, in the active language."""
        if self.quarter == WHOLE_YEAR:
            return _("Year %(year)d") % {"year": self.year}
        return _("Q%(quarter)d %(year)d") % {"quarter": self.quarter, "year": self.year}


def _top(dimension: str, counts: Counter[str], total: int) -> dict[str, Any]:
    """The five most frequent codes recorded on ``dimension`` (ties in the choices' order), the rest of the recorded
    ones, and the cases with nothing recorded."""
    order = {code: i for i, code in enumerate(dimensions.ordered_codes(dimension))}
    recorded = sorted((c for c in counts if c and counts[c]), key=lambda c: (-counts[c], order.get(c, len(order)), c))
    top = recorded[:TOP]
    return {
        "top": [{"code": code, "cases": counts[code]} for code in top],
        "other": sum(counts[c] for c in recorded[TOP:]),
        "not_recorded": counts.get("", 0),
        "total": total,
    }


def _warnings(unit: OrgUnit, period: Period) -> QuerySet[EarlyWarning]:
    start, end = period.bounds()
    return (
        EarlyWarning.objects.filter(owner_unit__path__startswith=unit.path, raised_at__gte=start, raised_at__lt=end)
        .select_related("owner_unit")
        .order_by("raised_at", "id")
    )


def compute(*, unit: OrgUnit, year: int, quarter: int) -> dict[str, Any]:
    """The report's figures now, as JSON-ready data (see the module doc). The caller has checked that the reader may
    see this unit's figures (``cases.policy.can_report_on``): every case of the subtree counts."""
    period = Period(year, quarter)
    before = period.previous()
    now_months, before_months = set(period.months), set(before.months)
    breakdown = selectors.case_breakdown(
        unit=unit, start=before.start, end=period.end, dims=["status", dimensions.SCENARIO, dimensions.PLACE]
    )
    by_month: Counter[date] = Counter()
    scenarios: Counter[str] = Counter()
    places: Counter[str] = Counter()
    for (_child, month, dimension, code), n in breakdown.cases.items():
        if dimension == "status":
            by_month[month] += n
        elif month in now_months and dimension == dimensions.SCENARIO:
            scenarios[code.partition(":")[2]] += n
        elif month in now_months and dimension == dimensions.PLACE:
            places[code] += n
    cases = sum(by_month[m] for m in period.months)
    cases_before = sum(by_month[m] for m in before.months)
    strength_now = figures.unit_strength(unit, period.year)
    strength_before = figures.unit_strength(unit, before.year)
    start, end = period.bounds()
    repeats = selectors.suspects_with_earlier_cases(unit=unit, start=start, end=end)
    return {
        "layout": LAYOUT,
        "unit": {"id": unit.pk, "code": unit.code, "name": unit.name, "name_en": unit.name_en},
        "year": period.year,
        "quarter": period.quarter,
        "generated_at": timezone.now().isoformat(),
        "cases": {"current": cases, "previous": cases_before},
        "injured": {
            "current": figures.injured(breakdown.officers, now_months),
            "previous": figures.injured(breakdown.officers, before_months),
        },
        "officers": {
            "current": strength_now.total if strength_now else None,
            "previous": strength_before.total if strength_before else None,
        },
        "months": [
            {"month": m.month, "cases": by_month[m], "previous": by_month[p]}
            for m, p in zip(period.months, before.months, strict=True)
        ],
        "scenarios": _top(dimensions.SCENARIO, scenarios, cases),
        "places": _top(dimensions.PLACE, places, cases),
        "repeat_attackers": [
            {
                "case": r.case_id,
                "reference": r.reference,
                "suspect": mask_name(r.suspect_name),
                "earlier": r.earlier,
            }
            for r in repeats
        ],
        "warnings": [
            {
                "id": w.pk,
                "kind": w.kind,
                "severity": w.severity,
                "owner": {"code": w.owner_unit.code, "name": w.owner_unit.name, "name_en": w.owner_unit.name_en},
                "raised_at": w.raised_at.isoformat(),
                "acknowledged": w.state in (WarningState.ACKNOWLEDGED, WarningState.RESOLVED),
                "resolved": w.state == WarningState.RESOLVED,
                "figures": w.figures,
            }
            for w in _warnings(unit, period)
        ],
    }


@dataclass(frozen=True)
class Reading:
    """The figures as one reader may read them: the suspects and warnings they may be told of listed, the others
    only counted (the counts are of every one)."""

    figures: dict[str, Any]
    period: Period
    generated_at: datetime
    repeat_rows: tuple[dict[str, Any], ...]  # the suspects the reader is told of
    repeat_cases: int  # the period's cases with such a suspect, whoever reads
    repeat_suspects: int
    warnings: tuple[dict[str, Any], ...]  # the warnings the reader may open
    warnings_hidden: int  # the others, counted

    @property
    def repeat_listed(self) -> bool:
        return len(self.repeat_rows) == self.repeat_suspects


def read(data: dict[str, Any], actor: Actor, unit: OrgUnit) -> Reading:
    """``data`` (from ``compute``, live or frozen, of ``unit``) as ``actor`` may read it: two queries at most,
    whatever the rows."""
    repeats = data.get("repeat_attackers", [])
    case_ids = {r["case"] for r in repeats}
    told = (
        {
            case.pk
            for case in case_policy.visible_cases(actor).filter(pk__in=case_ids).only("id", "unit_path", "status")
            if case_policy.sees_repeat_matches(actor, case)
        }
        if policy.told_of_repeat_attackers(actor, unit)
        else set()
    )
    listed = list(data.get("warnings", []))
    opened = set(policy.visible_warnings(actor).filter(pk__in=[w["id"] for w in listed]).values_list("pk", flat=True))
    shown = tuple(w for w in listed if w["id"] in opened)
    return Reading(
        figures=data,
        period=Period(int(data["year"]), int(data["quarter"])),
        generated_at=datetime.fromisoformat(data["generated_at"]),
        repeat_rows=tuple(r for r in repeats if r["case"] in told),
        repeat_cases=len(case_ids),
        repeat_suspects=len(repeats),
        warnings=shown,
        warnings_hidden=len(listed) - len(shown),
    )


# --- the notices --------------------------------------------------------------------------------------------------

TOPIC = "evaluation_report"
SUBMITTED, APPROVED, RETURNED = "submitted", "approved", "returned"


def notice_params(event: str, unit: OrgUnit, year: int, quarter: int, by: str) -> dict[str, Any]:
    """What a notice about a report keeps to word it in its reader's language."""
    return {
        "event": event,
        "unit": {"name": unit.name, "name_en": unit.name_en},
        "year": year,
        "quarter": quarter,
        "by": by,
    }


def notice_text(params: dict[str, Any]) -> str:
    """The notice's sentence (registered as the notice topic ``TOPIC`` in analysis/apps.py)."""
    unit = params.get("unit") or {}
    values = {
        "unit": unit_name(unit.get("name", ""), unit.get("name_en", "")),
        "period": Period(int(params.get("year", 0)), int(params.get("quarter", 0))).label(),
        "by": params.get("by", ""),
    }
    event = params.get("event")
    if event == SUBMITTED:
        text = _(
            "The case analysis and evaluation report of %(unit)s for %(period)s was submitted by %(by)s and waits for "
            "the approval of another supervisor."
        )
    elif event == APPROVED:
        text = _("The case analysis and evaluation report of %(unit)s for %(period)s was approved by %(by)s.")
    elif event == RETURNED:
        text = _(
            "The case analysis and evaluation report of %(unit)s for %(period)s was returned by %(by)s; its note says "
            "what to change."
        )
    else:
        return ""
    return text % values
