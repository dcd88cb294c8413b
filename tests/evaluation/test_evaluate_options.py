"""quba.evaluate's options and error paths: --limit, --dims, unreadable images, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _eval_support import HERE, MODEL, make_tree

from quba.errors import ConfigError, DataError, ModelError
from quba.evaluation import evaluate, parse_dims, prediction_keys
from quba.store import ResultStore


def run(tree, places, **options):
    settings = dict(
        suite=tree.suite,
        device="cpu",
        batch_size=8,
        shard_size=16,
        replicates=0,
        store=places["store"],
        cache_dir=places["cache_dir"],
    )
    settings.update(options)
    return evaluate([settings.pop("model", MODEL)], tree.root, **settings)


def test_parse_dims_and_the_predictions_they_need():
    assert parse_dims("all")[0] == "accuracy" and len(parse_dims("all")) == 9
    assert parse_dims("params, accuracy") == ("accuracy", "params")  # protocol order
    assert prediction_keys(parse_dims("calibration_error")) == ("imagenet_val",)
    assert prediction_keys(("adv_robustness",)) == (
        "imagenet_val",
        "imagenet_val:pgd",
        "imagenet_val:fgsm",
    )
    assert prediction_keys(("params",)) == ()
    with pytest.raises(ConfigError, match=r"Unknown dimension key\(s\) in --dims: accuracyy, foo"):
        parse_dims("accuracyy,params,foo")
    with pytest.raises(ConfigError, match="got none"):
        parse_dims(" , ")


def test_only_the_predictions_the_dimensions_need_are_computed(tree, places):
    result = run(tree, places, dims="accuracy,class_balance")
    assert result[0].forwarded == {"imagenet_val": tree.counts["imagenet_val"]}
    assert set(result[0].results) == {"accuracy", "class_balance"}


def test_params_alone_needs_no_data(tmp_path, places):
    result = evaluate(
        [MODEL],
        tmp_path / "empty",
        dims="params",
        device="cpu",
        store=False,
        cache_dir=places["cache_dir"],
    )
    assert result[0]["params"].value == pytest.approx(0.772)
    assert result.forwarded == 0


def test_limit_evaluates_a_stratified_subset_stored_apart(tree, places):
    full = run(tree, places, dims="accuracy,c_robustness")
    quick = run(tree, places, dims="accuracy,c_robustness", limit=2)
    assert quick[0].subset == 2
    assert quick[0]["accuracy"].num_samples == 2
    assert quick[0].forwarded["imagenet_c"] == 2 * 10  # two images per corruption and severity
    data = quick[0].provenance["data"]
    assert data["imagenet_val"]["evaluated"] == 2 and data["imagenet_val"]["num_images"] == 12
    store = ResultStore(places["store"])
    assert {r.subset for r in store.query()} == {0, 2}
    assert [r.value for r in store.query(subset=0, dimension="accuracy")] == [
        full[0]["accuracy"].value
    ]
    again = run(tree, places, dims="accuracy,c_robustness", limit=2)
    assert again.forwarded == 0 and again[0]["accuracy"] == quick[0]["accuracy"]


def test_limit_picks_two_different_classes(tree, places):
    quick = run(tree, places, dims="class_balance", limit=2)
    assert quick[0]["class_balance"].breakdown["num_classes"] == 2


def test_outputs_json_and_a_csv_that_quba_score_reads(tree, places, tmp_path):
    from quba.scoring import read_dimension_table

    result = run(tree, places, dims="accuracy,params")
    data = json.loads(result.save(tmp_path / "out.json").read_text())
    assert data[0]["model"] == result[0].spec and data[0]["protocol"] == "paper"
    assert data[0]["dimensions"]["accuracy"]["value"] == result[0]["accuracy"].value
    assert set(data[0]["dimensions"]["accuracy"]) >= {"interval", "breakdown", "num_samples"}
    table = read_dimension_table(result.save(tmp_path / "out.csv"))
    assert table["accuracy"].tolist() == [result[0]["accuracy"].value]
    assert table["params"].tolist() == [pytest.approx(0.772)]
    with pytest.raises(ConfigError, match=r"\.json or \.csv"):
        result.save(tmp_path / "out.txt")


def test_unreadable_images_fail_with_the_file_or_are_skipped_and_counted(tmp_path, places):
    broken = make_tree(tmp_path / "data", datasets=["imagenet_val"], broken=["imagenet_val"])
    name = broken.broken[0].name
    with pytest.raises(DataError, match=name):
        run(broken, places, dims="accuracy")
    result = run(broken, places, dims="accuracy,adv_robustness", skip_unreadable=True)
    assert result[0]["accuracy"].num_skipped == 1
    assert result[0]["adv_robustness"].num_skipped == 1  # one image, missing from every copy
    assert result[0]["adv_robustness"].breakdown["pgd"]["num_images"] == 11
    assert result[0]["accuracy"].num_samples == broken.counts["imagenet_val"] - 1
    stored = ResultStore(places["store"]).query(dimension="accuracy")
    assert stored[0].num_skipped == 1


def nothing_written(places) -> bool:
    return not places["store"].exists() and not places["cache_dir"].exists()


def test_bad_options_fail_before_compute_and_write_nothing(tree, places):
    with pytest.raises(ConfigError, match="Unknown dimension"):
        run(tree, places, dims="accuracy,nonsense")
    with pytest.raises(ConfigError, match="Unknown protocol 'pixels'"):
        run(tree, places, protocol="pixels")
    with pytest.raises(ConfigError, match="--device"):
        run(tree, places, device="gpu")
    with pytest.raises(ConfigError, match="--limit"):
        run(tree, places, limit=0)
    with pytest.raises(ConfigError, match="--batch-size"):
        run(tree, places, batch_size=0)
    with pytest.raises(ModelError, match="no_such_file"):
        run(tree, places, model=f"python:{HERE / 'no_such_file.py'}:factory")
    with pytest.raises(ModelError, match="outputs 10 logits"):
        run(tree, places, model=f"python:{HERE / '_eval_models.py'}:wrong_width")
    assert nothing_written(places)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_device_that_is_not_there_is_a_config_error(tree, places):
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        run(tree, places, device="cuda")
    with pytest.raises(ConfigError, match="cuda:3"):
        run(tree, places, device="cuda:3")
    assert nothing_written(places)


def test_an_empty_data_root_lists_every_missing_dataset_at_once(tmp_path, places):
    with pytest.raises(DataError) as raised:
        evaluate([MODEL], tmp_path / "nothing", device="cpu", **places)
    message = str(raised.value)
    for key in ("imagenet_val", "imagenet_c", "imagenet_r", "cue_conflict", "mixed_rand"):
        assert key in message
    assert nothing_written(places)


def test_an_incomplete_dataset_is_refused_before_compute(tmp_path, places):
    import dataclasses

    partial = make_tree(tmp_path / "data", datasets=["imagenet_val"])
    info = dataclasses.replace(partial.suite.datasets["imagenet_val"], num_images=13)
    suite = dataclasses.replace(partial.suite, datasets={"imagenet_val": info})
    with pytest.raises(DataError, match="imagenet_val"):
        evaluate([MODEL], partial.root, suite=suite, dims="accuracy", device="cpu", **places)
    assert nothing_written(places)


def test_results_store_false_writes_no_store(tree, places):
    result = run(tree, places, dims="accuracy", store=False)
    assert result.store_path is None and not places["store"].exists()
    assert np.isfinite(result[0]["accuracy"].value)


def test_quba_evaluate_takes_built_classifiers(tree, places):
    import quba
    from quba.models import create_classifier

    classifier = create_classifier(MODEL)
    by_object = quba.evaluate([classifier], tree.root, **_common(tree, places, dims="accuracy"))
    by_spec = run(tree, places, dims="accuracy")
    assert by_object[0].spec == by_spec[0].spec == classifier.spec
    assert by_object[0]["accuracy"] == by_spec[0]["accuracy"]
    assert by_spec.forwarded == 0  # same weights, same cache entry


def _common(tree, places, **options):
    settings = dict(suite=tree.suite, device="cpu", batch_size=8, shard_size=16, replicates=0)
    settings.update(places)
    settings.update(options)
    return settings
