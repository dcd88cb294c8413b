"""The prediction cache: atomic shards, keys, locks."""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pytest

from quba.inference.cache import (
    CACHE_FORMAT_VERSION,
    PredictionCache,
    Shard,
    digest_indices,
    digest_of,
    prediction_cache_key,
)


def key(**changes):
    fields = dict(
        spec="python:toy:net",
        weights_id="random-0",
        preprocessing={"resize": 8, "crop": 8},
        dataset_fingerprint="abc",
        prediction_key="imagenet_val",
        protocol_fields={},
        indices_digest="all",
        shard_size=16,
    )
    fields.update(changes)
    return prediction_cache_key(**fields)


def shard(n=5, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return Shard(
        logits=rng.normal(size=(n, c)).astype(np.float32),
        targets=rng.integers(0, c, n),
        sample_ids=np.arange(n) + 10,
        skipped=np.array([99]),
    )


def test_every_key_field_changes_the_entry():
    base = key()
    assert base["format"] == CACHE_FORMAT_VERSION and "torch" in base["versions"]
    variants = [
        key(spec="python:toy:other"),
        key(weights_id="sha256:1"),
        key(preprocessing={"resize": 9, "crop": 8}),
        key(dataset_fingerprint="abd"),
        key(prediction_key="imagenet_val:pgd"),
        key(protocol_fields={"eps": 0.1}),
        key(indices_digest=digest_indices(np.array([1, 2]))),
        key(shard_size=32),
    ]
    digests = {digest_of(base), *(digest_of(v) for v in variants)}
    assert len(digests) == len(variants) + 1
    assert digest_of(key()) == digest_of(base)  # stable
    assert "torchattacks" in key(prediction_key="imagenet_val:pgd")["versions"]
    assert "timm" in key(spec="timm:resnet18")["versions"]
    assert digest_indices(None) == "all"


def test_shard_round_trip_is_atomic_and_exact(tmp_path):
    entry = PredictionCache(tmp_path).entry(key(), label="imagenet_val:pgd")
    assert entry.path.name.startswith("imagenet_val_pgd-")
    assert not entry.has_shard(0) and entry.read_shard(0) is None
    original = shard()
    entry.write_shard(0, original)
    back = entry.read_shard(0)
    for name in ("logits", "targets", "sample_ids", "skipped"):
        np.testing.assert_array_equal(getattr(back, name), getattr(original, name))
    assert back.logits.dtype == np.float32 and back.targets.dtype == np.int64
    assert sorted(p.name for p in entry.path.iterdir()) == ["key.json", "shard-000000.npz"]
    assert not entry.is_finished
    entry.finish({"num_shards": 1})
    assert entry.is_finished
    entry.clear()
    assert not entry.path.exists()


def test_a_corrupt_shard_is_discarded(tmp_path):
    entry = PredictionCache(tmp_path).entry(key())
    entry.write_shard(3, shard())
    entry.shard_path(3).write_bytes(b"PK\x03\x04 truncated")
    assert entry.read_shard(3) is None
    assert not entry.has_shard(3)


def _hold_lock(path: str, started, seconds: float) -> None:
    entry = PredictionCache(path).entry(key())
    with entry.lock():
        started.set()
        time.sleep(seconds)


def test_the_entry_lock_excludes_other_processes(tmp_path):
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), started, 1.5))
    holder.start()
    assert started.wait(60)
    entry = PredictionCache(tmp_path).entry(key())
    from filelock import Timeout

    with pytest.raises(Timeout), entry.lock(timeout=0.2):
        pass
    begin = time.monotonic()
    with entry.lock(timeout=30):
        waited = time.monotonic() - begin
    holder.join()
    assert waited > 0.3
