"""The arithmetic of the rise warnings (analysis/poisson.py, analysis/warnings.py): the Poisson upper tail against a
reference summed in 60-digit decimals, the control limit, and the window and baseline of a day. No database."""

import math
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest

from analysis import poisson
from analysis.backtest import expected_alarm_rate
from analysis.models import WarningSettings
from analysis.warnings import Period, add_months, period_as_of


def reference_tail(x: int, lam: Fraction | int, terms: int = 400) -> float:
    """P(N ≥ x) summed term by term in 60-digit decimals: e^-λ Σ_{k=x}^{x+terms} λ^k / k!."""
    with localcontext() as ctx:
        ctx.prec = 60
        lam_d = Decimal(Fraction(lam).numerator) / Decimal(Fraction(lam).denominator)
        term = (-lam_d).exp() * lam_d**x / Decimal(math.factorial(x))
        total = Decimal(0)
        for k in range(x, x + terms):
            total += term
            term = term * lam_d / Decimal(k + 1)
        return float(total)


def test_the_tail_of_one_case_is_one_minus_e_to_the_minus_lambda():
    assert poisson.upper_tail(1, 2.5) == pytest.approx(1 - math.exp(-2.5), rel=1e-14)


def test_the_tail_of_five_under_a_mean_of_one_is_exact():
    # 1 − e^-1 (1 + 1 + 1/2 + 1/6 + 1/24) = 1 − 65 / (24 e)
    assert poisson.upper_tail(5, 1.0) == pytest.approx(1 - 65 / (24 * math.e), rel=1e-13)
    assert round(poisson.upper_tail(5, 1.0), 12) == 0.003659846827


@pytest.mark.parametrize(
    ("x", "lam"),
    [
        (7, Fraction(184, 731)),  # the county of tests/analysis/warnings_dataset.py: a tail of about 1e-8
        (6, Fraction(184, 731)),  # the province's 110 calls
        (3, 2),  # below the mean: one minus the terms under x
        (20, 4),
        (1200, 1000),  # a large count, far in the tail, where 1 − CDF would have lost every digit
        (60, 1),  # a tail of about 1e-82
    ],
)
def test_the_tail_matches_a_sixty_digit_sum(x, lam):
    assert poisson.upper_tail(x, float(lam)) == pytest.approx(reference_tail(x, lam), rel=1e-12)


def test_the_tails_of_the_dataset():
    assert poisson.upper_tail(7, 184 / 731) == pytest.approx(1.0195069332e-08, rel=1e-10)
    assert poisson.upper_tail(6, 184 / 731) == pytest.approx(2.8482882865e-07, rel=1e-10)


def test_no_mean_means_no_case_and_no_count_is_certain():
    assert poisson.upper_tail(0, 3.0) == 1.0
    assert poisson.upper_tail(-2, 3.0) == 1.0
    assert poisson.upper_tail(1, 0.0) == 0.0
    assert poisson.upper_tail(5, 0.0) == 0.0


def test_a_negative_mean_is_refused():
    with pytest.raises(ValueError, match="Poisson mean"):
        poisson.upper_tail(3, -0.5)


def test_the_control_limit_is_the_smallest_count_under_the_level():
    # Mean 1: P(N ≥ 4) = 1 − e^-1 (1 + 1 + 1/2 + 1/6) = 0.01899 is not below 0.01; P(N ≥ 5) = 0.00366 is.
    assert poisson.upper_tail(4, 1.0) == pytest.approx(1 - 8 / (3 * math.e), rel=1e-13)
    assert poisson.control_limit(1.0, 0.01) == 5
    assert poisson.control_limit(1.0, 0.001) == 6
    assert poisson.control_limit(184 / 731, 0.01) == 3
    assert poisson.control_limit(0.0, 0.01) == 1
    assert poisson.control_limit(100.0, 0.01) == 125
    assert poisson.upper_tail(125, 100.0) < 0.01 <= poisson.upper_tail(124, 100.0)


def test_a_level_outside_zero_and_one_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        poisson.control_limit(1.0, 0.0)


