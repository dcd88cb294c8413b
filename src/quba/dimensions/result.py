"""The value of one dimension for one model under one protocol."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DimensionResult:
    """A dimension's value with its 95 % bootstrap interval, sample count and breakdown.

    ``value`` is ``None`` when the dimension is undefined (for example a ratio whose clean
    accuracy is zero); ``missing_reason`` then says why. Intervals are ``None`` where no
    bootstrap applies (the parameter count). ``breakdown`` holds the parts the value is made
    of (accuracy per corruption and severity, per OOD dataset, clean vs attacked, …) as plain
    JSON-serialisable values. ``num_skipped`` counts unreadable images left out.
    """

    key: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    num_samples: int = 0
    breakdown: Mapping[str, Any] = field(default_factory=dict)
    missing_reason: str | None = None
    num_skipped: int = 0

    def __post_init__(self) -> None:
        if self.value is None and not self.missing_reason:
            raise ValueError(f"{self.key}: a missing value needs a missing_reason")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"{self.key}: value must be finite, got {self.value}")

    @property
    def is_missing(self) -> bool:
        return self.value is None
