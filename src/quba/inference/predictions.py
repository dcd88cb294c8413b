"""Predictions: the logits of one model on one dataset, the currency of quba.

Every dimension is a pure function of predictions. They are computed once per (model, dataset,
preprocessing, attack) and cached on disk.

A dimension that needs only the top-1 decision of each image (``c_robustness`` on ImageNet-C)
can be handed *top-1-only* predictions: ``Predictions(logits=None, top1=...)`` holds the argmax
class of each image (int16 or int32) instead of the ``(N, C)`` float32 logits, which for
ImageNet-C's 3.75 M images and 1000 classes would take 15 GB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

PredictionNeed = Literal["logits", "top1"]
"""What a dimension needs of a prediction key: the full logits, or only each image's top-1 class
(``logits.argmax(1)``). ``logits`` is the stronger need: it serves both."""

NEED_ORDER: tuple[PredictionNeed, ...] = ("top1", "logits")
"""The needs, weakest first (the strongest of several is the one with the highest position)."""


class LogitsUnavailableError(AttributeError):
    """Raised when the logits of top-1-only :class:`Predictions` are read."""


def top1_dtype(num_classes: int) -> np.dtype:
    """The smallest signed integer type holding class indices ``0 .. num_classes - 1``:
    int16 up to 32,767 classes, else int32."""
    return np.dtype(np.int16) if num_classes <= np.iinfo(np.int16).max else np.dtype(np.int32)


def top1_of(logits: np.ndarray) -> np.ndarray:
    """``logits.argmax(1)`` (a tie goes to the first maximum, NaN counts as the maximum, as in
    numpy), as :func:`top1_dtype` of the number of classes."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"Expected logits (N, C), but got shape {logits.shape}")
    if logits.shape[1] == 0:
        return np.zeros(len(logits), dtype=top1_dtype(0))
    return logits.argmax(axis=1).astype(top1_dtype(logits.shape[1]))


class _Logits:
    """The ``logits`` field: stored as given; reading ``None`` raises
    :class:`LogitsUnavailableError` with what to do instead."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> np.ndarray:
        if obj is None:
            raise AttributeError("logits has no default")  # dataclasses: a required field
        value = obj.__dict__[self._slot]
        if value is None:
            raise LogitsUnavailableError(
                "These predictions hold only the top-1 class of each image (loaded without "
                "logits to save memory); read .top1, or declare the need 'logits' for this "
                "prediction key in the dimension's `needs` so that the evaluation loads them"
            )
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self._slot] = None if value is None else np.asarray(value)


class _Top1:
    """The ``top1`` field: as given, else ``logits.argmax(1)`` computed once on first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> np.ndarray | None:
        if obj is None:
            return None  # dataclasses: the default
        value = obj.__dict__.get(self._slot)
        if value is None:
            value = top1_of(obj.__dict__["_logits"])
            obj.__dict__[self._slot] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self._slot] = None if value is None else np.asarray(value)


