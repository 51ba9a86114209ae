"""The early warnings' conditions: what holds as of a day, found from the cases without writing anything (the job,
``analysis.services.raise_early_warnings``, records each condition once). The method and its parameters are in
docs/early-warnings.md; in short:

- **unit_rise**: a county-level unit's submitted cases in the window (the last whole local months before the month of
  the day, ``WarningSettings.window_months``) against its own baseline (the ``baseline_months`` before the window),
  scaled to the window's length in days: λ = baseline × window days / baseline days. Raised when the observed count X
  is at least ``min_cases`` and P(N ≥ X | λ) < ``alpha`` under a Poisson count (analysis/poisson.py); high when the
  p-value is below alpha / 10, medium otherwise. The counts are ``cases.selectors.case_breakdown`` over each county's
  parent unit: one call gives all its sub-units' counts by month.
- **scenario_rise**: the same test for each duty scenario and each place category in each province (its cases of
  every type; "not recorded" is no scenario and no place).
- **repeat_attacker**: an open case listing a suspect whose ID number (blind index) a suspect of an earlier case on
  record has too (``cases.selectors.open_cases_with_repeat_suspects``); medium when the case holds "previously
  punished for attacking police", low otherwise.
- **repeat_victim**: a welfare prompt (cases/welfare.py: an officer attacked three or more times in twelve months)
  for an attack in the last twelve months with at least ``repeat_victim_threshold`` attacks; high from two attacks
  above the threshold, medium otherwise.

Months are whole local months because the breakdown counts by the month a case was submitted in: the condition as of
any day of a month is the one as of its first day, and its key names the window's last day, so a daily job raises a
rise once per window.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import OrgLevel, OrgUnit
from analysis import poisson
from analysis.choices import Severity, WarningKind
from analysis.models import WarningSettings
from cases import dimensions, selectors
from cases.models import Case

# The breakdown dimension a plain count reads: every case has exactly one status.
_COUNT_DIMENSION = "status"
# The dimensions a scenario rise watches, and how a code of each is read (the scenario's code is "<kind>:<scenario>").
SCENARIO_DIMENSIONS = (dimensions.SCENARIO, dimensions.PLACE)
REPEAT_VICTIM_MONTHS = 12
# A repeat victim attacked this many times above the threshold is a high-severity warning.
REPEAT_VICTIM_HIGH_ABOVE = 2


def add_months(first: date, months: int) -> date:
    """The first day of the month ``months`` after (or before, when negative) the month of ``first``."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The window (the last whole months before the month of the day) and the baseline before it; ends exclusive."""

    baseline_start: date
    window_start: date
    window_end: date

    @property
    def last_day(self) -> date:
        return self.window_end - timedelta(days=1)

    @property
    def window_days(self) -> int:
        return (self.window_end - self.window_start).days

    @property
    def baseline_days(self) -> int:
        return (self.window_start - self.baseline_start).days


def period_as_of(day: date, settings: WarningSettings) -> Period:
    window_end = day.replace(day=1)
    window_start = add_months(window_end, -settings.window_months)
    return Period(add_months(window_start, -settings.baseline_months), window_start, window_end)


@dataclass(frozen=True)
class Condition:
    """A condition found: what the warning about it says, and its key (one warning per key, ever)."""

    kind: str
    severity: str
    owner_unit: OrgUnit
    key: str
    figures: dict[str, Any] = field(default_factory=dict)
    case: Case | None = None


def rise_figures(observed: int, baseline: int, period: Period, settings: WarningSettings) -> dict[str, Any] | None:
    """The figures of a rise when ``observed`` cases in the window against ``baseline`` cases in the baseline call for
    a warning (see the module doc), else None."""
    if observed < settings.min_cases:
        return None
    expected = baseline * period.window_days / period.baseline_days
    p_value = poisson.upper_tail(observed, expected)
    if p_value >= settings.alpha:
        return None
    return {
        "observed": observed,
        "expected": round(expected, 4),
        "limit": poisson.control_limit(expected, settings.alpha),
        "p_value": p_value,
        "alpha": settings.alpha,
        "window": {"start": period.window_start.isoformat(), "end": period.last_day.isoformat()},
        "baseline": {
            "start": period.baseline_start.isoformat(),
            "end": (period.window_start - timedelta(days=1)).isoformat(),
            "cases": baseline,
            "months": settings.baseline_months,
        },
    }


def rise_severity(figures: dict[str, Any]) -> str:
    return Severity.HIGH if figures["p_value"] < figures["alpha"] / 10 else Severity.MEDIUM


def _split(counts: Counter[tuple[str, date, str, str]], period: Period) -> tuple[Counter[Any], Counter[Any]]:
    """The breakdown's counts by (child, dimension, code), in the window and in the baseline."""
    window: Counter[Any] = Counter()
    baseline: Counter[Any] = Counter()
    for (child, month, dimension, code), n in counts.items():
        (window if month >= period.window_start else baseline)[(child, dimension, code)] += n
    return window, baseline


