"""How often the rise warnings would have been raised on the cases on record: the job's own conditions
(analysis/warnings.py), evaluated as of each day of a stretch and written nowhere. On data without real rises (the
demo's synthetic cases) every alarm is a false alarm, so the rate per unit-month is the false-alarm rate of the method
and its settings (docs/early-warnings.md). ``manage.py early_warning_backtest`` prints it."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from accounts.models import OrgLevel, OrgUnit
from analysis import warnings
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
        for condition in found[period]:
            result.alarms.setdefault(condition.key, condition)
            result.alarm_days[condition.key] += 1
    return result
