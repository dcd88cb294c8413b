"""What dimensions need of their predictions; dimensions computed from top-1-only predictions."""

from __future__ import annotations

import numpy as np
import pytest

from quba.data.labels import LabelSpace
from quba.dimensions import PAPER, DimensionInputs, get_dimension, list_dimensions
from quba.dimensions.registry import Dimension, prediction_needs
from quba.inference.predictions import LogitsUnavailableError, Predictions

C = 30
SPACE = LabelSpace(
    name="tiny-needs",
    classes=tuple(f"c{i:02d}" for i in range(C)),
    categories={"a": (0, 1), "b": (3,), "c": (10, 11)},
    object_classes={"x": (0, 1, 2, 3), "y": (10, 11, 12), "z": (20,)},
    rendition_classes=tuple(range(0, C, 3)),
)
CORRUPTIONS = ("fog", "gaussian_noise", "snow", "spatter")  # spatter is an extra, not scored


def _logits(rng, targets: np.ndarray, hit_rate: float) -> np.ndarray:
    """Logits out of a few integer values (many ties), the target raised on some rows."""
    n = len(targets)
    logits = rng.integers(0, 3, size=(n, C)).astype(np.float32)
    hit = rng.random(n) < hit_rate
    logits[np.arange(n)[hit], targets[hit]] = 3.0
    return logits


def _predictions(seed: int) -> dict[str, Predictions]:
    rng = np.random.default_rng(seed)
    n = 240
    targets = rng.integers(0, C, n)
    ids = np.arange(n, dtype=np.int64)
    clean = Predictions(_logits(rng, targets, 0.7), targets, ids)
    corruption = np.repeat(CORRUPTIONS, 3 * n)
    severity = np.tile(np.repeat([1, 2, 5], n), len(CORRUPTIONS))
    c_targets = np.tile(targets, 3 * len(CORRUPTIONS))
    corrupted = Predictions(
        _logits(rng, c_targets, 0.4),
        c_targets,
        np.tile(ids, 3 * len(CORRUPTIONS)),
        {"corruption": corruption, "severity": severity},
    )
    out = {"imagenet_val": clean, "imagenet_c": corrupted}
    for key, rate in (("imagenet_val:pgd", 0.2), ("imagenet_val:fgsm", 0.3)):
        sub = ids[::3]
        out[key] = Predictions(_logits(rng, targets[sub], rate), targets[sub], sub)
    obj = rng.integers(0, 3, 90)
    first = np.array([v[0] for v in SPACE.object_classes.values()])
    for key, rate in (("mixed_same", 0.6), ("mixed_rand", 0.3)):
        out[key] = Predictions(_logits(rng, first[obj], rate), obj, np.arange(90))
    return out


def test_the_registry_says_what_each_dimension_needs():
    c_rob = get_dimension("c_robustness")
    assert c_rob.need("imagenet_c") == "top1" and c_rob.need("imagenet_val") == "logits"
    adv = get_dimension("adv_robustness")
    assert adv.need("imagenet_val:pgd") == adv.need("imagenet_val:fgsm") == "top1"
    focus = get_dimension("object_focus")
    assert focus.need("mixed_same") == focus.need("mixed_rand") == "top1"
    for dimension in list_dimensions():
        for key, need in dimension.needs:
            assert key in dimension.requires and need in ("top1", "logits")
    # the clean logits are needed by calibration and class balance
    assert get_dimension("calibration_error").need("imagenet_val") == "logits"


def test_the_strongest_need_across_the_requested_dimensions_wins(monkeypatch):
    from quba.dimensions import registry

    everything = prediction_needs([d.key for d in list_dimensions()])
    assert everything["imagenet_c"] == "top1"
    assert everything["imagenet_val"] == "logits"
    assert everything["imagenet_val:pgd"] == everything["mixed_rand"] == "top1"
    assert everything["cue_conflict"] == everything["imagenet_r"] == everything["edge"] == "logits"
    assert prediction_needs(["c_robustness"]) == {"imagenet_val": "logits", "imagenet_c": "top1"}
    assert prediction_needs(["params"]) == {}
    # a dimension that reads the logits of imagenet_c makes the planner load them
    reader = Dimension("reader", "Reader", "higher", 1.0, ("imagenet_c",), lambda i: None)
    assert reader.need("imagenet_c") == "logits"
    monkeypatch.setitem(registry._REGISTRY, "reader", reader)
    assert prediction_needs(["c_robustness", "reader"])["imagenet_c"] == "logits"
    assert prediction_needs(["reader", "c_robustness"])["imagenet_c"] == "logits"


