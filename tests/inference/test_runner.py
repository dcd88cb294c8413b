"""The batched runner: predictions equal direct forward passes, the cache is reused, runs resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from _inference_toys import TensorImages, classifier

from quba.errors import DataError
from quba.inference.attacks import AttackSpec, attack_batch
from quba.inference.cache import PredictionCache
from quba.inference.runner import (
    PredictionJob,
    batch_seed,
    load_predictions,
    run_predictions,
    shard_slices,
)

HERE = Path(__file__).parent


def jobs_for(cache: PredictionCache, *keys: str, tag: str = "") -> list[PredictionJob]:
    attacks = {
        "val": None,
        "val:pgd": AttackSpec("pgd", geometry="paper", steps=3),
        "val:fgsm": AttackSpec("fgsm", geometry="pixel"),
    }
    return [
        PredictionJob(key, cache.entry({"k": key, "tag": tag}, label=key), attacks[key])
        for key in keys
    ]


def test_clean_predictions_equal_a_direct_forward_pass(tmp_path):
    module = classifier()
    data = TensorImages(n=37)
    jobs = jobs_for(PredictionCache(tmp_path), "val")
    stats = run_predictions(module, data, jobs, batch_size=5, shard_size=8)
    assert stats.forwarded == {"val": 37}
    predictions = load_predictions(jobs[0].entry, len(shard_slices(37, 8)))
    with torch.no_grad():
        expected = module(data.images).numpy()
    np.testing.assert_allclose(predictions.logits, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(predictions.targets, data.targets.numpy())
    np.testing.assert_array_equal(predictions.sample_ids, np.arange(37))
    assert predictions.num_skipped == 0
    assert jobs[0].entry.is_finished


def test_a_second_run_forwards_nothing_and_force_recomputes(tmp_path):
    data = TensorImages(n=20)
    module = classifier()
    jobs = jobs_for(PredictionCache(tmp_path), "val", "val:fgsm")
    first = run_predictions(module, data, jobs, batch_size=4, shard_size=8)
    assert first.forwarded == {"val": 20, "val:fgsm": 20}
    counted = module.model.seen
    second = run_predictions(module, data, jobs, batch_size=4, shard_size=8)
    assert second.forwarded == {} and second.cached_shards == {"val": 3, "val:fgsm": 3}
    assert module.model.seen == counted  # not a single forward pass
    third = run_predictions(module, data, jobs, batch_size=4, shard_size=8, force=True)
    assert third.total_forwarded == 40


def test_attacked_predictions_equal_attacking_each_batch(tmp_path):
    data = TensorImages(n=12)
    module = classifier()
    jobs = jobs_for(PredictionCache(tmp_path), "val:pgd")
    run_predictions(module, data, jobs, batch_size=4, shard_size=8, seed=7)
    predictions = load_predictions(jobs[0].entry, 2)
    spec = jobs[0].attack
    expected = []
    for start in range(0, 12, 4):  # batches of 4 inside shards of 8: 0-3, 4-7 | 8-11
        x, y = data.images[start : start + 4], data.targets[start : start + 4]
        expected.append(attack_batch(module, x, y, spec, seed=batch_seed(7, "val:pgd", start))[1])
    np.testing.assert_allclose(
        predictions.logits, torch.cat(expected).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_subset_indices_and_metadata(tmp_path):
    data = TensorImages(n=30)
    jobs = jobs_for(PredictionCache(tmp_path), "val")
    indices = np.array([1, 4, 5, 20, 29])
    run_predictions(classifier(), data, jobs, indices=indices, batch_size=2, shard_size=3)
    meta = {"severity": np.arange(30) * 10}
    predictions = load_predictions(jobs[0].entry, 2, metadata=meta)
    np.testing.assert_array_equal(predictions.sample_ids, indices)
    np.testing.assert_array_equal(predictions.meta["severity"], indices * 10)


def test_unreadable_images_raise_or_are_skipped_and_counted(tmp_path):
    cache = PredictionCache(tmp_path)
    with pytest.raises(DataError, match=r"/data/img3\.png"):
        run_predictions(classifier(), TensorImages(broken={3}), jobs_for(cache, "val"))
    data = TensorImages(n=10, broken={3, 4, 5, 6}, skip_unreadable=True)
    jobs = jobs_for(cache, "val", tag="skip")
    stats = run_predictions(classifier(), data, jobs, batch_size=4, shard_size=4)
    assert stats.forwarded == {"val": 6}
    predictions = load_predictions(jobs[0].entry, 3)
    assert predictions.num_skipped == 4
    assert predictions.sample_ids.tolist() == [0, 1, 2, 7, 8, 9]


def test_worker_processes_give_the_same_predictions_and_clean_errors(tmp_path):
    data = TensorImages(n=16)
    module = classifier()
    one = jobs_for(PredictionCache(tmp_path / "a"), "val")
    two = jobs_for(PredictionCache(tmp_path / "b"), "val")
    run_predictions(module, data, one, batch_size=4, shard_size=8)
    run_predictions(module, data, two, batch_size=4, shard_size=8, workers=2)
    np.testing.assert_array_equal(
        load_predictions(one[0].entry, 2).logits, load_predictions(two[0].entry, 2).logits
    )
    broken = jobs_for(PredictionCache(tmp_path / "c"), "val")
    with pytest.raises(DataError) as raised:
        run_predictions(module, TensorImages(broken={2}), broken, workers=1)
    assert str(raised.value) == "Cannot read image /data/img2.png: broken file"


def test_progress_reports_cached_and_new_images(tmp_path):
    calls: list[tuple[str, int, int]] = []
    jobs = jobs_for(PredictionCache(tmp_path), "val")
    run_predictions(
        classifier(),
        TensorImages(n=10),
        jobs,
        batch_size=4,
        shard_size=4,
        progress=lambda *a: calls.append(a),
        label="val",
    )
    assert calls[0] == ("val", 0, 10) and calls[-1] == ("val", 10, 10)
    assert [c[1] for c in calls] == [0, 4, 8, 10]
    calls.clear()
    run_predictions(
        classifier(), TensorImages(n=10), jobs, progress=lambda *a: calls.append(a), label="val"
    )
    assert calls == [("val", 10, 10)]  # everything cached: one full bar


_KILLED_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    from _inference_toys import TensorImages, classifier
    from quba.inference.attacks import AttackSpec
    from quba.inference.cache import PredictionCache
    from quba.inference.runner import PredictionJob, run_predictions

    cache = PredictionCache({cache!r})
    jobs = [
        PredictionJob("val", cache.entry({{"k": "val"}}, label="val")),
        PredictionJob("val:pgd", cache.entry({{"k": "pgd"}}, label="pgd"),
                      AttackSpec("pgd", steps=2)),
    ]
    run_predictions(classifier(delay={delay}), TensorImages(n=48), jobs,
                    batch_size=4, shard_size=8, seed=3)
    """
)


