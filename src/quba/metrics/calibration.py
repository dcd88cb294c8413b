"""Calibration: expected calibration error (ECE), class-conditional adaptive calibration error
(ACE) and the calibration dimension gmean(ECE, ACE) (PROTOCOL.md, "Calibration error").

All functions take probabilities ``probs`` of shape (N, C) (apply :func:`quba.metrics.softmax`
to logits first) and integer class labels ``target`` of shape (N,).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from quba.metrics._arrays import check_scores_and_target, log_softmax_normalizer


def _check_bins(n_bins: int) -> None:
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(
            f"Expected argument `n_bins` to be an integer larger than 0, but got {n_bins}"
        )


@functools.cache
def _ece_edges(n_bins: int) -> np.ndarray:
    """The float32 bin edges of torchmetrics, i.e. ``torch.linspace(0, 1, n_bins + 1)`` in
    float32, reproduced in numpy: a float32 step, each edge ``start + i * step`` (first half) or
    ``end - (n_bins - i) * step`` (second half) rounded once to float32. Confidences on an edge
    thereby land in the same bin as in torchmetrics (tested against torch)."""
    step = np.float64(np.float32(1.0) / np.float32(n_bins))
    index = np.arange(n_bins + 1, dtype=np.float64)
    low = index * step
    high = 1.0 - (n_bins - index) * step
    return np.where(index < (n_bins + 1) // 2, low, high).astype(np.float32)


def ece_bin_index(confidence: np.ndarray, n_bins: int = 15) -> np.ndarray:
    """ECE bin of each confidence: ``b`` with ``edge_b <= c < edge_{b+1}`` on 15 equal-width
    edges of [0, 1]; ``c = 1`` gets bin ``n_bins`` of its own. As in torchmetrics, confidences are
    compared in float32 with ``torch.linspace`` edges (``bucketize(right=True) - 1``)."""
    edges = _ece_edges(int(n_bins))
    return np.searchsorted(edges, np.asarray(confidence).astype(np.float32), side="right") - 1


def expected_calibration_error(probs: Any, target: Any, n_bins: int = 15) -> float:
    """Top-label expected calibration error with equal-width bins.

    ``ECE = sum_b (n_b / N) |acc_b - conf_b|`` where ``conf = max_k p_k``, ``acc = [argmax p == y]``
    and bin ``b`` holds ``b/n_bins <= conf < (b+1)/n_bins`` (a confidence of exactly 1.0 forms a
    bin of its own). Equals torchmetrics' ``MulticlassCalibrationError(n_bins, norm="l1")`` on
    probabilities (argmax ties resolve to the first maximal class, as in torch).

    Args:
        probs: (N, C) probabilities.
        target: (N,) class indices.
        n_bins: number of equal-width bins on [0, 1].
    """
    _check_bins(n_bins)
    probs, target = check_scores_and_target(probs, target)
    if len(target) == 0:
        raise ValueError("Expected at least one sample to compute the ECE, but got none")
    probs = probs.astype(np.float64, copy=False)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == target).astype(np.float64)
    return ece_from_confidence(confidence, correct, n_bins)


def ece_from_confidence(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """ECE from per-sample top-label confidences and 0/1 correctness (see above)."""
    bins = ece_bin_index(confidence, n_bins)
    count = np.bincount(bins, minlength=n_bins + 1).astype(np.float64)
    acc = np.bincount(bins, weights=correct, minlength=n_bins + 1)
    conf = np.bincount(bins, weights=confidence, minlength=n_bins + 1)
    return float(np.abs(acc - conf).sum() / count.sum())


def _ace_one_class(q: np.ndarray, t: np.ndarray, n_bins: int) -> float:
    keep = q > 0
    q, t = q[keep], t[keep]
    n = len(q)
    if n == 0:
        return 0.0
    order = np.argsort(q, kind="stable")
    q, t = q[order], t[order]
    lower = np.minimum(np.round(np.arange(n_bins) * n / n_bins).astype(np.int64), n - 1)
    upper = np.append(q[lower[1:]], 1.0)
    bins = np.searchsorted(upper, q, side="right")  # upper[b-1] <= q < upper[b]; q >= 1 -> n_bins
    sum_t = np.bincount(bins, weights=t, minlength=n_bins + 1)
    sum_q = np.bincount(bins, weights=q, minlength=n_bins + 1)
    return float(np.abs(sum_t - sum_q).sum() / n)


def adaptive_calibration_error(probs: Any, target: Any, n_bins: int = 15) -> float:
    """Class-conditional adaptive calibration error (Nixon et al. 2019), as PROTOCOL.md defines it.

    For each class ``k``: ``q_i = p_i[k]`` over the images with ``q_i > 0``, ``t_i = [y_i == k]``;
    with ``n`` values sorted, lower-edge positions ``min(round(j n / n_bins), n - 1)`` for
    ``j = 0..n_bins-1``; upper edges are the sorted values at positions ``1..n_bins-1`` followed by
    1.0; ``q`` falls in bin ``b`` when ``upper[b-1] <= q < upper[b]`` (``q >= 1`` in an extra bin);
    ``error_k = sum_b (n_b / n) |mean_b(t) - mean_b(q)|``. ``ACE = mean_k error_k`` over all ``C``
    classes of ``probs`` (a class with no positive probability contributes 0).

    Args:
        probs: (N, C) probabilities.
        target: (N,) class indices.
        n_bins: number of equal-mass bins per class.
    """
    _check_bins(n_bins)
    probs, target = check_scores_and_target(probs, target)
    if len(target) == 0:
        raise ValueError("Expected at least one sample to compute the ACE, but got none")
    num_classes = probs.shape[1]
    errors = [
        _ace_one_class(probs[:, k].astype(np.float64), (target == k).astype(np.float64), n_bins)
        for k in range(num_classes)
    ]
    return float(np.mean(errors))


def calibration_error(probs: Any, target: Any, n_bins: int = 15) -> float:
    """The calibration dimension: ``sqrt(ECE * ACE)`` (geometric mean; lower is better)."""
    return math.sqrt(
        expected_calibration_error(probs, target, n_bins)
        * adaptive_calibration_error(probs, target, n_bins)
    )


class AceReplicates:
    """ACE of many bootstrap replicates, exactly, without re-sorting.

    Each class's probabilities are sorted once. A replicate is a vector of per-image counts
    ``w`` (how often the image was drawn); in the fixed sort order the replicate's sorted
    sample is the sorted values repeated ``w`` times, so its equal-mass bin edges follow from the
    cumulative counts, and each bin's ``n_b``, ``sum t`` and ``sum q`` are differences of cumulative
    sums of ``w``, ``w t`` and ``w q`` at the bin starts. With ``w = 1`` this is
    :func:`adaptive_calibration_error`.

    Memory: one chunk of ``chunk`` classes x N values at a time; the cost is about ``R * N * C``
    element operations for ``R`` replicates.
    """

    def __init__(
        self, logits: np.ndarray, target: np.ndarray, n_bins: int = 15, chunk: int = 32
    ) -> None:
        _check_bins(n_bins)
        self.logits = np.asarray(logits)
        self.target = np.asarray(target, dtype=np.int64)
        self.n_bins = n_bins
        self.chunk = chunk
        self.normalizer = log_softmax_normalizer(self.logits)

    def compute(self, counts: np.ndarray) -> np.ndarray:
        """ACE for each row of ``counts`` (R, N) (non-negative integers); returns (R,)."""
        counts = np.atleast_2d(np.asarray(counts))
        num_rep, n = counts.shape
        if n != len(self.target):
            raise ValueError(
                f"Expected counts of shape (R, {len(self.target)}), got {counts.shape}"
            )
        num_classes = self.logits.shape[1]
        counts_int = counts.astype(np.int64)
        errors = np.zeros((num_rep, num_classes))
        for start in range(0, num_classes, self.chunk):
            stop = min(start + self.chunk, num_classes)
            errors[:, start:stop] = self._chunk(counts_int, start, stop)
        return errors.mean(axis=1)

    def _chunk(self, counts: np.ndarray, start: int, stop: int) -> np.ndarray:
        c = stop - start
        n = self.logits.shape[0]
        q = np.exp(self.logits[:, start:stop].astype(np.float64) - self.normalizer[:, None]).T
        order = np.argsort(q, axis=1, kind="stable")
        qs = np.take_along_axis(q, order, axis=1)
        ts = (self.target[order] == np.arange(start, stop)[:, None]).astype(np.int32)
        # dense rank of each sorted value, offset per row, so that "first position holding this
        # value" is one global searchsorted; exact for ties
        rank = np.zeros((c, n), dtype=np.int64)
        rank[:, 1:] = np.cumsum(np.diff(qs, axis=1) != 0, axis=1)
        rank += (np.arange(c) * (n + 1))[:, None]
        flat_rank = rank.ravel()
        zeros = (qs <= 0).sum(axis=1)  # q = 0 sorts first and is excluded
        ones = np.array([np.searchsorted(row, 1.0, side="left") for row in qs])
        # flattened row-major: prefix sums run over all rows at once, so row k's cumulative
        # counts start at k * sum(w) and the flat array is sorted for one global searchsorted
        flat_order = order.astype(np.intp).ravel()
        flat_q = qs.ravel()
        # the positives (t = 1) are few: their bins are looked up instead of summing t everywhere
        positive_at = np.flatnonzero(ts.ravel())
        positive_image = flat_order[positive_at]
        out = np.zeros((len(counts), c))
        # 32-bit cumulative counts halve the memory traffic; they hold c * sum(w) when it fits
        small = c * int(counts.sum(axis=1).max(initial=0)) < np.iinfo(np.int32).max
        count_type = np.int32 if small else np.int64
        cw = np.zeros(c * n + 1, dtype=count_type)
        cq = np.zeros(c * n + 1)
        j = np.arange(1, self.n_bins)
        row_start = np.arange(c) * n
        width = self.n_bins + 2  # bounds per row: q = 0 excluded, n_bins - 1 edges, 1.0, n
        for r, w in enumerate(counts):
            w = w.astype(count_type)
            ws = np.take(w, flat_order)
            np.cumsum(ws, out=cw[1:])
            np.multiply(ws, flat_q, out=cq[1:])
            np.cumsum(cq[1:], out=cq[1:])
            base = cw[row_start + zeros].astype(np.int64)
            total = cw[row_start + n].astype(np.int64) - base
            valid = total > 0
            m = np.minimum(np.round(j[None, :] * total[:, None] / self.n_bins), total[:, None] - 1)
            m = np.maximum(m, 0).astype(np.int64)
            # flat position p of the replicate's m-th value: the first p with cw[p + 1] > base + m
            targets = (base[:, None] + m).ravel().astype(count_type)
            pos = np.searchsorted(cw[1:], targets, side="right")
            first = np.searchsorted(flat_rank, flat_rank[np.minimum(pos, c * n - 1)], side="left")
            starts = (first - row_start.repeat(self.n_bins - 1)).reshape(c, -1)
            bounds = np.concatenate(
                [zeros[:, None], starts, ones[:, None], np.full((c, 1), n)], axis=1
            )
            bounds = np.maximum.accumulate(bounds, axis=1) + row_start[:, None]
            s_q = np.diff(cq[bounds], axis=1)
            # bin of each positive: the last bound at or before its position (a positive with
            # q = 0 falls on the previous row's end bound and is dropped)
            slot = np.searchsorted(bounds.ravel(), positive_at, side="right") - 1
            keep = (slot >= 0) & (slot % width < width - 1)
            s_t = np.bincount(slot[keep], weights=w[positive_image[keep]], minlength=c * width)
            s_t = s_t.reshape(c, width)[:, :-1]
            err = np.abs(s_t - s_q).sum(axis=1)
            out[r] = np.where(valid, err / np.maximum(total, 1), 0.0)
        return out