def test_a_need_must_name_a_required_key_and_a_known_kind():
    with pytest.raises(ValueError, match="declares a need for 'edge'"):
        Dimension(
            "x", "X", "higher", 1.0, ("imagenet_c",), lambda i: None, needs=(("edge", "top1"),)
        )
    with pytest.raises(ValueError, match="Expected the need of 'imagenet_c' to be one of"):
        Dimension(
            "x", "X", "higher", 1.0, ("imagenet_c",), lambda i: None, needs=(("imagenet_c", "p"),)
        )


@pytest.mark.parametrize("key", ["c_robustness", "adv_robustness", "object_focus"])
def test_top1_only_predictions_give_the_same_value_and_interval_as_full_logits(key):
    full = _predictions(seed=4)
    dimension = get_dimension(key)
    light = {k: p.without_logits() if dimension.need(k) == "top1" else p for k, p in full.items()}
    assert any(not p.has_logits for p in light.values())
    a = dimension.compute(DimensionInputs(full, SPACE, PAPER, replicates=80))
    b = dimension.compute(DimensionInputs(light, SPACE, PAPER, replicates=80))
    assert a.value is not None and a.ci_low is not None and a.ci_low < a.ci_high
    assert (b.value, b.ci_low, b.ci_high, b.num_samples) == (
        a.value,
        a.ci_low,
        a.ci_high,
        a.num_samples,
    )
    assert b.breakdown == a.breakdown


def test_c_robustness_from_top1_equals_a_direct_computation():
    full = _predictions(seed=5)
    light = dict(full, imagenet_c=full["imagenet_c"].without_logits())
    result = get_dimension("c_robustness").compute(DimensionInputs(light, SPACE, replicates=0))
    clean = full["imagenet_val"]
    clean_acc = np.mean(clean.logits.argmax(1) == clean.targets)
    c = full["imagenet_c"]
    ratios = []
    for name in ("fog", "gaussian_noise", "snow"):
        for sev in (1, 2, 5):
            mask = (c.meta["corruption"] == name) & (c.meta["severity"] == sev)
            acc = np.mean(c.logits[mask].argmax(1) == c.targets[mask])
            assert result.breakdown["accuracy"][name][str(sev)] == pytest.approx(acc, abs=1e-15)
            ratios.append(acc / clean_acc)
    assert result.breakdown["num_groups"] == 9  # spatter is left out
    assert result.value == pytest.approx(np.mean(ratios), rel=1e-12)


def test_a_dimension_that_reads_logits_of_top1_only_predictions_fails_clearly():
    full = _predictions(seed=6)
    light = dict(full, imagenet_val=full["imagenet_val"].without_logits())
    with pytest.raises(LogitsUnavailableError, match="declare the need 'logits'"):
        get_dimension("accuracy").compute(DimensionInputs(light, SPACE, replicates=0))


@pytest.mark.parametrize("order", ["runs", "shuffled", "object"])
def test_corruption_names_are_factorized_like_numpy_unique(order):
    from quba.dimensions.builtin import _factorize

    rng = np.random.default_rng(7)
    values = np.repeat(np.array(CORRUPTIONS), rng.integers(1, 50, len(CORRUPTIONS)))
    if order == "shuffled":
        values = rng.permutation(values)
    if order == "object":
        values = values.astype(object)
    names, codes = _factorize(values)
    expected_names, expected_codes = np.unique(values.astype(str), return_inverse=True)
    np.testing.assert_array_equal(names, expected_names)
    np.testing.assert_array_equal(codes, expected_codes.reshape(-1))
