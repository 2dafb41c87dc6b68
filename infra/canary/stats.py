"""The statistics of the split check: a Wilson score interval for a share of answers, and the
number of answers that interval needs to be inside a tolerance.

Why Wilson: the share is a binomial proportion (each answer is the candidate's or not), and the
weights the check meets most are near the edges (5 %, 0 %, 100 %). There the textbook normal
("Wald") interval p ± z·sqrt(p(1-p)/n) collapses to a width of zero when no answer (or every
answer) is the candidate's, and so would accept a weight of 5 % after 20 answers that were all
the live color's. Wilson's interval stays inside [0, 1], is never empty and keeps close to its
stated coverage for small n and extreme p (Brown, Cai and DasGupta, "Interval Estimation for a
Binomial Proportion", Statistical Science 16(2), 2001), without the conservatism and the
iterative search of the exact Clopper-Pearson interval.
"""

from __future__ import annotations

import math
from statistics import NormalDist

#: The confidences a check may state: at most 0.999 (z = 3.29); 1 would need infinite samples.
MIN_CONFIDENCE, MAX_CONFIDENCE = 0.5, 0.999


def z_of(confidence: float) -> float:
    """The two-sided standard normal quantile of ``confidence`` (0.99 → 2.576)."""
    if not MIN_CONFIDENCE <= confidence <= MAX_CONFIDENCE:
        raise ValueError(
            f"confidence {confidence!r}: allowed is {MIN_CONFIDENCE} to {MAX_CONFIDENCE}"
        )
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n`` at ``confidence``; ``(0, 1)``
    (nothing known) when ``n`` is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n}: need 0 <= successes <= n")
    if n == 0:
        return 0.0, 1.0
    z = z_of(confidence)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return max(0.0, centre - half), min(1.0, centre + half)


def within(interval: tuple[float, float], target: float, tolerance: float) -> bool:
    """Whether the whole ``interval`` lies inside ``target ± tolerance``."""
    lo, hi = interval
    return target - tolerance <= lo and hi <= target + tolerance


def outside(interval: tuple[float, float], target: float, tolerance: float) -> bool:
    """Whether the whole ``interval`` lies outside ``target ± tolerance``: the share is, at the
    stated confidence, not the target."""
    lo, hi = interval
    return hi < target - tolerance or lo > target + tolerance


def answers_needed(share: float, tolerance: float, confidence: float, limit: int = 100_000) -> int:
    """The fewest answers whose Wilson interval lies inside ``share ± tolerance`` when the
    observed share is exactly ``share`` (rounded to whole answers): the least a check at that
    weight can take. Near 50 % that is about z²·p(1-p)/tolerance² (664 answers for ±5 % at
    99 %); near the edges far fewer, as the interval cannot leave [0, 1]."""
    if not 0 <= share <= 1:
        raise ValueError(f"share {share!r}: allowed is 0 to 1")
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance {tolerance!r}: allowed is more than 0 and less than 1")
    z_of(confidence)
    # The interval at n narrows as n grows, save for the rounding of share·n; a doubling search
    # then a linear scan keeps the answer exact without assuming monotony across rounding.
    n = 1
    while n <= limit:
        if within(wilson(round(share * n), n, confidence), share, tolerance):
            low = max(1, n // 2)
            for m in range(low, n + 1):
                if within(wilson(round(share * m), m, confidence), share, tolerance):
                    return m
        n *= 2
    raise ValueError(
        f"share {share} ± {tolerance} at {confidence}: needs more than {limit} answers"
    )
