"""Class balance (PROTOCOL.md): how evenly a classifier serves the classes.

``class_balance = gmean(1 - std_k(acc_k), 1 - mean_k std_{i in k}(p_i[y_i]))`` where ``acc_k`` is
the accuracy on the images of class ``k`` and its standard deviation is the sample one
(ddof = 1) over the classes that have images; the second term averages, over those classes, the
population standard deviation (ddof = 0) of the true-class probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from quba.metrics._arrays import check_scores_and_target


@dataclass(frozen=True)
class ClassBalance:
    """The class-balance value and its two terms; ``value`` is ``None`` when undefined (fewer
    than two classes with images, or a negative term)."""

    value: float | None
    accuracy_term: float | None
    probability_term: float
    num_classes: int


def class_balance_terms(
    correct: np.ndarray,
    true_prob: np.ndarray,
    target: np.ndarray,
    num_classes: int,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The two terms for each replicate row of ``counts`` (R, N) (default: one row of ones).

    Returns ``(1 - std_k acc_k, 1 - mean_k std_k p)``, each of shape (R,); the first is nan
    where fewer than two classes have images.
    """
    counts = np.ones((1, len(target))) if counts is None else np.atleast_2d(counts)
    correct = np.asarray(correct, dtype=np.float64)
    true_prob = np.asarray(true_prob, dtype=np.float64)
    acc_term = np.empty(len(counts))
    prob_term = np.empty(len(counts))
    for r, w in enumerate(counts.astype(np.float64)):
        n_k = np.bincount(target, weights=w, minlength=num_classes)
        present = n_k > 0
        n_k = n_k[present]
        acc_k = np.bincount(target, weights=w * correct, minlength=num_classes)[present] / n_k
        mean_p = np.bincount(target, weights=w * true_prob, minlength=num_classes)[present] / n_k
        mean_p2 = np.bincount(target, weights=w * true_prob**2, minlength=num_classes)
        var_p = np.maximum(mean_p2[present] / n_k - mean_p**2, 0.0)
        acc_term[r] = 1.0 - np.std(acc_k, ddof=1) if len(acc_k) > 1 else np.nan
        prob_term[r] = 1.0 - np.sqrt(var_p).mean()
    return acc_term, prob_term


def class_balance(probs: Any, target: Any) -> ClassBalance:
    """Class balance of (N, C) probabilities and (N,) class labels (see the module docstring)."""
    probs, target = check_scores_and_target(probs, target)
    if len(target) == 0:
        raise ValueError("Expected at least one sample to compute the class balance, but got none")
    correct = probs.argmax(axis=1) == target
    true_prob = probs[np.arange(len(target)), target]
    acc_term, prob_term = class_balance_terms(correct, true_prob, target, probs.shape[1])
    return make_class_balance(float(acc_term[0]), float(prob_term[0]), len(np.unique(target)))


def make_class_balance(acc_term: float, prob_term: float, num_classes: int) -> ClassBalance:
    """Combine the two terms with a geometric mean, ``None`` when undefined."""
    if not math.isfinite(acc_term) or acc_term < 0 or prob_term < 0:
        value = None
    else:
        value = math.sqrt(acc_term * prob_term)
    return ClassBalance(
        value=value,
        accuracy_term=acc_term if math.isfinite(acc_term) else None,
        probability_term=prob_term,
        num_classes=num_classes,
    )
