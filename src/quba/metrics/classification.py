"""Accuracy and the label mappings of PROTOCOL.md: 16-category decisions, the ImageNet-9 mapping,
the ImageNet-R masked argmax, and the shape-bias count on cue-conflict images."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

import numpy as np

from quba.metrics._arrays import to_numpy


def accuracy(preds: Any, target: Any) -> float:
    """Top-1 accuracy: the fraction of samples whose prediction equals the target.

    Args:
        preds: (N,) predicted labels, or (N, C) scores (logits or probabilities; argmax is taken,
            ties resolve to the first maximal class).
        target: (N,) labels.
    """
    preds = to_numpy(preds, name="preds")
    target = to_numpy(target, name="target")
    if preds.ndim == 2:
        preds = preds.argmax(axis=1)
    if preds.shape != target.shape or preds.ndim != 1:
        raise ValueError(
            f"Expected `preds` (N,) or (N, C) and `target` (N,), but got {preds.shape}, "
            f"{target.shape}"
        )
    if len(target) == 0:
        raise ValueError("Expected at least one sample to compute the accuracy, but got none")
    return float(np.mean(preds == target))


def category_probabilities(probs: Any, categories: Mapping[str, Sequence[int]]) -> np.ndarray:
    """(N, K) probability of each category: the *mean* of ``p`` over the category's class indices.

    Args:
        probs: (N, C) probabilities (softmax of the logits).
        categories: category name -> class indices, in category-index order
            (``LabelSpace.categories``).
    """
    probs = to_numpy(probs, name="probs")
    if probs.ndim != 2:
        raise ValueError(f"Expected argument `probs` of shape (N, C), but got {probs.shape}")
    columns = [probs[:, list(indices)].mean(axis=1) for indices in categories.values()]
    return np.stack(columns, axis=1).astype(np.float64)


def category_decisions(probs: Any, categories: Mapping[str, Sequence[int]]) -> np.ndarray:
    """(N,) category index with the highest mean probability (first on ties)."""
    return category_probabilities(probs, categories).argmax(axis=1)


def object_class_predictions(preds: Any, object_class_of: np.ndarray) -> np.ndarray:
    """(N,) object class (ImageNet-9 index) of each top-1 prediction, -1 where it maps to none.

    Args:
        preds: (N,) predicted class indices or (N, C) scores (argmax taken).
        object_class_of: (C,) class index -> object-class index or -1
            (``LabelSpace.object_class_of``).
    """
    preds = to_numpy(preds, name="preds")
    if preds.ndim == 2:
        preds = preds.argmax(axis=1)
    return np.asarray(object_class_of)[preds.astype(np.int64)]


def rendition_predictions(scores: Any, rendition_classes: Sequence[int]) -> np.ndarray:
    """(N,) class index of the argmax among ``rendition_classes`` only (ImageNet-R masked argmax).

    Args:
        scores: (N, C) logits or probabilities.
        rendition_classes: the kept class indices, ascending (``LabelSpace.rendition_classes``).
    """
    scores = to_numpy(scores, name="logits")
    kept = np.asarray(rendition_classes, dtype=np.int64)
    return kept[scores[:, kept].argmax(axis=1)]


def shape_bias_counts(decisions: Any, shape: Any, texture: Any) -> tuple[int, int, int]:
    """Counts on cue-conflict images: (#shape decisions, #texture decisions, #images used).

    Images whose shape equals their texture are skipped. All arguments are (N,) category indices.
    """
    decisions = to_numpy(decisions, name="decisions")
    shape = to_numpy(shape, name="shape")
    texture = to_numpy(texture, name="texture")
    if not decisions.shape == shape.shape == texture.shape:
        raise ValueError(
            f"Expected `decisions`, `shape`, `texture` of equal shape (N,), but got "
            f"{decisions.shape}, {shape.shape}, {texture.shape}"
        )
    used = shape != texture
    n_shape = int(np.sum(used & (decisions == shape)))
    n_texture = int(np.sum(used & (decisions == texture)))
    return n_shape, n_texture, int(used.sum())


def shape_bias(decisions: Any, shape: Any, texture: Any) -> float | None:
    """``#shape / (#shape + #texture)`` over cue-conflict images with shape != texture; ``None``
    when there is no shape or texture decision at all (undefined)."""
    n_shape, n_texture, _ = shape_bias_counts(decisions, shape, texture)
    if n_shape + n_texture == 0:
        return None
    return n_shape / (n_shape + n_texture)


_CUE_CONFLICT = re.compile(r"^([A-Za-z_ ]+?)\d*-([A-Za-z_ ]+?)\d*$")


def parse_cue_conflict_name(name: str) -> tuple[str, str]:
    """``"cat3-knife1.png" -> ("cat", "knife")``: the shape and texture category of a file name.

    The name is ``<shape><n>-<texture><m>.<ext>``; any directory part and the extension are
    dropped, and the digits after each category are stripped.

    Raises:
        ValueError: the name does not have that form.
    """
    stem = PurePath(name).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    match = _CUE_CONFLICT.match(stem)
    if match is None:
        raise ValueError(
            f"Expected a cue-conflict file name like 'cat3-knife1.png', but got {name!r}"
        )
    return match.group(1), match.group(2)
