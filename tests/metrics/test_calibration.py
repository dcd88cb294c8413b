"""ECE against torchmetrics; ACE against a direct transcription of PROTOCOL.md; the replicate
engine against ACE on explicitly resampled data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassCalibrationError

from quba.metrics import (
    AceReplicates,
    adaptive_calibration_error,
    calibration_error,
    draw_counts,
    expected_calibration_error,
    softmax,
)


def _torchmetrics_ece(probs: np.ndarray, target: np.ndarray) -> float:
    metric = MulticlassCalibrationError(num_classes=probs.shape[1], n_bins=15, norm="l1")
    return float(metric(torch.tensor(probs), torch.tensor(target)))


def _random_probs(rng, n, c, scale=3.0):
    return softmax(rng.normal(size=(n, c)) * scale)


@pytest.mark.parametrize(
    ("n", "c", "seed"), [(1000, 10, 0), (200, 2, 1), (3000, 100, 2), (7, 5, 3)]
)
def test_ece_equals_torchmetrics_on_random_inputs(n, c, seed):
    rng = np.random.default_rng(seed)
    probs = _random_probs(rng, n, c)
    target = rng.integers(0, c, n)
    assert expected_calibration_error(probs, target) == pytest.approx(
        _torchmetrics_ece(probs, target), abs=1e-6
    )


def test_ece_equals_torchmetrics_on_edge_cases():
    rng = np.random.default_rng(4)
    c = 3
    edges = np.arange(16) / 15  # confidences exactly on bin edges
    two = np.stack([edges, 1 - edges], axis=1)
    onehot = np.eye(c)[rng.integers(0, c, 40)]  # confidence exactly 1.0
    uniform = np.full((30, c), 1 / c)  # ties: argmax is the first class; 1/3 is an edge
    zeros = np.zeros((5, c))  # confidence exactly 0
    cases = [
        (np.pad(two, ((0, 0), (0, 1))), rng.integers(0, 2, 16)),
        (onehot, rng.integers(0, c, 40)),
        (uniform, rng.integers(0, c, 30)),
        (zeros, rng.integers(0, c, 5)),
        (_random_probs(rng, 50, c), np.zeros(50, dtype=np.int64)),  # a single class present
        (np.vstack([onehot, uniform, zeros]), np.zeros(75, dtype=np.int64)),
    ]
    for probs, target in cases:
        assert expected_calibration_error(probs, target) == pytest.approx(
            _torchmetrics_ece(probs, target), abs=1e-6
        )


def test_ece_of_perfectly_calibrated_onehots_is_zero_and_of_wrong_onehots_is_one():
    target = np.array([0, 1, 2, 1])
    assert expected_calibration_error(np.eye(3)[target], target) == 0.0
    assert expected_calibration_error(np.eye(3)[(target + 1) % 3], target) == 1.0


def _ace_transcribed(probs: np.ndarray, target: np.ndarray, n_bins: int = 15) -> float:
    """PROTOCOL.md's ACE, written as literally as possible with Python loops."""
    errors = []
    for k in range(probs.shape[1]):
        pairs = sorted(
            (float(probs[i, k]), 1.0 if target[i] == k else 0.0)
            for i in range(len(target))
            if probs[i, k] > 0
        )
        n = len(pairs)
        if n == 0:
            errors.append(0.0)
            continue
        values = [q for q, _ in pairs]
        lower_positions = [min(round(j * n / n_bins), n - 1) for j in range(n_bins)]
        upper = [values[p] for p in lower_positions[1:]] + [1.0]
        bins: dict[int, list[tuple[float, float]]] = {}
        for q, t in pairs:
            b = 0
            while b < n_bins and q >= upper[b]:
                b += 1
            bins.setdefault(b, []).append((q, t))
        error = 0.0
        for members in bins.values():
            mean_t = sum(t for _, t in members) / len(members)
            mean_q = sum(q for q, _ in members) / len(members)
            error += len(members) / n * abs(mean_t - mean_q)
        errors.append(error)
    return sum(errors) / len(errors)


