"""Array conversion and a numerically stable softmax shared by the metric functions."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(values: Any, *, name: str = "array") -> np.ndarray:
    """``values`` as a numpy array; torch tensors are detached and moved to the CPU."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.dtype == object:
        raise ValueError(f"Expected argument `{name}` to be a numeric array, but got objects")
    return array


def check_scores_and_target(scores: Any, target: Any, *, name: str = "probs") -> tuple:
    """Validate a (N, C) score array and an (N,) integer target; return them as numpy."""
    scores = to_numpy(scores, name=name)
    target = to_numpy(target, name="target")
    if scores.ndim != 2:
        raise ValueError(f"Expected argument `{name}` of shape (N, C), but got {scores.shape}")
    if target.ndim != 1 or len(target) != len(scores):
        raise ValueError(
            f"Expected argument `target` of shape ({len(scores)},), but got {target.shape}"
        )
    if len(target) and not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"Expected an integer `target`, but got dtype {target.dtype}")
    if len(target) and (target.min() < 0 or target.max() >= scores.shape[1]):
        raise ValueError(
            f"Expected `target` values in [0, {scores.shape[1] - 1}], "
            f"but got values in [{target.min()}, {target.max()}]"
        )
    return scores, target.astype(np.int64, copy=False)


def softmax(logits: Any, axis: int = -1) -> np.ndarray:
    """Softmax in float64, stable for any finite logits: ``exp(z - max z) / sum exp(z - max z)``.

    Args:
        logits: array of shape (..., C) (numpy or torch).
        axis: the class axis.

    Returns:
        float64 probabilities of the same shape, summing to 1 along ``axis``.
    """
    z = to_numpy(logits, name="logits").astype(np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


def log_softmax_normalizer(logits: np.ndarray) -> np.ndarray:
    """Per-row ``max z + log sum exp(z - max z)`` in float64, so ``p_ik = exp(z_ik - lse_i)``."""
    z = np.asarray(logits)
    top = z.max(axis=1).astype(np.float64)
    total = np.zeros(len(z), dtype=np.float64)
    for start in range(0, len(z), 4096):
        block = z[start : start + 4096].astype(np.float64) - top[start : start + 4096, None]
        total[start : start + 4096] = np.exp(block).sum(axis=1)
    return top + np.log(total)
