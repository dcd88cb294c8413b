"""Relative-accuracy combinations (PROTOCOL.md): adversarial, corruption and OOD robustness and
object focus. Every ratio divides by a clean accuracy; a zero clean accuracy makes the value
undefined (``None``), never infinite. A geometric mean that contains a zero is zero."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def geometric_mean(values: Iterable[float]) -> float:
    """``(prod v)^(1/n)`` of non-negative values; 0 if any value is 0.

    Raises:
        ValueError: no values, or a negative or non-finite value.
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError("Expected at least one value for a geometric mean, but got none")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"Expected finite non-negative values for a geometric mean, got {values}")
    if any(v == 0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def relative_accuracy(accuracy: float, clean_accuracy: float) -> float | None:
    """``accuracy / clean_accuracy``, or ``None`` when the clean accuracy is zero."""
    if clean_accuracy <= 0:
        return None
    return accuracy / clean_accuracy


def adversarial_robustness(
    pgd_accuracy: float, fgsm_accuracy: float, clean_accuracy: float
) -> float | None:
    """``gmean(A_PGD / A_clean, A_FGSM / A_clean)``, A_clean on the attacked images."""
    if clean_accuracy <= 0:
        return None
    return geometric_mean([pgd_accuracy / clean_accuracy, fgsm_accuracy / clean_accuracy])


def corruption_robustness(accuracies: Mapping[Any, float], clean_accuracy: float) -> float | None:
    """``mean_{c,s} A_{c,s} / A`` over the given (corruption, severity) accuracies."""
    if not accuracies:
        raise ValueError("Expected at least one corruption accuracy, but got none")
    if clean_accuracy <= 0:
        return None
    return sum(accuracies.values()) / len(accuracies) / clean_accuracy


def ood_robustness(accuracies: Mapping[str, float], clean_accuracy: float) -> float | None:
    """``gmean_d A_d / A`` over the OOD datasets."""
    if not accuracies:
        raise ValueError("Expected at least one OOD accuracy, but got none")
    if clean_accuracy <= 0:
        return None
    return geometric_mean(a / clean_accuracy for a in accuracies.values())


def object_focus(
    mixed_same_accuracy: float, mixed_rand_accuracy: float, clean_accuracy: float
) -> float | None:
    """``1 - (A_mixed_same - A_mixed_rand) / A`` (A: clean ImageNet accuracy)."""
    if clean_accuracy <= 0:
        return None
    return 1.0 - (mixed_same_accuracy - mixed_rand_accuracy) / clean_accuracy
