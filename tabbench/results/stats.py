"""Student's t in plain Python (quantile, tail), the corrected resampled t-test and Holm: the
per-dataset leaderboard's intervals and tests without importing scipy.

scipy.stats takes most of a second to import, longer than the whole ``tabbench leaderboard``
command should. It agrees with ``scipy.stats.t.ppf`` to 1e-10 relative (tests/test_leaderboard.py).
"""

from __future__ import annotations

import math
from statistics import NormalDist


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (0.5 <= p < 1)."""
    if not 0.5 <= p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 <= p < 1 and df >= 1, got p={p}, df={df}")
    if df == 1:  # Cauchy
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    tail = 1 - p
    z = NormalDist().inv_cdf(p)
    t = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)  # Cornish-Fisher
    low, high = 0.0, math.inf
    for _ in range(200):  # Newton on the upper tail, kept inside a bracket
        excess = _upper_tail(t, df) - tail
        if excess > 0:
            low = t
        else:
            high = t
        step = excess / _density(t, df)
        following = t + step
        if not low < following < high:
            following = (low + high) / 2 if math.isfinite(high) else 2 * t + 1
        if abs(following - t) <= 1e-15 * t:
            return following
        t = following
    return t


def _density(t: float, df: int) -> float:
    log = (
        math.lgamma((df + 1) / 2)
        - math.lgamma(df / 2)
        - 0.5 * math.log(df * math.pi)
        - (df + 1) / 2 * math.log1p(t * t / df)
    )
    return math.exp(log)


def _upper_tail(t: float, df: int) -> float:
    """P(T > t) for t >= 0: half the regularized incomplete beta I_x(df/2, 1/2), x = df/(df + t²)."""
    return 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1 - front * _continued_fraction(b, a, 1 - x) / b


def _continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the incomplete beta's continued fraction (Numerical Recipes, betacf)."""
    tiny = 1e-300

    def guard(value: float) -> float:
        return value if abs(value) > tiny else tiny

    c, d = 1.0, 1 / guard(1 - (a + b) * x / (a + 1))
    result = d
    for m in range(1, 1000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 / guard(1 + numerator * d)
            c = guard(1 + numerator / c)
            result *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return result


def t_two_sided_p(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"t_two_sided_p needs df >= 1, got {df}")
    if math.isinf(t):
        return 0.0
    return min(1.0, 2 * _upper_tail(abs(t), df))


def corrected_variance_factor(n: int, test_train_ratio: float) -> float:
    """Nadeau & Bengio's (2003) factor for the variance of a mean over ``n`` resampled splits.

    The training parts of k-fold splits overlap, so the n scores are correlated and s²/n is too
    small; the corrected estimate is s² (1/n + n_test/n_train), with n_test/n_train = 1/(k - 1)
    for k folds. With ``test_train_ratio`` 0 (one fixed test split) it is the plain 1/n.
    """
    return 1 / n + test_train_ratio


def corrected_t_test(differences: list[float], test_train_ratio: float) -> float | None:
    """Two-sided p-value of the corrected resampled paired t-test that the mean difference is 0.

    None below two pairs. Differences without spread (common with accuracy on small splits, where
    every fold may differ by exactly one row) leave t undefined: then the exact sign test decides,
    p = 2^(1-n) when all n differences have the same sign, and 1 when they are all 0.
    """
    n = len(differences)
    if n < 2:
        return None
    mean = sum(differences) / n
    variance = sum((d - mean) ** 2 for d in differences) / (n - 1)
    if variance <= 1e-24 * max(1.0, mean * mean):
        return 1.0 if abs(mean) <= 1e-12 else min(1.0, 2.0 ** (1 - n))
    t = mean / math.sqrt(corrected_variance_factor(n, test_train_ratio) * variance)
    return t_two_sided_p(t, n - 1)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (step-down, kept monotone, capped at 1)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for position, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - position) * p_values[i]))
        adjusted[i] = running
    return adjusted
