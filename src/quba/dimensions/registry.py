"""The registry of dimensions and the inputs every dimension computes from."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from quba.data.labels import LabelSpace
from quba.dimensions.protocol import PAPER, Protocol
from quba.dimensions.result import DimensionResult
from quba.errors import ConfigError
from quba.inference.predictions import NEED_ORDER, PredictionNeed, Predictions, strongest_need
from quba.metrics import bootstrap
from quba.metrics._arrays import log_softmax_normalizer

logger = logging.getLogger(__name__)

Direction = Literal["higher", "lower"]
CLEAN = "imagenet_val"


@dataclass(frozen=True)
class CleanSummary:
    """Per-image quantities of the clean ImageNet predictions, computed once (float64 softmax).

    ``confidence`` = max p, ``prediction`` = argmax p (first on ties), ``correct``,
    ``true_prob`` = p[y].
    """

    sample_ids: np.ndarray
    target: np.ndarray
    confidence: np.ndarray
    prediction: np.ndarray
    correct: np.ndarray
    true_prob: np.ndarray

    @classmethod
    def from_predictions(cls, predictions: Predictions) -> CleanSummary:
        logits = predictions.logits
        normalizer = log_softmax_normalizer(logits)
        target = predictions.targets.astype(np.int64)
        prediction = logits.argmax(axis=1)
        top = logits[np.arange(len(target)), prediction].astype(np.float64)
        true = logits[np.arange(len(target)), target].astype(np.float64)
        return cls(
            sample_ids=predictions.sample_ids.astype(np.int64),
            target=target,
            confidence=np.exp(top - normalizer),
            prediction=prediction,
            correct=(prediction == target).astype(np.float64),
            true_prob=np.exp(true - normalizer),
        )


@dataclass(frozen=True)
class DimensionInputs:
    """Everything a dimension computes from.

    Attributes:
        predictions: dataset key -> predictions (keys of docs/architecture.md, e.g.
            ``imagenet_val``, ``imagenet_val:pgd``, ``imagenet_c``, ``cue_conflict``).
        label_space: how the datasets read a prediction (categories, object classes, ...).
        protocol: the protocol (bins, bootstrap replicates, confidence level, seed).
        num_params: the classifier's parameter count (for ``params``).
        replicates, confidence_level, seed: override the protocol's bootstrap settings
            (``replicates=0``: no intervals).
    """

    predictions: Mapping[str, Predictions]
    label_space: LabelSpace
    protocol: Protocol = PAPER
    num_params: int | None = None
    replicates: int | None = None
    confidence_level: float | None = None
    seed: int | None = None

    @property
    def num_replicates(self) -> int:
        r = self.protocol.bootstrap_replicates if self.replicates is None else self.replicates
        if r < 0:
            raise ConfigError(f"Expected a number of bootstrap replicates >= 0, but got {r}")
        return r

    @property
    def level(self) -> float:
        level = self.protocol.confidence_level
        return level if self.confidence_level is None else self.confidence_level

    @property
    def base_seed(self) -> int:
        return self.protocol.seed if self.seed is None else self.seed

    @functools.cached_property
    def clean(self) -> CleanSummary:
        return CleanSummary.from_predictions(self.predictions[CLEAN])

    @functools.cached_property
    def clean_universe(self) -> np.ndarray:
        return np.unique(self.clean.sample_ids)

    @functools.cached_property
    def clean_counts(self) -> np.ndarray:
        """(R, U) replicate counts over the clean sample ids; shared by every dimension, so the
        replicate ``r`` of every ratio uses the same draw of clean images."""
        rng = bootstrap.stream(self.base_seed, CLEAN)
        return bootstrap.draw_counts(len(self.clean_universe), self.num_replicates, rng)

    def clean_weights(self, ids: np.ndarray | None = None) -> np.ndarray:
        """(R, N) replicate counts of the clean images, or of ``ids`` (sample ids of the clean set,
        e.g. attacked or corrupted copies of clean images)."""
        ids = self.clean.sample_ids if ids is None else ids
        return bootstrap.counts_for(ids, self.clean_universe, self.clean_counts)

    def shares_clean_images(self, ids: np.ndarray) -> bool:
        """Whether every id is a clean sample id (then the images are resampled jointly)."""
        pos = np.searchsorted(self.clean_universe, ids)
        pos = np.minimum(pos, len(self.clean_universe) - 1)
        return bool(len(ids)) and bool(np.all(self.clean_universe[pos] == ids))

    def interval(self, values: np.ndarray) -> tuple[float | None, float | None]:
        """Percentile interval of replicate values, ``(None, None)`` without replicates."""
        if self.num_replicates == 0:
            return None, None
        low, high = bootstrap.percentile_interval(values, self.level)
        if not np.isfinite(low):
            return None, None
        return low, high


@dataclass(frozen=True)
class Dimension:
    """One quality dimension: its metadata and how to compute it.

    Attributes:
        key: identifier used everywhere (CLI, store, tables), e.g. ``calibration_error``.
        display_name: the paper's name, e.g. ``Calibration Error``.
        direction: ``higher`` or ``lower`` is better.
        weight: the paper's weight in the QUBA score.
        requires: dataset keys of the predictions it needs (``params`` needs none).
        unit: unit of the value ("" for a fraction, "M" for millions of parameters).
        needs: what it needs of some of its required prediction keys, as ``(key, need)`` pairs:
            ``"top1"`` when only each image's top-1 class is read (``Predictions.top1``), so
            the evaluation may load that key without its ``(N, C)`` logits. A required key not
            named here needs ``"logits"``. See :meth:`need`.
    """

    key: str
    display_name: str
    direction: Direction
    weight: float
    requires: tuple[str, ...]
    compute_fn: Callable[[DimensionInputs], DimensionResult] = field(repr=False)
    unit: str = ""
    description: str = ""
    needs: tuple[tuple[str, PredictionNeed], ...] = ()

    def __post_init__(self) -> None:
        for key, need in self.needs:
            if key not in self.requires:
                raise ValueError(
                    f"Dimension {self.key!r} declares a need for {key!r}, which is not among "
                    f"its required keys {self.requires}"
                )
            if need not in NEED_ORDER:
                raise ValueError(
                    f"Expected the need of {key!r} to be one of {NEED_ORDER}, but got {need!r}"
                )

    def need(self, key: str) -> PredictionNeed:
        """What this dimension needs of prediction key ``key``: ``"top1"`` or ``"logits"``."""
        return dict(self.needs).get(key, "logits")

    def compute(self, inputs: DimensionInputs) -> DimensionResult:
        """The dimension's value; missing predictions give a missing result with the reason."""
        absent = [k for k in self.requires if k not in inputs.predictions]
        if absent:
            return DimensionResult(
                key=self.key,
                value=None,
                missing_reason=f"no predictions for {', '.join(absent)}",
            )
        empty = [k for k in self.requires if len(inputs.predictions[k]) == 0]
        if empty:
            return DimensionResult(
                key=self.key, value=None, missing_reason=f"no images in {', '.join(empty)}"
            )
        logger.info("computing %s", self.key)
        return self.compute_fn(inputs)


