"""Class balance against a pandas groupby; the robustness combinations against their formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from quba.metrics import (
    adversarial_robustness,
    class_balance,
    class_balance_terms,
    corruption_robustness,
    draw_counts,
    geometric_mean,
    object_focus,
    ood_robustness,
    relative_accuracy,
    softmax,
)


def _balance_by_pandas(probs: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    frame = pd.DataFrame(
        {
            "y": target,
            "correct": (probs.argmax(axis=1) == target).astype(float),
            "p": probs[np.arange(len(target)), target],
        }
    )
    groups = frame.groupby("y")
    acc_term = 1 - groups["correct"].mean().std(ddof=1)
    prob_term = 1 - groups["p"].std(ddof=0).mean()
    return acc_term, prob_term


def test_class_balance_matches_a_groupby_computation():
    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(size=(500, 12)) * 2)
    target = rng.integers(0, 10, 500)  # two classes have no images
    acc_term, prob_term = _balance_by_pandas(probs, target)
    got = class_balance(probs, target)
    assert got.accuracy_term == pytest.approx(acc_term, abs=1e-12)
    assert got.probability_term == pytest.approx(prob_term, abs=1e-12)
    assert got.value == pytest.approx(math.sqrt(acc_term * prob_term), abs=1e-12)
    assert got.num_classes == 10


def test_class_balance_of_a_single_class_is_undefined():
    probs = softmax(np.random.default_rng(1).normal(size=(20, 3)))
    got = class_balance(probs, np.zeros(20, dtype=np.int64))
    assert got.value is None and got.accuracy_term is None
    assert got.probability_term == pytest.approx(1 - np.std(probs[:, 0]))


def test_weighted_class_balance_terms_equal_terms_on_resampled_images():
    rng = np.random.default_rng(2)
    probs = softmax(rng.normal(size=(200, 6)))
    target = rng.integers(0, 6, 200)
    correct = probs.argmax(axis=1) == target
    true_prob = probs[np.arange(200), target]
    counts = draw_counts(200, 3, rng)
    acc_term, prob_term = class_balance_terms(correct, true_prob, target, 6, counts)
    for r, w in enumerate(counts):
        index = np.repeat(np.arange(200), w)
        expected = _balance_by_pandas(probs[index], target[index])
        assert acc_term[r] == pytest.approx(expected[0], abs=1e-12)
        assert prob_term[r] == pytest.approx(expected[1], abs=1e-12)


def test_geometric_mean():
    assert geometric_mean([4.0, 9.0]) == pytest.approx(6.0)
    assert geometric_mean([0.5, 0.0, 2.0]) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        geometric_mean([1.0, -1.0])
    with pytest.raises(ValueError, match="at least one value"):
        geometric_mean([])


def test_relative_robustness_combinations():
    assert relative_accuracy(0.4, 0.8) == 0.5
    assert relative_accuracy(0.4, 0.0) is None
    assert adversarial_robustness(0.1, 0.4, 0.8) == pytest.approx(math.sqrt(0.125 * 0.5))
    assert adversarial_robustness(0.0, 0.4, 0.8) == 0.0
    assert adversarial_robustness(0.1, 0.4, 0.0) is None
    accs = {("fog", 1): 0.6, ("fog", 2): 0.4, ("snow", 1): 0.2}
    assert corruption_robustness(accs, 0.8) == pytest.approx((0.6 + 0.4 + 0.2) / 3 / 0.8)
    assert corruption_robustness(accs, 0.0) is None
    ood = {"edge": 0.2, "sketch": 0.8}
    assert ood_robustness(ood, 0.5) == pytest.approx(math.sqrt(0.4 * 1.6))
    assert object_focus(0.9, 0.7, 0.8) == pytest.approx(1 - 0.2 / 0.8)
    assert object_focus(0.9, 0.7, 0.0) is None
    with pytest.raises(ValueError, match="at least one"):
        ood_robustness({}, 0.5)
