"""The plan: the attack of each prediction key under a protocol, and its cache-key fields."""

from __future__ import annotations

import dataclasses

import pytest

from quba.dimensions import get_protocol
from quba.errors import ConfigError
from quba.evaluation._plan import attack_of, parse_dims, prediction_keys, protocol_fields


@pytest.mark.parametrize("name", ["paper", "pixel"])
def test_attacks_follow_the_protocol_settings_of_protocol_md(name):
    protocol = get_protocol(name)
    pgd = attack_of("imagenet_val:pgd", protocol)
    fgsm = attack_of("imagenet_val:fgsm", protocol)
    assert (pgd.name, pgd.geometry, pgd.eps, pgd.step, pgd.steps, pgd.random_start) == (
        "pgd",
        name,
        8 / 255,
        2 / 255,
        10,
        True,
    )
    assert (fgsm.name, fgsm.geometry, fgsm.eps) == ("fgsm", name, 8 / 255)
    assert attack_of("imagenet_val", protocol) is None


def test_clean_predictions_are_shared_and_attacked_ones_are_not():
    paper, pixel = get_protocol("paper"), get_protocol("pixel")
    assert protocol_fields("imagenet_val", paper, 64) == protocol_fields("imagenet_val", pixel, 64)
    assert protocol_fields("imagenet_val", paper, 64) == {}
    attacked = protocol_fields("imagenet_val:pgd", paper, 64)
    assert attacked != protocol_fields("imagenet_val:pgd", pixel, 64)
    assert attacked != protocol_fields("imagenet_val:pgd", paper, 32)  # the start is per batch
    reseeded = dataclasses.replace(paper, seed=1)
    assert attacked != protocol_fields("imagenet_val:pgd", reseeded, 64)


def test_unknown_attack_and_dimension_keys_raise():
    with pytest.raises(ConfigError, match="Unknown attack 'cw'"):
        attack_of("imagenet_val:cw", get_protocol("paper"))
    with pytest.raises(ConfigError, match="nonsense"):
        parse_dims("accuracy,nonsense")


def test_prediction_keys_put_clean_before_attacks():
    keys = prediction_keys(["adv_robustness", "accuracy"], ("imagenet_val",))
    assert keys == ("imagenet_val", "imagenet_val:pgd", "imagenet_val:fgsm")
