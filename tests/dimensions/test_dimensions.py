"""The nine dimensions on random predictions, against direct computations of PROTOCOL.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quba.data.labels import LabelSpace
from quba.dimensions import (
    PAPER,
    DimensionInputs,
    compute_dimensions,
    get_dimension,
    list_dimensions,
)
from quba.errors import DataError
from quba.inference.predictions import Predictions
from quba.metrics import adaptive_calibration_error, class_balance, expected_calibration_error
from quba.metrics import softmax as _softmax

C = 40
SPACE = LabelSpace(
    name="tiny",
    classes=tuple(f"c{i:02d}" for i in range(C)),
    categories={"a": (0, 1, 2), "b": (3,), "c": (10, 11), "d": (20, 21, 22, 23)},
    object_classes={"x": (0, 1, 2, 3), "y": (10, 11, 12), "z": (20,)},
    rendition_classes=tuple(range(0, C, 4)),
)
CORRUPTIONS = ("fog", "snow")


def _preds(rng, n, targets, *, boost=3.0, meta=None, ids=None) -> Predictions:
    logits = rng.normal(size=(n, C)).astype(np.float32)
    hit = rng.random(n) < 0.6
    cls = np.asarray(targets)
    logits[np.arange(n)[hit], cls[hit]] += boost
    return Predictions(
        logits=logits,
        targets=np.asarray(targets, dtype=np.int64),
        sample_ids=np.arange(n, dtype=np.int64) if ids is None else ids,
        meta=meta or {},
    )


def _category_preds(rng, n) -> Predictions:
    cats = rng.integers(0, 4, n)
    first_index = np.array([v[0] for v in SPACE.categories.values()])
    p = _preds(rng, n, first_index[cats], boost=4.0)
    return Predictions(p.logits, cats, p.sample_ids, {"texture": rng.integers(0, 4, n)})


def _suite_predictions(seed: int = 0) -> dict[str, Predictions]:
    rng = np.random.default_rng(seed)
    n = 300
    clean = _preds(rng, n, rng.integers(0, C, n))
    ids = clean.sample_ids
    out = {"imagenet_val": clean}
    for name in ("imagenet_val:pgd", "imagenet_val:fgsm"):
        sub = ids[::2]
        out[name] = _preds(rng, len(sub), clean.targets[sub], boost=1.0, ids=sub)
    corr = np.repeat(CORRUPTIONS, 2 * n)
    sev = np.tile(np.repeat([1, 2], n), len(CORRUPTIONS))
    k = len(corr)
    out["imagenet_c"] = _preds(
        rng,
        k,
        np.tile(clean.targets, 4),
        boost=2.0,
        meta={"corruption": corr, "severity": sev},
        ids=np.tile(ids, 4),
    )
    for name in ("edge", "silhouette", "sketch", "stylized"):
        out[name] = _category_preds(rng, 80)
    out["cue_conflict"] = _category_preds(rng, 120)
    r_targets = rng.choice(SPACE.rendition_classes, 100)
    out["imagenet_r"] = _preds(rng, 100, r_targets, boost=1.5)
    obj = rng.integers(0, 3, 90)
    first = np.array([v[0] for v in SPACE.object_classes.values()])
    same = _preds(rng, 90, first[obj], boost=3.0)
    rand = _preds(rng, 90, first[obj], boost=1.0)
    out["mixed_same"] = Predictions(same.logits, obj, same.sample_ids)
    out["mixed_rand"] = Predictions(rand.logits, obj, rand.sample_ids)
    return out


def _acc(p: Predictions) -> float:
    return float(np.mean(p.logits.argmax(axis=1) == p.targets))


def _cat_acc(p: Predictions) -> float:
    probs = _softmax(p.logits)
    means = np.stack([probs[:, list(v)].mean(axis=1) for v in SPACE.categories.values()], axis=1)
    return float(np.mean(means.argmax(axis=1) == p.targets))


@pytest.fixture(scope="module")
def results():
    preds = _suite_predictions()
    inputs = DimensionInputs(preds, SPACE, PAPER, num_params=25_557_032, replicates=60)
    return preds, compute_dimensions(inputs)


def test_every_dimension_is_computed_with_an_interval_around_its_value(results):
    _, got = results
    assert list(got) == [d.key for d in list_dimensions()]
    for key, result in got.items():
        assert result.value is not None, key
        if key == "params":
            assert result.ci_low is None
            continue
        assert result.ci_low <= result.ci_high, key
        assert result.ci_low - 0.05 <= result.value <= result.ci_high + 0.05, key


def test_values_equal_direct_computations(results):
    preds, got = results
    a = _acc(preds["imagenet_val"])
    assert got["accuracy"].value == pytest.approx(a)

    clean_correct = preds["imagenet_val"].logits.argmax(1) == preds["imagenet_val"].targets
    sub = clean_correct[::2].mean()
    expected_adv = math.sqrt(
        _acc(preds["imagenet_val:pgd"]) / sub * _acc(preds["imagenet_val:fgsm"]) / sub
    )
    assert got["adv_robustness"].value == pytest.approx(expected_adv)
    assert got["adv_robustness"].breakdown["pgd"]["clean_accuracy"] == pytest.approx(sub)

    c = preds["imagenet_c"]
    groups = [
        np.mean(c.logits.argmax(1)[m] == c.targets[m])
        for m in (
            (c.meta["corruption"] == name) & (c.meta["severity"] == s)
            for name in CORRUPTIONS
            for s in (1, 2)
        )
    ]
    assert got["c_robustness"].value == pytest.approx(np.mean(groups) / a)
    assert got["c_robustness"].breakdown["accuracy"]["fog"]["2"] == pytest.approx(groups[1])

    r = preds["imagenet_r"]
    masked = np.full_like(r.logits, -np.inf)
    kept = list(SPACE.rendition_classes)
    masked[:, kept] = r.logits[:, kept]
    accs = [_cat_acc(preds[k]) for k in ("edge", "silhouette", "sketch", "stylized")]
    accs.append(float(np.mean(masked.argmax(1) == r.targets)))
    assert got["ood_robustness"].value == pytest.approx(np.prod(np.array(accs) / a) ** (1 / 5))

    probs = _softmax(preds["imagenet_val"].logits)
    ece = expected_calibration_error(probs, preds["imagenet_val"].targets)
    ace = adaptive_calibration_error(probs, preds["imagenet_val"].targets)
    assert got["calibration_error"].value == pytest.approx(math.sqrt(ece * ace), abs=1e-9)
    assert got["calibration_error"].breakdown["ece"] == pytest.approx(ece, abs=1e-9)
    assert got["calibration_error"].breakdown["ace"] == pytest.approx(ace, abs=1e-9)

    balance = class_balance(probs, preds["imagenet_val"].targets)
    assert got["class_balance"].value == pytest.approx(balance.value)

    table = SPACE.object_class_of
    same = np.mean(table[preds["mixed_same"].logits.argmax(1)] == preds["mixed_same"].targets)
    rand = np.mean(table[preds["mixed_rand"].logits.argmax(1)] == preds["mixed_rand"].targets)
    assert got["object_focus"].value == pytest.approx(1 - (same - rand) / a)

    cue = preds["cue_conflict"]
    probs = _softmax(cue.logits)
    dec = np.stack([probs[:, list(v)].mean(1) for v in SPACE.categories.values()], 1).argmax(1)
    used = cue.targets != cue.meta["texture"]
    n_shape = np.sum(used & (dec == cue.targets))
    n_texture = np.sum(used & (dec == cue.meta["texture"]))
    assert got["shape_bias"].value == pytest.approx(n_shape / (n_shape + n_texture))
    assert got["shape_bias"].breakdown["shape_decisions"] == n_shape

    assert got["params"].value == pytest.approx(25.557032)


def test_attacked_or_corrupted_copies_are_resampled_jointly_with_the_clean_images():
    preds = _suite_predictions(1)
    clean = preds["imagenet_val"]
    half = clean.select(np.arange(0, len(clean), 2))
    preds["imagenet_val:pgd"] = half
    preds["imagenet_val:fgsm"] = half
    n = len(clean)
    preds["imagenet_c"] = Predictions(
        clean.logits,
        clean.targets,
        clean.sample_ids,
        {"corruption": np.array(["fog"] * n), "severity": np.ones(n, dtype=int)},
    )
    inputs = DimensionInputs(preds, SPACE, PAPER, replicates=40)
    for key in ("adv_robustness", "c_robustness"):
        result = get_dimension(key).compute(inputs)
        # identical predictions: every jointly resampled replicate has ratio exactly 1
        assert result.value == pytest.approx(1.0)
        assert result.ci_low == pytest.approx(1.0) and result.ci_high == pytest.approx(1.0)


def test_intervals_are_reproducible_and_depend_on_the_seed():
    preds = _suite_predictions(2)
    first = get_dimension("accuracy").compute(DimensionInputs(preds, SPACE, replicates=30))
    again = get_dimension("accuracy").compute(DimensionInputs(preds, SPACE, replicates=30))
    other = get_dimension("accuracy").compute(DimensionInputs(preds, SPACE, replicates=30, seed=5))
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)
    none = get_dimension("accuracy").compute(DimensionInputs(preds, SPACE, replicates=0))
    assert none.ci_low is None and none.value == first.value


def test_zero_clean_accuracy_makes_ratios_missing_not_infinite():
    preds = _suite_predictions(3)
    clean = preds["imagenet_val"]
    wrong = clean.logits.copy()
    wrong[np.arange(len(wrong)), clean.targets] = -100.0
    preds["imagenet_val"] = Predictions(wrong, clean.targets, clean.sample_ids)
    got = compute_dimensions(DimensionInputs(preds, SPACE, replicates=10))
    assert got["accuracy"].value == 0.0
    for key in ("adv_robustness", "c_robustness", "ood_robustness", "object_focus"):
        assert got[key].value is None and "zero" in got[key].missing_reason, key
    assert got["calibration_error"].value is not None


def test_missing_predictions_or_metadata_are_reported():
    preds = _suite_predictions(4)
    del preds["edge"]
    inputs = DimensionInputs(preds, SPACE, replicates=0)
    result = get_dimension("ood_robustness").compute(inputs)
    assert result.value is None and result.missing_reason == "no predictions for edge"
    assert get_dimension("params").compute(inputs).missing_reason == "parameter count not given"
    preds["edge"] = preds["sketch"].select(np.zeros(len(preds["sketch"]), dtype=bool))
    result = get_dimension("ood_robustness").compute(DimensionInputs(preds, SPACE, replicates=0))
    assert result.value is None and result.missing_reason == "no images in edge"
    cue = preds["cue_conflict"]
    preds["cue_conflict"] = Predictions(cue.logits, cue.targets, cue.sample_ids)
    with pytest.raises(DataError, match="meta 'texture'"):
        get_dimension("shape_bias").compute(DimensionInputs(preds, SPACE, replicates=0))
    pgd = preds["imagenet_val:pgd"]
    preds["imagenet_val:pgd"] = Predictions(pgd.logits, pgd.targets, pgd.sample_ids + 10_000)
    with pytest.raises(DataError, match="among the imagenet_val sample ids"):
        get_dimension("adv_robustness").compute(DimensionInputs(preds, SPACE, replicates=0))


def test_shape_bias_without_shape_or_texture_decisions_is_missing():
    preds = _suite_predictions(5)
    cue = preds["cue_conflict"]
    logits = np.zeros_like(cue.logits)
    logits[:, 30] = 50.0  # every decision goes to a class outside all categories -> ties -> "a"
    shape = np.full(len(cue), 2)
    texture = np.full(len(cue), 3)
    preds["cue_conflict"] = Predictions(logits, shape, cue.sample_ids, {"texture": texture})
    result = get_dimension("shape_bias").compute(DimensionInputs(preds, SPACE, replicates=5))
    assert result.value is None and "no shape or texture decision" in result.missing_reason


def test_extra_imagenet_c_corruptions_do_not_enter_the_score():
    preds = _suite_predictions(6)
    inputs = DimensionInputs(preds, SPACE, replicates=0)
    expected = get_dimension("c_robustness").compute(inputs).value
    c = preds["imagenet_c"]
    n = len(preds["imagenet_val"])
    wrong = np.zeros((n, C), dtype=np.float32)
    wrong[np.arange(n), (preds["imagenet_val"].targets + 1) % C] = 10.0  # every image wrong
    extra = Predictions(
        np.concatenate([c.logits, wrong]),
        np.concatenate([c.targets, preds["imagenet_val"].targets]),
        np.concatenate([c.sample_ids, preds["imagenet_val"].sample_ids]),
        {
            "corruption": np.concatenate([c.meta["corruption"], ["speckle_noise"] * n]),
            "severity": np.concatenate([c.meta["severity"], np.ones(n, dtype=int)]),
        },
    )
    preds["imagenet_c"] = extra
    got = get_dimension("c_robustness").compute(DimensionInputs(preds, SPACE, replicates=0))
    assert got.value == pytest.approx(expected)
    assert "speckle_noise" not in got.breakdown["accuracy"]
    assert got.num_samples == len(c)  # the extra corruption's images are not counted either


def test_object_focus_resamples_the_same_foregrounds_jointly():
    preds = _suite_predictions(7)
    preds["mixed_rand"] = preds["mixed_same"]  # identical predictions on the same sample ids
    result = get_dimension("object_focus").compute(DimensionInputs(preds, SPACE, replicates=40))
    # a joint draw gives a gap of exactly 0 in every replicate; independent draws would not
    assert result.value == pytest.approx(1.0)
    assert result.ci_low == pytest.approx(1.0) and result.ci_high == pytest.approx(1.0)
