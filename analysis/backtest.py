"""How often the rise warnings would have been raised on the cases on record: the job's own conditions
(analysis/warnings.py), evaluated as of each day of a stretch and written nowhere. On data without real rises (the
demo's synthetic cases) every alarm is a false alarm, so the rate per unit-month is the false-alarm rate of the method
and its settings (docs/early-warnings.md). ``manage.py early_warning_backtest`` prints it."""

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from accounts.models import OrgLevel, OrgUnit
from analysis import poisson, warnings
from analysis.choices import WarningKind
from analysis.models import WarningSettings
from cases.choices import DutyScenario, PlaceCategory

# The codes a scenario rise watches in each province each month: every duty scenario and every place category.
SCENARIO_CODES = len(DutyScenario) + len(PlaceCategory)


@dataclass
class Backtest:
    first_day: date
    last_day: date
    days: int = 0
    # The distinct windows the days fall in (a window is whole months: each day of a month shares one).
    windows: list[warnings.Period] = field(default_factory=list)
    counties: int = 0
    provinces: int = 0
    # Each alarm once (its key), with its figures; and how many days each was in force.
    alarms: dict[str, warnings.Condition] = field(default_factory=dict)
    alarm_days: Counter[str] = field(default_factory=Counter)
    # Each county's window: (observed, expected from its baseline), once per window.
    county_windows: list[tuple[int, float]] = field(default_factory=list)

    def raised(self, kind: str) -> list[warnings.Condition]:
        return [c for c in self.alarms.values() if c.kind == kind]

    @property
    def unit_months(self) -> int:
        """County-months evaluated: each county once per window."""
        return self.counties * len(self.windows)

    @property
    def scenario_months(self) -> int:
        """Province-code-months evaluated: each province, scenario and place once per window."""
        return self.provinces * SCENARIO_CODES * len(self.windows)

    @property
    def typical_expected(self) -> float:
        """The median county's expected cases in a window."""
        return statistics.median(e for _o, e in self.county_windows) if self.county_windows else 0.0

    @property
    def trend(self) -> float:
        """The counties' cases in their windows over what their baselines expected, all windows together."""
        expected = sum(e for _o, e in self.county_windows)
        return sum(o for o, _e in self.county_windows) / expected if expected else 1.0

    def rate(self, kind: str) -> float:
        tested = self.unit_months if kind == WarningKind.UNIT_RISE else self.scenario_months
        return len(self.raised(kind)) / tested if tested else 0.0


def backtest(*, last_day: date, days: int, settings: WarningSettings) -> Backtest:
    """The rise conditions as of each of the ``days`` days up to ``last_day``."""
    result = Backtest(first_day=last_day - timedelta(days=days - 1), last_day=last_day, days=days)
    result.counties = OrgUnit.objects.filter(level=OrgLevel.COUNTY).count()
    result.provinces = OrgUnit.objects.filter(level=OrgLevel.PROVINCE).count()
    found: dict[warnings.Period, list[warnings.Condition]] = {}
    for offset in range(days):
        day = result.first_day + timedelta(days=offset)
        period = warnings.period_as_of(day, settings)
        if period not in found:
            # Counts are by whole months of submission, all before the window's end: as of any day of the month the
            # conditions are those of its first day, so each window is evaluated once.
            found[period] = [*warnings.unit_rises(period, settings), *warnings.scenario_rises(period, settings)]
            result.windows.append(period)
            scale = period.window_days / period.baseline_days
            result.county_windows.extend((o, b * scale) for _unit, o, b in warnings.unit_counts(period))
        for condition in found[period]:
            result.alarms.setdefault(condition.key, condition)
            result.alarm_days[condition.key] += 1
    return result


def expected_alarm_rate(
    *, window_mean: float, period: warnings.Period, settings: WarningSettings, trend: float = 1.0
) -> float:
    """The chance that one unit raises a rise in one window when its cases arrive as a Poisson count of
    ``window_mean`` per window in the baseline (scaled to the window's length) and ``trend`` times that in the window:
    Σ_b P(B = b) · P(X ≥ max(limit(b), min_cases)), B the baseline count and X the window's, summed exactly over every
    b within ten standard deviations (the rest weighs nothing). With ``trend`` 1 it is the method's own false-alarm
    rate on a steady caseload of that size: above ``alpha`` by the uncertainty of the baseline, below it by the
    discreteness of small counts."""
    scale = period.window_days / period.baseline_days
    baseline_mean = window_mean / scale
    spread = 10 * math.sqrt(baseline_mean) + 10
    first = max(0, math.floor(baseline_mean - spread))
    rate, limit = 0.0, max(1, math.floor(first * scale))
    tails: dict[int, float] = {}
    for b in range(first, math.ceil(baseline_mean + spread) + 1):
        weight = math.exp(b * math.log(baseline_mean) - baseline_mean - math.lgamma(b + 1)) if baseline_mean else 1.0
        expected = b * scale
        # The limit never falls as b grows: each search starts from the last one.
        while poisson.upper_tail(limit, expected) >= settings.alpha:
            limit += 1
        threshold = max(limit, settings.min_cases)
        if threshold not in tails:
            tails[threshold] = poisson.upper_tail(threshold, trend * window_mean)
        rate += weight * tails[threshold]
    return rate
