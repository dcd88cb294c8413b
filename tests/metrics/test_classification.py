"""Accuracy, label mappings, shape bias, parameter counts, softmax: against independent code."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch

from quba.data.labels import CATEGORIES_16, IMAGENET_9, LabelSpace
from quba.metrics import (
    accuracy,
    category_decisions,
    count_parameters,
    object_class_predictions,
    parameters_in_millions,
    parse_cue_conflict_name,
    rendition_predictions,
    shape_bias,
    shape_bias_counts,
    softmax,
)


def _space() -> LabelSpace:
    return LabelSpace(
        name="test-1k",
        classes=tuple(f"n{i:08d}" for i in range(1000)),
        categories=CATEGORIES_16,
        object_classes=IMAGENET_9,
        rendition_classes=tuple(range(0, 1000, 5)),
    )


def test_accuracy_counts_matches_from_labels_and_scores_and_torch():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(100, 7))
    target = rng.integers(0, 7, 100)
    expected = sum(int(np.argmax(row) == t) for row, t in zip(scores, target, strict=True)) / 100
    assert accuracy(scores, target) == expected
    assert accuracy(scores.argmax(axis=1), target) == expected
    assert accuracy(torch.tensor(scores), torch.tensor(target)) == expected
    with pytest.raises(ValueError, match="at least one sample"):
        accuracy(np.zeros(0, dtype=int), np.zeros(0, dtype=int))


def test_softmax_is_float64_stable_and_equals_scipy():
    logits = np.array([[1000.0, -1000.0, 0.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    probs = softmax(logits)
    assert probs.dtype == np.float64
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs, scipy.special.softmax(logits.astype(np.float64), axis=1))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_category_decisions_use_the_mean_probability_of_each_category():
    rng = np.random.default_rng(1)
    probs = softmax(rng.normal(size=(40, 1000)) * 3)
    got = category_decisions(probs, CATEGORIES_16)
    names = list(CATEGORIES_16)
    for i in range(len(probs)):
        means = [
            sum(probs[i, j] for j in CATEGORIES_16[name]) / len(CATEGORIES_16[name])
            for name in names
        ]
        assert got[i] == int(np.argmax(means))


def test_mean_not_sum_decides_a_category():
    probs = np.zeros((1, 1000))
    for j in CATEGORIES_16["dog"]:  # 0.6 spread over many dog classes: small mean
        probs[0, j] = 0.6 / len(CATEGORIES_16["dog"])
    probs[0, CATEGORIES_16["knife"][0]] = 0.4
    assert list(CATEGORIES_16)[category_decisions(probs, CATEGORIES_16)[0]] == "knife"


def test_object_class_mapping_follows_the_imagenet_9_table():
    space = _space()
    preds = np.arange(1000)
    got = object_class_predictions(preds, space.object_class_of)
    for index in range(1000):
        owners = [k for k, members in enumerate(IMAGENET_9.values()) if index in members]
        assert got[index] == (owners[0] if owners else -1)
    assert (got >= 0).sum() == 370


def test_rendition_predictions_take_the_argmax_among_kept_classes():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(50, 1000))
    kept = _space().rendition_classes
    masked = np.full_like(logits, -np.inf)
    masked[:, list(kept)] = logits[:, list(kept)]
    np.testing.assert_array_equal(rendition_predictions(logits, kept), masked.argmax(axis=1))


def test_shape_bias_skips_same_shape_and_texture_and_counts_both_cues():
    shape = np.array([0, 0, 1, 2, 3, 3])
    texture = np.array([1, 0, 2, 3, 1, 1])
    decisions = np.array([0, 0, 2, 5, 3, 1])  # shape, skipped, texture, other, shape, texture
    assert shape_bias_counts(decisions, shape, texture) == (2, 2, 5)
    assert shape_bias(decisions, shape, texture) == 0.5
    assert shape_bias(np.array([5, 5]), np.array([0, 1]), np.array([1, 0])) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cat3-knife1.png", ("cat", "knife")),
        ("airplane1-bicycle2.png", ("airplane", "bicycle")),
        ("cue-conflict/cat/cat10-elephant10.png", ("cat", "elephant")),
        ("bottle-oven.png", ("bottle", "oven")),
    ],
)
def test_parse_cue_conflict_name(name, expected):
    assert parse_cue_conflict_name(name) == expected


@pytest.mark.parametrize("name", ["cat3.png", "3-4.png", "cat3-knife1-dog2.png", ""])
def test_parse_cue_conflict_name_rejects_other_names(name):
    with pytest.raises(ValueError, match="cue-conflict file name"):
        parse_cue_conflict_name(name)


def test_count_parameters_counts_every_parameter_once():
    linear = torch.nn.Linear(10, 5)  # 10 * 5 + 5
    assert count_parameters(linear) == 55
    frozen = torch.nn.Sequential(linear, torch.nn.BatchNorm1d(5))
    frozen[1].weight.requires_grad_(False)
    assert count_parameters(frozen) == 55 + 10  # BN affine counts, running stats do not
    tied = torch.nn.Sequential(linear, linear)
    assert count_parameters(tied) == 55
    assert count_parameters(tied, unique=False) == 110
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        count_parameters([1, 2])


def test_count_parameters_of_resnet18_is_the_published_number():
    import torchvision

    model = torchvision.models.resnet18(weights=None)
    assert count_parameters(model) == 11_689_512
    assert parameters_in_millions(model) == pytest.approx(11.689512)
