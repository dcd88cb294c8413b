"""The registry of the nine dimensions and the protocols."""

from __future__ import annotations

import dataclasses

import pytest

from quba.dimensions import (
    PAPER,
    PIXEL,
    Dimension,
    DimensionInputs,
    Protocol,
    get_dimension,
    get_protocol,
    list_dimensions,
    list_protocols,
    register_dimension,
)
from quba.errors import ConfigError
from quba.scoring import DIMENSION_KEYS, DISPLAY_NAMES, PAPER_WEIGHTS, SIGNS

PAPER_TABLE = [
    ("accuracy", "Accuracy", "higher", 1),
    ("adv_robustness", "Adversarial Robustness", "higher", 1 / 3),
    ("c_robustness", "Corruption Robustness", "higher", 1 / 3),
    ("ood_robustness", "OOD Robustness", "higher", 1 / 3),
    ("calibration_error", "Calibration Error", "lower", 1),
    ("class_balance", "Class Balance", "higher", 1),
    ("object_focus", "Object Focus", "higher", 1 / 2),
    ("shape_bias", "Shape Bias", "higher", 1 / 2),
    ("params", "Parameters", "lower", 1),
]


def test_registry_holds_the_nine_dimensions_of_the_paper_in_order():
    got = [(d.key, d.display_name, d.direction, d.weight) for d in list_dimensions()]
    assert got == PAPER_TABLE
    assert tuple(d.key for d in list_dimensions()) == DIMENSION_KEYS
    for d in list_dimensions():
        assert DISPLAY_NAMES[d.key] == d.display_name
        assert PAPER_WEIGHTS[d.key] == pytest.approx(d.weight)
        assert SIGNS[d.key] == (1 if d.direction == "higher" else -1)


@pytest.mark.parametrize("dimension", list_dimensions(), ids=lambda d: d.key)
def test_each_dimension_declares_known_prediction_keys(dimension):
    known = {
        "imagenet_val",
        "imagenet_val:pgd",
        "imagenet_val:fgsm",
        "imagenet_c",
        "imagenet_r",
        "edge",
        "silhouette",
        "sketch",
        "stylized",
        "cue_conflict",
        "mixed_same",
        "mixed_rand",
    }
    assert set(dimension.requires) <= known
    if dimension.key != "params":
        assert dimension.requires


def test_registering_a_key_twice_and_unknown_keys_are_errors():
    existing = get_dimension("accuracy")
    with pytest.raises(ValueError, match="already registered"):
        register_dimension(dataclasses.replace(existing))
    with pytest.raises(ConfigError, match="Unknown dimension 'acuracy'; expected one of accuracy"):
        get_dimension("acuracy")
    with pytest.raises(ValueError, match="direction"):
        register_dimension(Dimension("new_one", "New", "up", 1.0, (), lambda i: None))  # type: ignore[arg-type]


def test_protocols_paper_and_pixel():
    assert list_protocols() == ["paper", "pixel"]
    assert get_protocol("paper") is PAPER and get_protocol("pixel") is PIXEL
    for p in (PAPER, PIXEL):
        assert p.epsilon == 8 / 255 and p.pgd_step == 2 / 255 and p.pgd_steps == 10
        assert p.pgd_random_start and p.fgsm_epsilon == 8 / 255 and p.calibration_bins == 15
        assert p.confidence_level == 0.95
    assert PAPER.attack_geometry == "paper" and PIXEL.attack_geometry == "pixel"
    assert PAPER.corruption_input == "preprocessing"
    with pytest.raises(dataclasses.FrozenInstanceError):
        PAPER.epsilon = 0.1  # type: ignore[misc]
    with pytest.raises(ConfigError, match="Unknown protocol 'papr'; expected one of paper, pixel"):
        get_protocol("papr")
    with pytest.raises(ConfigError, match="attack_geometry"):
        Protocol(name="x", attack_geometry="l2")  # type: ignore[arg-type]


def test_fingerprint_changes_only_with_fields_that_change_predictions():
    assert PAPER.fingerprint() != PIXEL.fingerprint()
    metric_only = dataclasses.replace(
        PAPER, name="renamed", bootstrap_replicates=7, confidence_level=0.9, calibration_bins=10
    )
    assert metric_only.fingerprint() == PAPER.fingerprint()
    for change in (
        {"epsilon": 4 / 255},
        {"seed": 1},
        {"corruption_input": "native"},
        {"pgd_steps": 20},
    ):
        assert dataclasses.replace(PAPER, **change).fingerprint() != PAPER.fingerprint()
    assert set(PAPER.prediction_settings()).isdisjoint(PAPER.metric_settings())


def test_inputs_take_bootstrap_settings_from_the_protocol_unless_overridden():
    from quba.data.labels import LabelSpace

    space = LabelSpace("s", ("a", "b"), {}, {}, ())
    assert DimensionInputs({}, space).num_replicates == PAPER.bootstrap_replicates
    assert DimensionInputs({}, space, replicates=3, confidence_level=0.8).level == 0.8
    with pytest.raises(ConfigError, match="replicates"):
        _ = DimensionInputs({}, space, replicates=-1).num_replicates
