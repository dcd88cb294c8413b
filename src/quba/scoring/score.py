"""The QUBA score and rank correlations between dimensions.

``QUBA = sum_d w_d s_d (v_d - mu_d) / sigma_d / sum_d w_d`` with the sign ``s_d = -1`` for the
lower-is-better dimensions (calibration error, parameters) and ``+1`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from quba.errors import ConfigError
from quba.scoring.reference import DIMENSION_KEYS, PAPER_REFERENCE, SIGNS, Reference, self_reference
from quba.scoring.weights import resolve_weights

if TYPE_CHECKING:
    import pandas as pd

ReferenceLike = Literal["paper", "self"] | Reference


@dataclass(frozen=True)
class Score:
    """The QUBA of one model. ``value`` is ``None`` when a weighted dimension is missing and a
    partial score was not asked for; ``partial`` says the value uses only the present ones."""

    value: float | None
    partial: bool
    missing: tuple[str, ...]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _score_row(
    values: Mapping[str, Any],
    weights: Mapping[str, float],
    reference: Reference,
    allow_partial: bool,
) -> Score:
    used = [k for k in DIMENSION_KEYS if weights.get(k, 0.0) > 0]
    missing = tuple(k for k in used if _is_missing(values.get(k)))
    present = [k for k in used if k not in missing]
    if missing and not allow_partial:
        return Score(None, False, missing)
    if not present:
        return Score(None, bool(missing), missing)
    total = sum(weights[k] for k in present)
    z = sum(
        weights[k] * SIGNS[k] * (float(values[k]) - reference.mean[k]) / reference.std[k]
        for k in present
    )
    return Score(z / total, bool(missing), missing)


ZeroSpread = Literal["error", "ignore"]


def _resolve_reference(
    reference: ReferenceLike,
    columns: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    zero_spread: ZeroSpread = "error",
) -> Reference:
    if isinstance(reference, Reference):
        absent = [
            k
            for k, w in weights.items()
            if w > 0 and k not in reference.mean and k not in reference.ignored
        ]
        if absent:
            raise ConfigError(
                f"Reference {reference.name!r} has no statistics for {', '.join(absent)}"
            )
        return reference
    if reference == "paper":
        return PAPER_REFERENCE
    if reference == "self":
        keys = tuple(k for k, w in weights.items() if w > 0)
        missing = [k for k in keys if k not in columns]
        if missing:
            raise ConfigError(
                f"--reference self needs a column for every weighted dimension; missing: "
                f"{', '.join(missing)}"
            )
        return self_reference(columns, keys, zero_spread=zero_spread)
    raise ConfigError(f"Expected reference 'paper' or 'self', but got {reference!r}")


@overload
def quba_score(
    values: Mapping[str, Any],
    *,
    weights: str | Mapping[str, float] | None = ...,
    reference: ReferenceLike = ...,
    allow_partial: bool = ...,
    zero_spread: ZeroSpread = ...,
) -> Score: ...


@overload
def quba_score(
    values: pd.DataFrame,
    *,
    weights: str | Mapping[str, float] | None = ...,
    reference: ReferenceLike = ...,
    allow_partial: bool = ...,
    zero_spread: ZeroSpread = ...,
) -> pd.DataFrame: ...


def quba_score(
    values: Any,
    *,
    weights: str | Mapping[str, float] | None = "paper",
    reference: ReferenceLike = "paper",
    allow_partial: bool = False,
    zero_spread: ZeroSpread = "error",
) -> Any:
    """The QUBA score of one model (a mapping key -> value) or of every row of a DataFrame.

    Args:
        values: ``{"accuracy": 0.81, ..., "params": 25.6}`` (params in millions; ``None`` or NaN
            for a missing value), or a DataFrame with one row per model and dimension-key columns.
        weights: a preset name (``"paper"``, ``"robustness-first"``, ...), a ``"key=w,..."``
            string overriding the paper's weights, or a full mapping. A dimension of weight 0 is
            neither needed nor used.
        reference: ``"paper"`` (the published statistics), ``"self"`` (mean and sample standard
            deviation of the rows themselves; needs a DataFrame of at least two models) or a
            :class:`Reference`.
        allow_partial: score rows that miss weighted dimensions over the present ones only, and
            mark them partial; otherwise such rows get no score.
        zero_spread: for ``reference="self"``, a weighted dimension with no spread over the rows
            (fewer than two values, or all equal): ``"error"`` raises :class:`ConfigError`,
            ``"ignore"`` gives it weight 0 (neither used nor needed), as ``quba evaluate``'s table
            and the report's "these models" reference do. A :class:`Reference` whose
            ``ignored`` names a dimension always gives it weight 0.

    Returns:
        A :class:`Score` for a mapping; for a DataFrame, a DataFrame with the same index and
        columns ``quba`` (float, NaN when not scored), ``partial`` (bool) and ``missing`` (the
        missing dimension keys joined by ``;``).
    """
    resolved = resolve_weights(weights)
    if hasattr(values, "iterrows"):
        columns = {k: values[k].to_numpy(dtype=np.float64) for k in DIMENSION_KEYS if k in values}
        ref = _resolve_reference(reference, columns, resolved, zero_spread)
        return _score_frame(values, _drop_ignored(resolved, ref), ref, allow_partial)
    unknown = [k for k in values if k not in DIMENSION_KEYS]
    if unknown:
        raise ConfigError(
            f"Unknown dimension {unknown[0]!r}; expected one of {', '.join(DIMENSION_KEYS)}"
        )
    if reference == "self":
        raise ConfigError("--reference self needs at least two models, but got one")
    ref = _resolve_reference(reference, {}, resolved, zero_spread)
    return _score_row(values, _drop_ignored(resolved, ref), ref, allow_partial)


def _drop_ignored(weights: Mapping[str, float], reference: Reference) -> Mapping[str, float]:
    """Weight 0 for the dimensions the reference has no spread for (``Reference.ignored``)."""
    if not reference.ignored:
        return weights
    return {k: 0.0 if k in reference.ignored else w for k, w in weights.items()}


def _score_frame(
    frame: pd.DataFrame, weights: Mapping[str, float], reference: Reference, allow_partial: bool
) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for _, row in frame.iterrows():
        values = {
            k: (None if pd.isna(row[k]) else float(row[k])) for k in DIMENSION_KEYS if k in row
        }
        score = _score_row(values, weights, reference, allow_partial)
        rows.append(
            {
                "quba": np.nan if score.value is None else score.value,
                "partial": score.partial,
                "missing": ";".join(score.missing),
            }
        )
    return pd.DataFrame(rows, index=frame.index, columns=["quba", "partial", "missing"])


def rank_correlations(frame: pd.DataFrame, keys: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Spearman rank correlation and its two-sided p-value for every pair of dimensions.

    Each pair uses the models that have both values. Returns a long DataFrame with columns
    ``a``, ``b``, ``rho``, ``p_value``, ``n`` (pairs with fewer than three models get NaN).
    """
    import pandas as pd
    from scipy.stats import spearmanr

    keys = tuple(k for k in DIMENSION_KEYS if k in frame) if keys is None else keys
    rows = []
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            both = frame[[a, b]].dropna()
            rho = p = np.nan
            if len(both) >= 3 and both[a].nunique() > 1 and both[b].nunique() > 1:
                result = spearmanr(both[a], both[b])
                rho, p = float(result.statistic), float(result.pvalue)
            rows.append({"a": a, "b": b, "rho": rho, "p_value": p, "n": len(both)})
    return pd.DataFrame(rows, columns=["a", "b", "rho", "p_value", "n"])