def test_months_are_added_across_years():
    assert add_months(date(2026, 1, 1), -3) == date(2025, 10, 1)
    assert add_months(date(2025, 10, 1), -24) == date(2023, 10, 1)
    assert add_months(date(2025, 11, 1), 2) == date(2026, 1, 1)


def test_the_window_is_the_last_whole_months_before_the_day_and_the_baseline_before_it():
    # 24 months: the baseline of the hand-built dataset's figures (tests/analysis/warnings_dataset.py).
    period = period_as_of(date(2026, 1, 15), WarningSettings(baseline_months=24))
    assert period == Period(
        baseline_start=date(2023, 10, 1), window_start=date(2025, 10, 1), window_end=date(2026, 1, 1)
    )
    assert (period.window_days, period.baseline_days, period.last_day) == (92, 731, date(2025, 12, 31))
    # Any day of the month gives the same window: a daily job evaluates it once per month.
    assert period_as_of(date(2026, 1, 1), WarningSettings(baseline_months=24)) == period
    assert period_as_of(date(2026, 1, 31), WarningSettings(baseline_months=24)) == period
    # The default baseline is the 12 months before the window.
    assert period_as_of(date(2026, 1, 15), WarningSettings()) == Period(
        baseline_start=date(2024, 10, 1), window_start=date(2025, 10, 1), window_end=date(2026, 1, 1)
    )


@pytest.mark.parametrize(("days", "months"), [(28, 1), (44, 1), (45, 2), (90, 3), (100, 3), (105, 4), (366, 12)])
def test_the_window_is_the_nearest_whole_number_of_months(days, months):
    assert WarningSettings(window_days=days).window_months == months


def brute_alarm_rate(window_mean: Fraction, scale: Fraction, alpha: float, min_cases: int, trend: Fraction) -> float:
    """Σ_b P(B = b) P(X ≥ max(limit(b), min)), every term from the 60-digit reference, b up to far in the tail."""
    baseline_mean = window_mean / scale
    total = 0.0
    for b in range(0, 200):
        weight = reference_tail(b, baseline_mean) - reference_tail(b + 1, baseline_mean)
        expected = b * scale
        limit = 1
        while reference_tail(limit, expected) >= alpha:
            limit += 1
        total += weight * reference_tail(max(limit, min_cases), trend * window_mean)
    return total


@pytest.mark.parametrize(
    ("mean", "min_cases", "trend"), [(Fraction(2), 1, Fraction(1)), (Fraction(6), 5, Fraction(3, 2))]
)
def test_the_expected_alarm_rate_is_the_sum_over_every_baseline(mean, min_cases, trend):
    settings = WarningSettings(alpha=0.01, baseline_months=24, min_cases=min_cases)
    period = period_as_of(date(2026, 1, 15), settings)  # 92 days against 731
    rate = expected_alarm_rate(window_mean=float(mean), period=period, settings=settings, trend=float(trend))
    assert rate == pytest.approx(brute_alarm_rate(mean, Fraction(92, 731), 0.01, min_cases, trend), rel=1e-9)


def test_a_steady_caseload_raises_about_alpha_and_a_growing_one_more():
    settings = WarningSettings(alpha=0.01, baseline_months=24)
    period = period_as_of(date(2026, 6, 15), settings)
    steady = expected_alarm_rate(window_mean=135, period=period, settings=settings)
    growing = expected_alarm_rate(window_mean=135, period=period, settings=settings, trend=1.053)
    assert (round(steady, 4), round(growing, 4)) == (0.0132, 0.0511)


def test_the_defaults_keep_false_alarms_rare_on_a_growing_caseload():
    # alpha 0.001 over a 12-month baseline (docs/early-warnings.md): for a county of ~135 cases a window, 0.28 % of
    # county-months when steady and 1.3 % when growing 5.3 % beyond its baseline, against 1.3 % and 5.1 % above.
    settings = WarningSettings()
    assert (settings.alpha, settings.baseline_months) == (0.001, 12)
    period = period_as_of(date(2026, 6, 15), settings)
    steady = expected_alarm_rate(window_mean=135, period=period, settings=settings)
    growing = expected_alarm_rate(window_mean=135, period=period, settings=settings, trend=1.053)
    assert (round(steady, 4), round(growing, 4)) == (0.0028, 0.0134)