@dataclass(frozen=True, eq=False)
class Predictions:
    """Logits (or only top-1 classes) with their targets, sample ids and per-sample metadata.

    Attributes:
        logits: float32 array (N, C) over the classifier's label space (never probabilities);
            ``None`` for top-1-only predictions, whose ``logits`` then raise
            :class:`LogitsUnavailableError` (an ``AttributeError``).
        targets: int64 array (N,): the label of each image in its dataset's label space (class
            index, category index or object-class index; see :mod:`quba.data`).
        sample_ids: int64 array (N,): the image's index in its dataset, so that attacked and clean
            predictions of the same images can be matched.
        meta: per-sample metadata arrays of length N (for example ``corruption``, ``severity``,
            ``texture``), as named by the dataset.
        num_skipped: how many images of the dataset were left out as unreadable
            (``--skip-unreadable``); they have no row here.
        top1: integer array (N,): the top-1 class of each image, ``logits.argmax(1)`` (first
            maximum on ties). Given for top-1-only predictions; otherwise computed from the
            logits on first read (int16 up to 32,767 classes, else int32).

    ``dataclasses.replace`` works on predictions with logits only (it reads every field).
    """

    logits: np.ndarray = _Logits()  # type: ignore[assignment]
    targets: np.ndarray
    sample_ids: np.ndarray
    meta: Mapping[str, np.ndarray] = field(default_factory=dict)
    num_skipped: int = 0
    top1: np.ndarray | None = _Top1()  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.targets)
        logits = self.__dict__["_logits"]
        top1 = self.__dict__.get("_top1")
        if logits is None and top1 is None:
            raise ValueError("Expected logits (N, C) or top1 (N,), but got neither")
        if len(self.sample_ids) != n or (
            logits is not None and (logits.ndim != 2 or len(logits) != n)
        ):
            shape = None if logits is None else logits.shape
            raise ValueError(
                f"Expected logits (N, C), targets (N,), sample_ids (N,), but got shapes "
                f"{shape}, {np.shape(self.targets)}, {np.shape(self.sample_ids)}"
            )
        if top1 is not None and (top1.ndim != 1 or len(top1) != n or top1.dtype.kind not in "iu"):
            raise ValueError(
                f"Expected top1 as integers of shape ({n},), but got {top1.dtype} {top1.shape}"
            )
        for name, values in self.meta.items():
            if len(values) != n:
                raise ValueError(f"Expected meta[{name!r}] of length {n}, got {len(values)}")

    @classmethod
    def top1_only(
        cls,
        top1: np.ndarray,
        targets: np.ndarray,
        sample_ids: np.ndarray,
        meta: Mapping[str, np.ndarray] | None = None,
        num_skipped: int = 0,
    ) -> Predictions:
        """Predictions that hold only the top-1 class of each image (no logits)."""
        return cls(None, targets, sample_ids, dict(meta or {}), num_skipped, top1)  # type: ignore[arg-type]

    @property
    def has_logits(self) -> bool:
        """Whether the full logits are held (False for top-1-only predictions)."""
        return self.__dict__["_logits"] is not None

    def without_logits(self) -> Predictions:
        """The same predictions holding only :attr:`top1` (drops the (N, C) array)."""
        return Predictions.top1_only(
            self.top1, self.targets, self.sample_ids, self.meta, self.num_skipped
        )

    def __repr__(self) -> str:
        logits = self.__dict__["_logits"]
        held = f"logits={logits.shape}" if logits is not None else "top1 only"
        return f"Predictions(n={len(self)}, {held}, meta={sorted(self.meta)})"

    def __len__(self) -> int:
        return len(self.targets)

    def select(self, mask: np.ndarray) -> Predictions:
        """The predictions of the images where ``mask`` is true (or at the given positions)."""
        logits = self.__dict__["_logits"]
        top1 = self.__dict__.get("_top1")
        return Predictions(
            logits=None if logits is None else logits[mask],  # type: ignore[arg-type]
            targets=self.targets[mask],
            sample_ids=self.sample_ids[mask],
            meta={k: v[mask] for k, v in self.meta.items()},
            num_skipped=self.num_skipped,
            top1=None if top1 is None else top1[mask],
        )

    def aligned_to(self, sample_ids: np.ndarray) -> Predictions:
        """The predictions of exactly ``sample_ids``, in that order; raises if any is missing."""
        position = {int(s): i for i, s in enumerate(self.sample_ids)}
        missing = [int(s) for s in sample_ids if int(s) not in position]
        if missing:
            raise KeyError(f"{len(missing)} sample ids are missing, e.g. {missing[:5]}")
        return self.select(np.array([position[int(s)] for s in sample_ids], dtype=np.int64))


def strongest_need(needs: list[PredictionNeed] | tuple[PredictionNeed, ...]) -> PredictionNeed:
    """The strongest of several needs (``logits`` beats ``top1``); ``top1`` for none."""
    return max(needs, key=NEED_ORDER.index, default="top1")