def unit_counts(period: Period) -> list[tuple[OrgUnit, int, int]]:
    """Each county-level unit with its cases in the window and in the baseline (one breakdown per parent of such
    units: it counts all its sub-units by month)."""
    counties = list(OrgUnit.objects.filter(level=OrgLevel.COUNTY).select_related("parent").order_by("path"))
    by_parent: dict[int | None, list[OrgUnit]] = defaultdict(list)
    for county in counties:
        by_parent[county.parent_id].append(county)
    counted = []
    for members in by_parent.values():
        over = members[0].parent or members[0]
        counts = selectors.case_breakdown(
            unit=over, start=period.baseline_start, end=period.window_end, dims=[_COUNT_DIMENSION], officers=False
        ).cases
        window, baseline = _split(counts, period)
        for county in members:
            # A county without a parent was counted over itself: every count is its own.
            mine = county.path if over != county else None
            observed = sum(n for (child, _d, _c), n in window.items() if mine is None or child == mine)
            before = sum(n for (child, _d, _c), n in baseline.items() if mine is None or child == mine)
            counted.append((county, observed, before))
    return counted


def unit_rises(period: Period, settings: WarningSettings) -> list[Condition]:
    """A rise warning for each county-level unit whose cases rose against its own baseline."""
    found = []
    for county, observed, before in unit_counts(period):
        figures = rise_figures(observed, before, period, settings)
        if figures is not None:
            found.append(
                Condition(
                    kind=WarningKind.UNIT_RISE,
                    severity=rise_severity(figures),
                    owner_unit=county,
                    key=f"{WarningKind.UNIT_RISE}:{county.pk}:{period.last_day.isoformat()}",
                    figures=figures,
                )
            )
    return found


def _scenario_code(dimension: str, code: str) -> str:
    return code.partition(":")[2] if dimension == dimensions.SCENARIO else code


def scenario_rises(period: Period, settings: WarningSettings) -> list[Condition]:
    """A rise warning for each duty scenario and place category whose cases rose in a province."""
    found = []
    for province in OrgUnit.objects.filter(level=OrgLevel.PROVINCE).order_by("path"):
        counts = selectors.case_breakdown(
            unit=province,
            start=period.baseline_start,
            end=period.window_end,
            dims=SCENARIO_DIMENSIONS,
            officers=False,
        ).cases
        window, baseline = Counter[tuple[str, str]](), Counter[tuple[str, str]]()
        for (_child, month, dimension, code), n in counts.items():
            watched = _scenario_code(dimension, code)
            if watched:
                (window if month >= period.window_start else baseline)[(dimension, watched)] += n
        for dimension, code in sorted(set(window)):
            figures = rise_figures(window[(dimension, code)], baseline[(dimension, code)], period, settings)
            if figures is not None:
                found.append(
                    Condition(
                        kind=WarningKind.SCENARIO_RISE,
                        severity=rise_severity(figures),
                        owner_unit=province,
                        key=f"{WarningKind.SCENARIO_RISE}:{province.pk}:{dimension}:{code}:{period.last_day.isoformat()}",
                        figures={**figures, "dimension": dimension, "code": code},
                    )
                )
    return found


def repeat_attackers() -> list[Condition]:
    """A warning for each open case with a suspect matched to an earlier case against police."""
    return [
        Condition(
            kind=WarningKind.REPEAT_ATTACKER,
            severity=Severity.MEDIUM if case.prior_attack_on_police is True else Severity.LOW,
            owner_unit=case.unit,
            key=f"{WarningKind.REPEAT_ATTACKER}:{case.pk}",
            figures={
                "ref": case.reference,
                "suspects": matched,
                "prior_attack_on_police": case.prior_attack_on_police is True,
            },
            case=case,
        )
        for case, matched in selectors.open_cases_with_repeat_suspects()
    ]


def _months_before(moment: datetime, months: int) -> datetime:
    local = timezone.localtime(moment)
    first = add_months(local.date().replace(day=1), -months)
    day = min(local.day, (add_months(first, 1) - timedelta(days=1)).day)
    return local.replace(year=first.year, month=first.month, day=day)


def repeat_victims(now: datetime, settings: WarningSettings) -> list[Condition]:
    """A warning for each welfare prompt of the last twelve months that reaches the threshold."""
    found = []
    for prompt in selectors.welfare_prompts_since(_months_before(now, REPEAT_VICTIM_MONTHS)):
        if prompt.attacks < settings.repeat_victim_threshold:
            continue
        high = prompt.attacks >= settings.repeat_victim_threshold + REPEAT_VICTIM_HIGH_ABOVE
        found.append(
            Condition(
                kind=WarningKind.REPEAT_VICTIM,
                severity=Severity.HIGH if high else Severity.MEDIUM,
                owner_unit=prompt.case.unit,
                key=f"{WarningKind.REPEAT_VICTIM}:{prompt.pk}",
                figures={
                    "ref": prompt.case.reference,
                    "officer": prompt.officer_name,
                    "attacks": prompt.attacks,
                    "attacked_at": prompt.attacked_at.isoformat(),
                    "threshold": settings.repeat_victim_threshold,
                },
                case=prompt.case,
            )
        )
    return found


def conditions(now: datetime, settings: WarningSettings) -> list[Condition]:
    """Every condition that holds as of ``now`` (the rises of the window before its month)."""
    period = period_as_of(timezone.localdate(now), settings)
    return [
        *unit_rises(period, settings),
        *scenario_rises(period, settings),
        *repeat_attackers(),
        *repeat_victims(now, settings),
    ]
