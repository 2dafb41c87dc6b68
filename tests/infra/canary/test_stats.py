"""The split check's statistics: Wilson intervals and the answers a tolerance needs."""

from __future__ import annotations

import math

import pytest

from infra.canary import stats


def test_z_of_the_usual_confidences() -> None:
    assert stats.z_of(0.95) == pytest.approx(1.95996, abs=1e-4)
    assert stats.z_of(0.99) == pytest.approx(2.57583, abs=1e-4)


@pytest.mark.parametrize("confidence", [0.0, 0.49, 1.0, 1.5, math.nan])
def test_a_confidence_out_of_range_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError, match=r"allowed is 0\.5 to 0\.999"):
        stats.z_of(confidence)


def test_wilson_matches_a_worked_example() -> None:
    # 81 of 263 at 95 %: (0.2553, 0.3662), the example of Newcombe (1998), method 3.
    lo, hi = stats.wilson(81, 263, 0.95)
    assert lo == pytest.approx(0.2553, abs=1e-4)
    assert hi == pytest.approx(0.3662, abs=1e-4)


def test_wilson_at_the_edges_is_not_empty_where_wald_collapses() -> None:
    lo, hi = stats.wilson(0, 20, 0.99)
    assert lo == 0.0
    assert hi == pytest.approx(2.5758**2 / (20 + 2.5758**2), rel=1e-3)  # about 0.25
    lo, hi = stats.wilson(20, 20, 0.99)
    assert hi == 1.0
    assert lo == pytest.approx(1 - 2.5758**2 / (20 + 2.5758**2), rel=1e-3)


def test_wilson_of_nothing_knows_nothing() -> None:
    assert stats.wilson(0, 0, 0.99) == (0.0, 1.0)


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_refuses_impossible_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="need 0 <= successes <= n"):
        stats.wilson(k, n, 0.99)


def test_within_and_outside() -> None:
    assert stats.within((0.21, 0.29), 0.25, 0.05)
    assert not stats.within((0.19, 0.29), 0.25, 0.05)
    assert stats.outside((0.0, 0.19), 0.25, 0.05)
    assert stats.outside((0.31, 0.4), 0.25, 0.05)
    assert not stats.outside((0.15, 0.21), 0.25, 0.05)


@pytest.mark.parametrize(
    ("share", "tolerance", "confidence"),
    [
        (0.5, 0.05, 0.99),
        (0.5, 0.05, 0.95),
        (0.25, 0.05, 0.99),
        (0.05, 0.05, 0.99),
        (0.5, 0.1, 0.99),
    ],
)
def test_answers_needed_is_the_first_n_that_passes(
    share: float, tolerance: float, confidence: float
) -> None:
    n = stats.answers_needed(share, tolerance, confidence)
    assert stats.within(stats.wilson(round(share * n), n, confidence), share, tolerance)
    assert not stats.within(
        stats.wilson(round(share * (n - 1)), n - 1, confidence), share, tolerance
    )
    # Near 50 %, the normal approximation z²·p(1-p)/tol² is within a few percent.
    if share == 0.5:
        approx = stats.z_of(confidence) ** 2 * 0.25 / tolerance**2
        assert n == pytest.approx(approx, rel=0.05)


def test_the_edges_need_fewer_answers_than_the_middle() -> None:
    middle = stats.answers_needed(0.5, 0.05, 0.99)
    assert stats.answers_needed(0.05, 0.05, 0.99) < middle / 2
    assert stats.answers_needed(0.0, 0.05, 0.99) < stats.answers_needed(0.05, 0.05, 0.99)
    assert stats.answers_needed(1.0, 0.05, 0.99) == stats.answers_needed(0.0, 0.05, 0.99)


@pytest.mark.parametrize(
    ("share", "tolerance", "match"),
    [(1.5, 0.05, "share 1.5"), (0.5, 0.0, "tolerance 0.0"), (0.5, 1.0, "tolerance 1.0")],
)
def test_answers_needed_refuses_bad_inputs(share: float, tolerance: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        stats.answers_needed(share, tolerance, 0.99)


def test_answers_needed_stops_at_its_limit() -> None:
    with pytest.raises(ValueError, match="needs more than 100 answers"):
        stats.answers_needed(0.5, 0.01, 0.99, limit=100)
