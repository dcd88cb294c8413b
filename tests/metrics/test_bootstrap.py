"""Bootstrap draws and percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest

from quba.metrics.bootstrap import (
    counts_for,
    draw_counts,
    percentile_interval,
    stream,
    weighted_mean,
)


def test_draw_counts_resamples_n_of_n_and_is_seeded():
    counts = draw_counts(50, 20, stream(0, "a"))
    assert counts.shape == (20, 50) and np.all(counts.sum(axis=1) == 50) and counts.min() >= 0
    np.testing.assert_array_equal(counts, draw_counts(50, 20, stream(0, "a")))
    assert not np.array_equal(counts, draw_counts(50, 20, stream(0, "b")))
    assert not np.array_equal(counts, draw_counts(50, 20, stream(1, "a")))
    with pytest.raises(ValueError, match="at least one item"):
        draw_counts(0, 3, stream(0))


def test_counts_for_picks_the_columns_of_the_given_ids():
    universe = np.array([3, 7, 9])
    counts = np.array([[1, 2, 0], [0, 0, 3]])
    np.testing.assert_array_equal(counts_for(np.array([9, 3]), universe, counts), [[0, 1], [3, 0]])


def test_percentile_interval_equals_numpy_quantiles_and_drops_nan():
    values = np.arange(1001, dtype=float)
    assert percentile_interval(values) == pytest.approx((25.0, 975.0))
    assert percentile_interval(np.append(values, np.nan), 0.9) == pytest.approx(
        tuple(np.quantile(values, [0.05, 0.95]))
    )
    low, high = percentile_interval(np.array([np.nan]))
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError, match="confidence"):
        percentile_interval(values, 1.5)


def test_weighted_mean_equals_mean_of_repeated_values():
    rng = np.random.default_rng(0)
    values = rng.random(30)
    counts = draw_counts(30, 4, rng)
    expected = [np.repeat(values, w).mean() for w in counts]
    np.testing.assert_allclose(weighted_mean(counts, values), expected)


def test_bootstrap_interval_of_a_mean_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    correct = (rng.random(4000) < 0.7).astype(float)
    reps = weighted_mean(draw_counts(4000, 400, stream(3, "x")), correct)
    low, high = percentile_interval(reps)
    half = 1.96 * np.sqrt(correct.mean() * (1 - correct.mean()) / 4000)
    assert low == pytest.approx(correct.mean() - half, abs=0.004)
    assert high == pytest.approx(correct.mean() + half, abs=0.004)
