"""Protocols: the frozen, named, versioned choices that define the numbers (PROTOCOL.md).

``paper`` reproduces the publication (attacks in the normalized geometry, ImageNet-C through the
model's own preprocessing); ``pixel`` is the standard pixel-space threat model. Results of
different protocols are never scored together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal

from quba.errors import ConfigError

AttackGeometry = Literal["paper", "pixel"]
CorruptionInput = Literal["preprocessing", "native"]

# Fields that change the predictions themselves (cache key); every other field only changes how
# the metrics read them.
PREDICTION_FIELDS = (
    "attack_geometry",
    "epsilon",
    "pgd_step",
    "pgd_steps",
    "pgd_random_start",
    "fgsm_epsilon",
    "corruption_input",
    "seed",
)


@dataclass(frozen=True)
class Protocol:
    """One protocol of the benchmark.

    Attributes:
        name, version: identify the protocol; the version changes whenever a field does.
        attack_geometry: ``paper`` (epsilon and clip on the normalized tensor, as the reference
            did) or ``pixel`` (on [0, 1] pixels).
        epsilon, pgd_step, pgd_steps, pgd_random_start: the L-inf PGD attack.
        fgsm_epsilon: the FGSM step.
        calibration_bins: bins of the ECE and of the ACE.
        corruption_input: ImageNet-C through the model's ``preprocessing`` or at ``native`` size.
        seed: seeds the attacks' random start and the bootstrap.
        bootstrap_replicates: replicates of the percentile bootstrap (0: no intervals).
        confidence_level: coverage of the bootstrap intervals.
    """

    name: str
    version: int = 1
    attack_geometry: AttackGeometry = "paper"
    epsilon: float = 8 / 255
    pgd_step: float = 2 / 255
    pgd_steps: int = 10
    pgd_random_start: bool = True
    fgsm_epsilon: float = 8 / 255
    calibration_bins: int = 15
    corruption_input: CorruptionInput = "preprocessing"
    seed: int = 0
    bootstrap_replicates: int = 200
    confidence_level: float = 0.95

    def __post_init__(self) -> None:
        if self.attack_geometry not in ("paper", "pixel"):
            raise ConfigError(
                f"Expected attack_geometry 'paper' or 'pixel', but got {self.attack_geometry!r}"
            )
        if self.corruption_input not in ("preprocessing", "native"):
            raise ConfigError(
                "Expected corruption_input 'preprocessing' or 'native', "
                f"but got {self.corruption_input!r}"
            )
        if self.bootstrap_replicates < 0 or not 0 < self.confidence_level < 1:
            raise ConfigError(
                "Expected bootstrap_replicates >= 0 and confidence_level in (0, 1), but got "
                f"{self.bootstrap_replicates} and {self.confidence_level}"
            )
        if self.calibration_bins < 1 or self.pgd_steps < 0:
            raise ConfigError(
                f"Expected calibration_bins >= 1 and pgd_steps >= 0, but got "
                f"{self.calibration_bins} and {self.pgd_steps}"
            )

    def prediction_settings(self) -> dict[str, object]:
        """The fields that change predictions (attacks, ImageNet-C input, seed)."""
        return {k: v for k, v in asdict(self).items() if k in PREDICTION_FIELDS}

    def metric_settings(self) -> dict[str, object]:
        """The fields that only change how metrics read predictions."""
        skip = {*PREDICTION_FIELDS, "name", "version"}
        return {k: v for k, v in asdict(self).items() if k not in skip}

    def fingerprint(self) -> str:
        """A 16-hex-digit hash of :meth:`prediction_settings`: equal for protocols whose
        predictions are interchangeable (a cache key), whatever their name or metric settings."""
        text = json.dumps(self.prediction_settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


PAPER = Protocol(name="paper", attack_geometry="paper", corruption_input="preprocessing")
PIXEL = Protocol(name="pixel", attack_geometry="pixel", corruption_input="preprocessing")

_PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (PAPER, PIXEL)}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; an unknown name raises :class:`ConfigError`."""
    try:
        return _PROTOCOLS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown protocol {name!r}; expected one of {', '.join(list_protocols())}"
        ) from None


def list_protocols() -> list[str]:
    return list(_PROTOCOLS)