@pytest.mark.parametrize(("n", "c", "seed"), [(400, 6, 0), (60, 3, 1), (10, 4, 2), (1, 3, 3)])
def test_ace_matches_the_transcribed_definition(n, c, seed):
    rng = np.random.default_rng(seed)
    probs = _random_probs(rng, n, c)
    target = rng.integers(0, c, n)
    assert adaptive_calibration_error(probs, target) == pytest.approx(
        _ace_transcribed(probs, target), abs=1e-12
    )


def test_ace_with_ties_zeros_and_ones_matches_the_transcribed_definition():
    rng = np.random.default_rng(5)
    c = 4
    probs = np.vstack(
        [
            np.full((20, c), 1 / c),  # ties
            np.eye(c)[rng.integers(0, c, 30)],  # exact 0 (excluded) and 1 (extra bin)
            np.round(_random_probs(rng, 50, c), 1),  # many repeated values, some zeros
        ]
    )
    target = rng.integers(0, c, len(probs))
    assert adaptive_calibration_error(probs, target) == pytest.approx(
        _ace_transcribed(probs, target), abs=1e-12
    )
    assert adaptive_calibration_error(probs, np.zeros(len(probs), dtype=np.int64)) == pytest.approx(
        _ace_transcribed(probs, np.zeros(len(probs), dtype=np.int64)), abs=1e-12
    )


def test_ace_replicates_equal_ace_on_explicitly_resampled_images():
    rng = np.random.default_rng(6)
    n, c = 120, 9
    logits = rng.normal(size=(n, c)) * 4
    logits[:10] = logits[0]  # identical images: ties in every class
    logits[10:12, 0] = 800.0  # probabilities of exactly 1 and 0 in float64
    target = rng.integers(0, c, n)
    probs = softmax(logits)
    counts = np.vstack([np.ones((1, n), dtype=np.int32), draw_counts(n, 6, rng)])
    engine = AceReplicates(logits, target, n_bins=15, chunk=4)
    got = engine.compute(counts)
    for r, w in enumerate(counts):
        index = np.repeat(np.arange(n), w)
        assert got[r] == pytest.approx(
            adaptive_calibration_error(probs[index], target[index]), abs=1e-12
        )


def test_calibration_error_is_the_geometric_mean_of_ece_and_ace():
    rng = np.random.default_rng(7)
    probs = _random_probs(rng, 300, 5)
    target = rng.integers(0, 5, 300)
    expected = math.sqrt(_torchmetrics_ece(probs, target) * _ace_transcribed(probs, target))
    assert calibration_error(probs, target) == pytest.approx(expected, abs=1e-6)


def test_calibration_accepts_torch_tensors():
    rng = np.random.default_rng(8)
    probs = _random_probs(rng, 50, 4)
    target = rng.integers(0, 4, 50)
    assert expected_calibration_error(torch.tensor(probs), torch.tensor(target)) == pytest.approx(
        expected_calibration_error(probs, target)
    )


def test_calibration_rejects_bad_arguments():
    probs = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="`n_bins` to be an integer larger than 0"):
        expected_calibration_error(probs, np.zeros(3, dtype=int), n_bins=0)
    with pytest.raises(ValueError, match=r"`target` of shape \(3,\)"):
        adaptive_calibration_error(probs, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"`target` values in \[0, 1\]"):
        expected_calibration_error(probs, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integer `target`"):
        expected_calibration_error(probs, np.array([0.0, 1.0, 1.0]))


def test_ece_bin_edges_equal_torchmetrics_float32_linspace():
    from quba.metrics.calibration import _ece_edges

    for n_bins in range(1, 101):
        expected = torch.linspace(0, 1, n_bins + 1, dtype=torch.float32).numpy()
        np.testing.assert_array_equal(_ece_edges(n_bins), expected)
