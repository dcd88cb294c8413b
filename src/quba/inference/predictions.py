"""Predictions: the logits of one model on one dataset, the currency of quba.

Every dimension is a pure function of predictions. They are computed once per (model, dataset,
preprocessing, attack) and cached on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Predictions:
    """Logits with their targets, sample ids and per-sample metadata.

    Attributes:
        logits: float32 array (N, C) over the classifier's label space (never probabilities).
        targets: int64 array (N,): the label of each image in its dataset's label space (class
            index, category index or object-class index; see :mod:`quba.data`).
        sample_ids: int64 array (N,): the image's index in its dataset, so that attacked and clean
            predictions of the same images can be matched.
        meta: per-sample metadata arrays of length N (for example ``corruption``, ``severity``,
            ``texture``), as named by the dataset.
        num_skipped: how many images of the dataset were left out as unreadable
            (``--skip-unreadable``); they have no row here.
    """

    logits: np.ndarray
    targets: np.ndarray
    sample_ids: np.ndarray
    meta: Mapping[str, np.ndarray] = field(default_factory=dict)
    num_skipped: int = 0

    def __post_init__(self) -> None:
        n = len(self.targets)
        if self.logits.ndim != 2 or len(self.logits) != n or len(self.sample_ids) != n:
            raise ValueError(
                f"Expected logits (N, C), targets (N,), sample_ids (N,), but got shapes "
                f"{self.logits.shape}, {self.targets.shape}, {self.sample_ids.shape}"
            )
        for name, values in self.meta.items():
            if len(values) != n:
                raise ValueError(f"Expected meta[{name!r}] of length {n}, got {len(values)}")

    def __len__(self) -> int:
        return len(self.targets)

    def select(self, mask: np.ndarray) -> Predictions:
        """The predictions of the images where ``mask`` is true (or at the given positions)."""
        return Predictions(
            logits=self.logits[mask],
            targets=self.targets[mask],
            sample_ids=self.sample_ids[mask],
            meta={k: v[mask] for k, v in self.meta.items()},
            num_skipped=self.num_skipped,
        )

    def aligned_to(self, sample_ids: np.ndarray) -> Predictions:
        """The predictions of exactly ``sample_ids``, in that order; raises if any is missing."""
        position = {int(s): i for i, s in enumerate(self.sample_ids)}
        missing = [int(s) for s in sample_ids if int(s) not in position]
        if missing:
            raise KeyError(f"{len(missing)} sample ids are missing, e.g. {missing[:5]}")
        return self.select(np.array([position[int(s)] for s in sample_ids], dtype=np.int64))
