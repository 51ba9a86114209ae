"""``manage.py early_warning_backtest``: how often the rise warnings would have been raised over a stretch of days,
without writing anything (analysis/backtest.py)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from analysis import selectors, services
from analysis.backtest import backtest, expected_alarm_rate
from analysis.choices import WarningKind
from analysis.models import WarningSettings


class Command(BaseCommand):
    help = (
        "Evaluate the unit-rise and scenario-rise conditions as of each day of a stretch (default: the 365 days up to "
        "today) with the settings in force (or those given), and print the alarms per unit-month. Writes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=365, help="How many days to evaluate (default 365).")
        parser.add_argument("--until", help="The last day evaluated, YYYY-MM-DD (default: today).")
        parser.add_argument("--alarms", action="store_true", help="List each alarm with its figures.")
        # Other settings to try, without saving them (the settings in force otherwise).
        parser.add_argument("--window-days", type=int, help="Try this window instead of the one in force.")
        parser.add_argument("--baseline-months", type=int, help="Try this baseline instead of the one in force.")
        parser.add_argument("--alpha", type=float, help="Try this significance level instead of the one in force.")
        parser.add_argument("--min-cases", type=int, help="Try this minimum instead of the one in force.")

    def handle(self, *args: Any, **options: Any) -> None:
        until = parse_date(options["until"]) if options["until"] else timezone.localdate()
        if until is None:
            raise CommandError("--until takes a date, YYYY-MM-DD.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        current = selectors.current_settings()
        values = {name: getattr(current, name) for name in services.SETTING_FIELDS}
        values.update({name: options[name] for name in services.SETTING_FIELDS if options.get(name) is not None})
        errors = services.warning_settings_errors(**values)
        if errors:
            raise CommandError(" ".join(f"{name}: {message}" for name, message in errors.items()))
        settings = WarningSettings(**values, changed_at=timezone.now())
        result = backtest(last_day=until, days=options["days"], settings=settings)
        out = self.stdout.write
        out(
            f"{result.first_day} to {result.last_day}: {result.days} days, {len(result.windows)} windows "
            f"({result.windows[0].window_start} … {result.windows[-1].last_day}); window {settings.window_months} "
            f"months, baseline {settings.baseline_months} months, alpha {settings.alpha}, "
            f"minimum {settings.min_cases} cases"
        )
        for kind, tested, what in (
            (WarningKind.UNIT_RISE, result.unit_months, f"county-months ({result.counties} counties)"),
            (WarningKind.SCENARIO_RISE, result.scenario_months, f"province-code-months ({result.provinces} provinces)"),
        ):
            raised = result.raised(kind)
            out(f"{kind}: {len(raised)} alarms in {tested} {what}: {result.rate(kind):.4f} per unit-month")
        typical, trend = result.typical_expected, result.trend
        if typical:
            period = result.windows[-1]
            steady = expected_alarm_rate(window_mean=typical, period=period, settings=settings)
            trending = expected_alarm_rate(window_mean=typical, period=period, settings=settings, trend=trend)
            out(
                f"the median county expects {typical:.1f} cases a window; the counties had {trend:.3f} times what "
                f"their baselines expected. A steady Poisson caseload of that size would raise {steady:.4f} per "
                f"unit-month; with that trend {trending:.4f}"
            )
        if options["alarms"]:
            for key, condition in sorted(result.alarms.items()):
                f = condition.figures
                out(
                    f"  {key} ({condition.owner_unit.code}): observed {f['observed']}, expected {f['expected']:.2f}, "
                    f"limit {f['limit']}, p {f['p_value']:.2g}, {condition.severity}, {result.alarm_days[key]} days"
                )