_REGISTRY: dict[str, Dimension] = {}


def register_dimension(dimension: Dimension) -> Dimension:
    """Register a dimension; a key registered twice raises ``ValueError``."""
    if dimension.key in _REGISTRY:
        raise ValueError(f"A dimension with key {dimension.key!r} is already registered")
    if dimension.direction not in ("higher", "lower"):
        raise ValueError(f"Expected direction 'higher' or 'lower', got {dimension.direction!r}")
    _REGISTRY[dimension.key] = dimension
    return dimension


def get_dimension(key: str) -> Dimension:
    """The dimension with ``key``; an unknown key raises :class:`ConfigError`."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ConfigError(
            f"Unknown dimension {key!r}; expected one of {', '.join(_REGISTRY)}"
        ) from None


def list_dimensions() -> list[Dimension]:
    """All registered dimensions, in the order of PROTOCOL.md."""
    return list(_REGISTRY.values())


def dimension_keys() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def prediction_needs(keys: Iterable[str]) -> dict[str, PredictionNeed]:
    """Prediction key -> the strongest need of the dimensions ``keys`` (``logits`` when any of
    them reads the logits of that key, else ``top1``)."""
    gathered: dict[str, list[PredictionNeed]] = {}
    for key in keys:
        dimension = get_dimension(key)
        for required in dimension.requires:
            gathered.setdefault(required, []).append(dimension.need(required))
    return {key: strongest_need(needs) for key, needs in gathered.items()}
