"""The Poisson upper tail and control limit behind the rise warnings (docs/early-warnings.md). Pure arithmetic with
``math``: no database, no Django, no scipy.

``upper_tail(x, lam)`` is P(N ≥ x) for N ~ Poisson(lam), summed term by term in log space (``lgamma``), so it stays
exact to double precision where a rise is raised (tiny tails, large counts) instead of losing it to 1 − CDF.
"""

import math

# Past the mode the terms shrink at least geometrically; a term this small against the sum changes nothing.
_NEGLIGIBLE = 1e-18
_MAX_TERMS = 100_000


def _log_pmf(k: int, lam: float) -> float:
    return k * math.log(lam) - lam - math.lgamma(k + 1)


def upper_tail(x: int, lam: float) -> float:
    """P(N ≥ x) for N ~ Poisson(``lam``); 1 for x ≤ 0, and for lam = 0 (N is then 0) 0 for any x ≥ 1."""
    if lam < 0 or math.isnan(lam):
        raise ValueError("A Poisson mean is a number from 0 up.")
    if x <= 0:
        return 1.0
    if lam == 0:
        return 0.0
    if x <= lam:
        # The tail is large here: one minus the few terms below x loses nothing that matters.
        below = math.fsum(math.exp(_log_pmf(k, lam)) for k in range(x))
        return max(0.0, 1.0 - below)
    terms = []
    k = x
    while k - x < _MAX_TERMS:
        term = math.exp(_log_pmf(k, lam))
        terms.append(term)
        if term == 0.0 or term < _NEGLIGIBLE * terms[0]:
            break
        k += 1
    return min(1.0, math.fsum(terms))


def control_limit(lam: float, alpha: float) -> int:
    """The upper control limit: the smallest count x with P(N ≥ x) < ``alpha`` under the mean ``lam``."""
    if not 0 < alpha < 1:
        raise ValueError("The significance level lies between 0 and 1.")
    x = max(1, math.floor(lam))
    while upper_tail(x, lam) >= alpha:
        x += 1
    return x
