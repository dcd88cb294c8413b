"""The plan of an evaluation: which predictions the requested dimensions need, and how.

Everything here runs before any compute, so that a bad option fails at once and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from quba.dimensions import Protocol, dimension_keys, get_dimension
from quba.dimensions.registry import prediction_needs
from quba.errors import ConfigError
from quba.inference.attacks import AttackSpec

logger = logging.getLogger(__name__)

ATTACKS: tuple[str, ...] = ("pgd", "fgsm")

__all__ = [
    "ATTACKS",
    "attack_of",
    "dataset_of",
    "native_input",
    "parse_dims",
    "prediction_keys",
    "prediction_needs",
    "protocol_fields",
]


def parse_dims(dims: str | Sequence[str] | None) -> tuple[str, ...]:
    """The dimension keys of ``dims`` (``"all"``, ``"accuracy,params"`` or a list), in the order
    of PROTOCOL.md. Unknown keys raise :class:`ConfigError` naming every one of them."""
    known = dimension_keys()
    if dims is None:
        return known
    items = [d.strip() for d in dims.split(",")] if isinstance(dims, str) else list(dims)
    items = [d for d in items if d]
    if not items:
        raise ConfigError(f"Expected --dims to be all or keys out of {', '.join(known)}; got none")
    if items == ["all"]:
        return known
    unknown = [d for d in items if d not in known]
    if unknown:
        raise ConfigError(
            f"Unknown dimension key(s) in --dims: {', '.join(unknown)}; expected all or a "
            f"comma-separated list out of {', '.join(known)}"
        )
    return tuple(k for k in known if k in items)


def prediction_keys(dims: Sequence[str], dataset_order: Sequence[str] = ()) -> tuple[str, ...]:
    """The prediction keys the dimensions need, clean ImageNet first, then in suite order."""
    needed = {key for dim in dims for key in get_dimension(dim).requires}
    order = {key: i for i, key in enumerate(dataset_order)}

    def rank(key: str) -> tuple[int, int, str]:
        dataset, _, attack = key.partition(":")
        return (order.get(dataset, len(order)), ATTACKS.index(attack) + 1 if attack else 0, key)

    return tuple(sorted(needed, key=rank))


def dataset_of(prediction_key: str) -> str:
    """``imagenet_val:pgd`` -> ``imagenet_val``."""
    return prediction_key.partition(":")[0]


def attack_of(prediction_key: str, protocol: Protocol) -> AttackSpec | None:
    """The attack of an attacked prediction key under ``protocol``; None for clean data."""
    _, _, attack = prediction_key.partition(":")
    if not attack:
        return None
    if attack == "pgd":
        return AttackSpec(
            "pgd",
            geometry=protocol.attack_geometry,
            eps=protocol.epsilon,
            step=protocol.pgd_step,
            steps=protocol.pgd_steps,
            random_start=protocol.pgd_random_start,
        )
    if attack == "fgsm":
        return AttackSpec("fgsm", geometry=protocol.attack_geometry, eps=protocol.fgsm_epsilon)
    raise ConfigError(f"Unknown attack {attack!r} in prediction key {prediction_key!r}")


def native_input(prediction_key: str, protocol: Protocol) -> bool:
    """Whether the images of this key are fed at their native size (ImageNet-C, ``native``)."""
    return dataset_of(prediction_key) == "imagenet_c" and protocol.corruption_input == "native"


def protocol_fields(prediction_key: str, protocol: Protocol, batch_size: int) -> dict[str, Any]:
    """The protocol fields that change the predictions of this key (its cache key part).

    Clean predictions depend on none (``paper`` and ``pixel`` share them), ImageNet-C on the
    input size, attacks on their settings, the seed and the batch size (the random start is
    drawn per batch).
    """
    fields: dict[str, Any] = {}
    if dataset_of(prediction_key) == "imagenet_c":
        fields["corruption_input"] = protocol.corruption_input
    attack = attack_of(prediction_key, protocol)
    if attack is not None:
        fields.update(attack.fields())
        fields["seed"] = protocol.seed
        fields["batch_size"] = batch_size
    return fields
