"""Top-1-only predictions: the argmax without the (N, C) logits, loaded shard by shard."""

from __future__ import annotations

import numpy as np
import pytest

from quba.inference.cache import PredictionCache, Shard
from quba.inference.predictions import (
    LogitsUnavailableError,
    Predictions,
    strongest_need,
    top1_dtype,
    top1_of,
)
from quba.inference.runner import load_predictions


def tied_logits(rng, n: int, c: int) -> np.ndarray:
    """Logits out of three values, so that most rows have several maximal classes."""
    return rng.integers(0, 3, size=(n, c)).astype(np.float32)


def first_maximum(logits: np.ndarray) -> np.ndarray:
    """The first maximal class of each row, by a plain loop (independent of numpy's argmax)."""
    out = []
    for row in logits.tolist():
        best = max(row)
        out.append(row.index(best))
    return np.array(out)


def test_top1_is_the_first_maximum_in_the_smallest_integer_type():
    rng = np.random.default_rng(0)
    logits = tied_logits(rng, 200, 50)
    assert sum(int((row == row.max()).sum() > 1) for row in logits) > 150  # ties are common
    top1 = top1_of(logits)
    np.testing.assert_array_equal(top1, first_maximum(logits))
    assert top1.dtype == np.int16
    assert top1_dtype(1000) == np.int16 and top1_dtype(32_767) == np.int16
    assert top1_dtype(32_768) == np.int32 and top1_dtype(100_000) == np.int32


def test_predictions_with_logits_compute_top1_and_top1_only_ones_refuse_logits():
    rng = np.random.default_rng(1)
    logits = tied_logits(rng, 30, 7)
    targets, ids = rng.integers(0, 7, 30), np.arange(100, 130)
    full = Predictions(logits, targets, ids, {"severity": np.arange(30)})
    assert full.has_logits
    np.testing.assert_array_equal(full.top1, first_maximum(logits))

    only = full.without_logits()
    assert not only.has_logits
    np.testing.assert_array_equal(only.top1, full.top1)
    with pytest.raises(LogitsUnavailableError, match=r"only the top-1 class.*read \.top1"):
        _ = only.logits
    assert getattr(only, "logits", "absent") == "absent"  # an AttributeError, as getattr expects
    assert "top1 only" in repr(only)

    picked = only.aligned_to(np.array([129, 100, 105]))
    np.testing.assert_array_equal(picked.top1, full.top1[[29, 0, 5]])
    np.testing.assert_array_equal(picked.meta["severity"], [29, 0, 5])
    assert not picked.has_logits
    np.testing.assert_array_equal(full.select(np.arange(30) < 4).top1, full.top1[:4])


def test_predictions_check_their_shapes():
    with pytest.raises(
        ValueError, match=r"Expected logits \(N, C\) or top1 \(N,\), but got neither"
    ):
        Predictions.top1_only(None, np.zeros(3), np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected top1 as integers of shape \(3,\)"):
        Predictions.top1_only(np.zeros(4, np.int16), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"Expected top1 as integers"):
        Predictions.top1_only(np.zeros(3, np.float32), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="Expected logits"):
        Predictions(np.zeros((3, 2)), np.zeros(3), np.zeros(4))


def test_strongest_need():
    assert strongest_need(["top1", "logits", "top1"]) == "logits"
    assert strongest_need(["top1"]) == "top1"
    assert strongest_need([]) == "top1"


def test_loading_top1_reads_shard_by_shard_and_equals_the_argmax_of_the_logits(
    tmp_path, monkeypatch
):
    rng = np.random.default_rng(2)
    logits = tied_logits(rng, 45, 12)
    targets = rng.integers(0, 12, 45)
    entry = PredictionCache(tmp_path).entry({"k": "c"}, label="imagenet_c")
    skipped = np.array([7, 31])
    kept = np.setdiff1d(np.arange(47), skipped)
    bounds = [(0, 16), (16, 32), (32, 45)]
    for index, (start, stop) in enumerate(bounds):
        entry.write_shard(
            index,
            Shard(
                logits=logits[start:stop],
                targets=targets[start:stop],
                sample_ids=kept[start:stop],
                skipped=skipped[(skipped >= index * 16) & (skipped < index * 16 + 16)],
            ),
        )
    import quba.inference.runner as runner

    seen: list[tuple[int, ...]] = []

    def spy(array):
        seen.append(np.shape(array))
        return top1_of(array)

    monkeypatch.setattr(runner, "top1_of", spy)
    severity = np.arange(47) % 5
    top = load_predictions(entry, 3, metadata={"severity": severity}, need="top1")
    full = load_predictions(entry, 3, metadata={"severity": severity})

    assert seen == [(16, 12), (16, 12), (13, 12)]  # one shard at a time, never (45, 12)
    assert not top.has_logits and full.has_logits
    np.testing.assert_array_equal(full.logits, logits)
    np.testing.assert_array_equal(top.top1, first_maximum(logits))
    assert top.top1.dtype == np.int16
    np.testing.assert_array_equal(top.targets, full.targets)
    np.testing.assert_array_equal(top.sample_ids, kept)
    np.testing.assert_array_equal(top.meta["severity"], severity[kept])
    assert top.num_skipped == full.num_skipped == 2
    with pytest.raises(ValueError, match="Expected need to be one of"):
        load_predictions(entry, 3, need="probs")  # type: ignore[arg-type]
