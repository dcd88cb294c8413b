"""``--limit N``: a seeded, class-stratified subset of a dataset for a quick look.

The subset holds ``N`` images of each dataset (of each corruption and severity for ImageNet-C,
so every group the metric averages over is present). Images are drawn class by class in rounds:
the classes are put in a seeded random order and each round takes the next image (in a seeded
random order within the class) of every class that still has one, until ``N`` images are chosen.
So every class gets ``⌊N / K⌋`` or ``⌈N / K⌉`` images when it has enough, and the same seed always
gives the same images. The chosen indices are returned sorted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def stratified_subset(targets: np.ndarray, limit: int, *, seed: int = 0) -> np.ndarray:
    """Indices (sorted, int64) of ``min(limit, len(targets))`` images, stratified by target.

    Vectorised: each image gets its depth (rank within its class in a seeded random order) and
    its class's seeded rank; the first ``limit`` images by (depth, class rank) are kept.
    """
    targets = np.asarray(targets)
    if limit < 1:
        raise ValueError(f"Expected limit to be a positive integer, but got {limit}")
    n = len(targets)
    if limit >= n:
        return np.arange(n, dtype=np.int64)

    rng = np.random.default_rng(seed)
    classes, codes = np.unique(targets, return_inverse=True)
    class_rank = rng.permutation(len(classes))[codes]
    order = np.lexsort((rng.random(n), codes))  # by class, then a random key
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    depth = np.empty(n, dtype=np.int64)
    depth[order] = np.arange(n) - starts
    chosen = np.lexsort((class_rank, depth))[:limit]
    return np.sort(chosen).astype(np.int64)


def grouped_stratified_subset(
    targets: np.ndarray,
    groups: Mapping[str, np.ndarray] | None,
    limit: int,
    *,
    seed: int = 0,
) -> np.ndarray:
    """:func:`stratified_subset` within each group of images sharing the values of ``groups``.

    ``groups`` maps metadata names (e.g. ``corruption``, ``severity``) to per-image arrays;
    ``None`` or empty means one group. Each group contributes ``min(limit, group size)`` images,
    drawn with the same seed.
    """
    targets = np.asarray(targets)
    if not groups:
        return stratified_subset(targets, limit, seed=seed)
    combined = np.zeros(len(targets), dtype=np.int64)
    for values in groups.values():
        _, codes = np.unique(np.asarray(values), return_inverse=True)
        combined = combined * (int(codes.max(initial=0)) + 1) + codes
    order = np.argsort(combined, kind="stable")
    boundaries = np.flatnonzero(np.diff(combined[order])) + 1
    parts = [
        members[stratified_subset(targets[members], limit, seed=seed)]
        for members in np.split(order, boundaries)
        if len(members)
    ]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