def _run_script(cache: Path, delay: float) -> subprocess.Popen:
    code = _KILLED_RUN.format(here=str(HERE), cache=str(cache), delay=delay)
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_run_then_rerun_gives_identical_predictions(tmp_path, signum):
    victim = _run_script(tmp_path / "killed", 0.15)
    shards = tmp_path / "killed"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        written = list(shards.glob("val-*/shard-*.npz"))
        if len(written) >= 2:
            break
        time.sleep(0.05)
    os.killpg(victim.pid, signum)
    assert victim.wait(60) != 0
    finished = list(shards.glob("*/finished.json"))
    written = sorted(p.name for p in shards.glob("val-*/shard-*.npz"))
    assert not finished and 2 <= len(written) < 6  # it really died half-way

    # resume in this process: only the missing shards are computed
    cache = PredictionCache(shards)
    module = classifier()
    jobs = [
        PredictionJob("val", cache.entry({"k": "val"}, label="val")),
        PredictionJob(
            "val:pgd", cache.entry({"k": "pgd"}, label="pgd"), AttackSpec("pgd", steps=2)
        ),
    ]
    stats = run_predictions(module, TensorImages(n=48), jobs, batch_size=4, shard_size=8, seed=3)
    assert 0 < stats.forwarded["val"] <= 48 - 8 * len(written)
    assert stats.cached_shards["val"] == len(written)

    # an uninterrupted run in a fresh cache gives exactly the same numbers
    fresh = PredictionCache(tmp_path / "uninterrupted")
    reference = [
        PredictionJob(j.key, fresh.entry(j.entry.key, label=j.key), j.attack) for j in jobs
    ]
    run_predictions(classifier(), TensorImages(n=48), reference, batch_size=4, shard_size=8, seed=3)
    for job, other in zip(jobs, reference, strict=True):
        expected = load_predictions(other.entry, 6)
        got = load_predictions(job.entry, 6)
        np.testing.assert_array_equal(got.logits, expected.logits)
        np.testing.assert_array_equal(got.sample_ids, expected.sample_ids)
