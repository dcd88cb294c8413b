"""Bootstrap confidence intervals: resample images with replacement, recompute the statistic.

A replicate is a vector of per-image counts ``w`` (how often each image was drawn; ``sum w = N``),
so every statistic is written as a function of weights and the per-image quantities
(correctness, confidence, true-class probability, ...) are computed once. The interval is the
percentile interval of the replicate values at the requested confidence level.

Ratios resample their numerator and the clean set consistently: datasets made of the same
images (clean and attacked, clean and corrupted) share one draw over their common sample ids;
datasets of other images are drawn independently, each replicate index pairing one draw of each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval ``[low, high]`` at ``confidence`` from ``replicates``."""

    low: float
    high: float
    confidence: float
    replicates: int


def stream(seed: int, *labels: str) -> np.random.Generator:
    """A random generator for ``seed`` and a label path (e.g. the dimension key and dataset).

    Deriving each stream from its labels keeps every interval independent of the order in which
    dimensions are computed.
    """
    digest = hashlib.sha256("/".join(labels).encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def draw_counts(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial counts (replicates, n) int32: each row draws ``n`` of ``n`` items with
    replacement."""
    if n < 1:
        raise ValueError(f"Expected at least one item to resample, but got {n}")
    counts = np.empty((replicates, n), dtype=np.int32)
    for r in range(replicates):
        counts[r] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return counts


def counts_for(ids: np.ndarray, universe: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Columns of ``counts`` (drawn over the sorted unique ``universe`` ids) for ``ids``."""
    return counts[:, np.searchsorted(universe, ids)]


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of ``values``.

    Non-finite replicate values (a replicate where a ratio's denominator is zero) are dropped;
    if none is left the interval is ``(nan, nan)``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"Expected `confidence` in (0, 1), but got {confidence}")
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def weighted_mean(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``sum_i w_i v_i / sum_i w_i`` for each replicate row of ``counts``; nan where sum w = 0."""
    counts = np.atleast_2d(counts).astype(np.float64)
    total = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts @ np.asarray(values, dtype=np.float64)) / total
