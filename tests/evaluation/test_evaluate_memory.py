"""quba.evaluate keeps only what the dimensions need: ImageNet-C (and the attacked and
Backgrounds Challenge predictions) are loaded as top-1 classes, never as (N, C) logits, with the
same numbers as the full-logits path; each dataset folder is listed once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _eval_support import MODEL

import quba.evaluation._api as api
from quba.dimensions import registry
from quba.evaluation import evaluate

SHARD = 16
DIMS = "accuracy,adv_robustness,c_robustness,object_focus"


def run(tree, cache_dir, **options):
    settings = dict(
        suite=tree.suite,
        device="cpu",
        batch_size=8,
        shard_size=SHARD,
        replicates=40,
        store=False,
        cache_dir=cache_dir,
        dims=DIMS,
    )
    settings.update(options)
    return evaluate([MODEL], tree.root, **settings)[0]


def spy_on_inputs(monkeypatch, key: str) -> list[dict]:
    """Record the predictions handed to dimension ``key`` (then compute it as usual)."""
    original = registry.get_dimension(key)
    seen: list[dict] = []

    def compute(inputs):
        seen.append(dict(inputs.predictions))
        return original.compute_fn(inputs)

    monkeypatch.setitem(registry._REGISTRY, key, dataclasses.replace(original, compute_fn=compute))
    return seen


def numbers(evaluation) -> dict:
    return {
        key: (r.value, r.ci_low, r.ci_high, r.num_samples, r.breakdown, r.missing_reason)
        for key, r in evaluation.results.items()
    }


@pytest.mark.slow
def test_imagenet_c_reaches_the_dimension_as_top1_only_with_the_full_logits_numbers(
    tree, tmp_path, monkeypatch
):
    import quba.inference.runner as runner

    shapes: list[tuple[int, ...]] = []
    original_top1 = runner.top1_of

    def top1_spy(logits):
        shapes.append(np.shape(logits))
        return original_top1(logits)

    monkeypatch.setattr(runner, "top1_of", top1_spy)
    seen = spy_on_inputs(monkeypatch, "c_robustness")
    light = run(tree, tmp_path / "cache")

    (given,) = seen
    corrupted = given["imagenet_c"]
    n = tree.counts["imagenet_c"]
    assert len(corrupted) == n > 4 * SHARD
    assert not corrupted.has_logits and corrupted.top1.dtype == np.int16
    with pytest.raises(AttributeError, match="only the top-1 class"):
        _ = corrupted.logits
    assert given["imagenet_val"].has_logits  # accuracy & co. read the clean logits
    # the argmax was taken shard by shard: no array of more than one shard's rows
    assert shapes and max(s[0] for s in shapes) <= SHARD
    assert all(s[1] == 1000 for s in shapes)

    # the same evaluation with every key loaded as logits (the path before top-1 loading)
    monkeypatch.setattr(api, "prediction_needs", lambda keys: {})
    heavy = run(tree, tmp_path / "cache")
    assert seen[1]["imagenet_c"].has_logits
    np.testing.assert_array_equal(seen[1]["imagenet_c"].logits.argmax(1), corrupted.top1)
    assert numbers(heavy) == numbers(light)
    assert light.results["c_robustness"].breakdown["num_groups"] > 1
    assert light.results["c_robustness"].ci_low is not None


@pytest.mark.slow
def test_a_cached_run_and_a_cold_run_give_identical_results(tree, tmp_path):
    cold = run(tree, tmp_path / "cache")
    assert cold.forwarded["imagenet_c"] == tree.counts["imagenet_c"]
    cached = run(tree, tmp_path / "cache")
    assert sum(cached.forwarded.values()) == 0
    assert numbers(cached) == numbers(cold)
    other = run(tree, tmp_path / "elsewhere")  # cold again, in a fresh cache
    assert numbers(other) == numbers(cold)


def test_every_dataset_folder_is_listed_once(tree, tmp_path, monkeypatch):
    import quba.data.dataset
    import quba.data.layouts
    import quba.data.verify

    calls: list[str] = []
    original = quba.data.layouts.scan_dataset

    def counting(suite, key, directory):
        calls.append(key)
        return original(suite, key, directory)

    for module in (quba.data.layouts, quba.data.verify, quba.data.dataset):
        monkeypatch.setattr(module, "scan_dataset", counting)
    result = run(tree, tmp_path / "cache", dims="c_robustness,object_focus", replicates=0)
    assert sorted(calls) == ["imagenet_c", "imagenet_val", "mixed_rand", "mixed_same"]
    assert result.results["object_focus"].value is not None
