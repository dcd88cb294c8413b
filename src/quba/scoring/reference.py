"""Reference statistics of the QUBA score (PROTOCOL.md, "The QUBA score").

The paper's mean and standard deviation of each dimension over its 326 models are fixed
constants, so that scores are comparable across papers. A user may instead normalise against the
models they evaluated themselves (:func:`self_reference`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from quba.errors import ConfigError

DIMENSION_KEYS: tuple[str, ...] = (
    "accuracy",
    "adv_robustness",
    "c_robustness",
    "ood_robustness",
    "calibration_error",
    "class_balance",
    "object_focus",
    "shape_bias",
    "params",
)
DISPLAY_NAMES: Mapping[str, str] = {
    "accuracy": "Accuracy",
    "adv_robustness": "Adversarial Robustness",
    "c_robustness": "Corruption Robustness",
    "ood_robustness": "OOD Robustness",
    "calibration_error": "Calibration Error",
    "class_balance": "Class Balance",
    "object_focus": "Object Focus",
    "shape_bias": "Shape Bias",
    "params": "Parameters",
}
# +1: higher is better; -1: lower is better (the sign applied to the z-score)
SIGNS: Mapping[str, int] = {
    k: (-1 if k in ("calibration_error", "params") else 1) for k in DIMENSION_KEYS
}


@dataclass(frozen=True)
class Reference:
    """Mean and standard deviation of each dimension, to z-normalise against.

    ``ignored`` names dimensions the reference has no spread for (every model equal, or fewer
    than two values; see :func:`self_reference` with ``zero_spread="ignore"``): they have no
    statistics, and :func:`quba.scoring.quba_score` gives them weight 0, so they are neither used
    nor needed.
    """

    name: str
    mean: Mapping[str, float]
    std: Mapping[str, float]
    ignored: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in self.ignored:
            if key not in DIMENSION_KEYS or key in self.mean:
                raise ConfigError(
                    f"Reference {self.name!r}: ignored dimension {key!r} must be a known key "
                    "without statistics"
                )
        for key in self.mean:
            if key not in DIMENSION_KEYS:
                raise ConfigError(
                    f"Unknown dimension {key!r} in reference {self.name!r}; "
                    f"expected one of {', '.join(DIMENSION_KEYS)}"
                )
            std = self.std.get(key)
            if std is None or not np.isfinite(std) or std <= 0:
                raise ConfigError(
                    f"Reference {self.name!r}: expected a positive standard deviation for "
                    f"{key!r}, but got {std}"
                )


PAPER_REFERENCE = Reference(
    name="paper",
    mean={
        "accuracy": 0.7990557251908397,
        "adv_robustness": 0.18583778826016084,
        "c_robustness": 0.5298791080592711,
        "ood_robustness": 0.5664841617855405,
        "calibration_error": 0.004479927389289115,
        "class_balance": 0.783356376851669,
        "object_focus": 0.9286352601551336,
        "shape_bias": 0.30548520497464765,
        "params": 55.28778625954198,
    },
    std={
        "accuracy": 0.034685710545946026,
        "adv_robustness": 0.11083062192390095,
        "c_robustness": 0.23383978329969085,
        "ood_robustness": 0.14548627504237352,
        "calibration_error": 0.0026752085291489288,
        "class_balance": 0.024047971612660052,
        "object_focus": 0.017724144886557092,
        "shape_bias": 0.08354531823072534,
        "params": 42.8890536095964,
    },
)


def self_reference(
    values: Mapping[str, np.ndarray],
    keys: tuple[str, ...] | None = None,
    *,
    zero_spread: Literal["error", "ignore"] = "error",
) -> Reference:
    """Mean and sample standard deviation (ddof = 1) of each dimension over a set of models.

    Args:
        values: dimension key -> the models' values (NaN for a missing value, ignored).
        keys: the dimensions that need statistics (default: all keys of ``values``).
        zero_spread: what to do with a dimension that has no spread to normalise by, that is
            fewer than two values or all values equal (σ = 0): ``"error"`` raises;
            ``"ignore"`` leaves it out of ``mean``/``std`` and lists it in
            :attr:`Reference.ignored`, so that it contributes nothing to the score (weight 0),
            the rule of ``quba evaluate``'s table and of the report's "these models" reference.

    Raises:
        ConfigError: with ``zero_spread="error"``, a dimension has fewer than two values, or all
            its values are equal; an unknown ``zero_spread``.
    """
    if zero_spread not in ("error", "ignore"):
        raise ConfigError(f"Expected zero_spread 'error' or 'ignore', but got {zero_spread!r}")
    mean, std, ignored = {}, {}, []
    for key in keys if keys is not None else tuple(values):
        column = np.asarray(values[key], dtype=np.float64)
        column = column[np.isfinite(column)]
        if len(column) < 2:
            if zero_spread == "ignore":
                ignored.append(key)
                continue
            raise ConfigError(
                f"--reference self needs at least two models with a value for {key!r}, "
                f"but got {len(column)}"
            )
        # Equal values can give a tiny non-zero σ by rounding (mean of 3 x 0.1 != 0.1): compare.
        sd = 0.0 if np.all(column == column[0]) else float(np.std(column, ddof=1))
        if sd == 0:
            if zero_spread == "ignore":
                ignored.append(key)
                continue
            raise ConfigError(
                f"--reference self: every model has the same {key!r} ({column[0]}), so its "
                "standard deviation is 0; give it weight 0 or use --reference paper"
            )
        mean[key], std[key] = float(column.mean()), sd
    return Reference(name="self", mean=mean, std=std, ignored=tuple(ignored))
