"""The report's single door to the QUBA score (:mod:`quba.scoring`).

Everything the report needs from the score (dimension order and names, directions, the paper's
reference statistics and weights, weight presets, the score itself and the rank correlations)
comes from :mod:`quba.scoring` through the functions here, so that QUBA is implemented once in
Python; the page's JavaScript receives the same constants as JSON and applies the same formula.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from quba import scoring

logger = logging.getLogger(__name__)

ReferenceName = Literal["paper", "self"]
REFERENCE_LABELS: dict[str, str] = {"paper": "paper", "self": "these models"}
MIN_MODELS_SELF_REFERENCE = 2


@dataclass(frozen=True)
class DimensionInfo:
    """One dimension as the report shows it: key, display name, direction and score constants."""

    key: str
    name: str
    higher_is_better: bool
    mu: float
    sigma: float
    weight: float


def dimension_infos() -> list[DimensionInfo]:
    """The nine dimensions in PROTOCOL.md's order, with the paper's reference μ/σ and weights."""
    reference = scoring.PAPER_REFERENCE
    return [
        DimensionInfo(
            key=key,
            name=scoring.DISPLAY_NAMES[key],
            higher_is_better=scoring.SIGNS[key] > 0,
            mu=float(reference.mean[key]),
            sigma=float(reference.std[key]),
            weight=float(scoring.PAPER_WEIGHTS[key]),
        )
        for key in scoring.DIMENSION_KEYS
    ]


def weight_presets() -> dict[str, dict[str, float]]:
    """Named weight presets (``paper`` first), each mapping all nine keys to a weight."""
    presets = {p.name: scoring.validate_weights(p.weights) for p in scoring.list_presets()}
    return {"paper": presets.pop("paper"), **presets}


def preset_intents() -> dict[str, str]:
    """The sentence that says what each preset is for."""
    return {p.name: p.intent for p in scoring.list_presets()}


def default_reference(suite: str, num_models: int) -> ReferenceName:
    """The reference a section is scored against unless the reader picks another.

    The paper's statistics describe ImageNet models: ``"paper"`` for the ImageNet suite; for any
    other suite ``"self"`` (the section's own models), when there are at least two models.
    """
    if suite == "imagenet" or num_models < MIN_MODELS_SELF_REFERENCE:
        return "paper"
    return "self"


def reference_stats(values: pd.DataFrame, name: ReferenceName) -> scoring.Reference | None:
    """The statistics of ``name`` for a section's values (models x dimension keys, NaN = missing).

    ``"paper"``: :data:`quba.scoring.PAPER_REFERENCE`. ``"self"``: mean and sample standard
    deviation (ddof = 1) of each dimension over the models that have it,
    :func:`quba.scoring.self_reference` with ``zero_spread="ignore"`` (a dimension with fewer than
    two values, or all equal, is listed in ``ignored`` and counts for nothing); ``None`` with
    fewer than two models.
    """
    if name == "paper":
        return scoring.PAPER_REFERENCE
    if name != "self":
        raise ValueError(f"expected reference 'paper' or 'self', got {name!r}")
    if len(values) < MIN_MODELS_SELF_REFERENCE:
        return None
    columns = {k: values[k].to_numpy(dtype=np.float64) for k in values.columns}
    return scoring.self_reference(columns, tuple(values.columns), zero_spread="ignore")


def score(
    values: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    reference: ReferenceName = "paper",
) -> pd.DataFrame:
    """QUBA of each row of ``values`` (models x dimension keys, NaN = missing).

    ``reference`` is ``"paper"`` or ``"self"`` (see :func:`reference_stats`; with fewer than two
    rows every score is NaN). Returns a frame with the index of ``values`` and columns ``quba`` (NaN
    unless every weighted dimension is present) and ``partial`` (the score over the present
    dimensions only; equal to ``quba`` for complete rows).
    """
    weights = dict(weights) if weights is not None else "paper"
    ref = reference_stats(values, reference)
    if ref is None:
        nan = np.full(len(values), np.nan)
        return pd.DataFrame({"quba": nan, "partial": nan}, index=values.index)
    # one pass: a row's partial score is its QUBA unless it misses a weighted dimension
    part = scoring.quba_score(values, weights=weights, reference=ref, allow_partial=True)
    partial = part["quba"].astype(float)
    return pd.DataFrame(
        {"quba": partial.where(~part["partial"].astype(bool)), "partial": partial},
        index=values.index,
    )


def zscores(values: pd.DataFrame, ref: scoring.Reference) -> pd.DataFrame:
    """Signed z-scores ``s_d (v_d − μ_d) / σ_d`` (outward = better), NaN where the value is
    missing or the reference ignores the dimension."""
    out = pd.DataFrame(np.nan, index=values.index, columns=values.columns)
    for key in values.columns:
        if key in ref.mean:
            out[key] = scoring.SIGNS[key] * (values[key] - ref.mean[key]) / ref.std[key]
    return out


def spearman(values: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """Spearman ρ, two-sided p-values and model counts between the dimensions (columns).

    Each pair uses the models that have both values (:func:`quba.scoring.rank_correlations`);
    pairs with fewer than three models, or a constant column, are NaN. The diagonal is ρ = 1,
    p = 0 where the dimension varies over at least three models. ``None`` when no pair can be
    computed.
    """
    keys = list(values.columns)
    long = scoring.rank_correlations(values, tuple(keys))
    if long.empty or long["rho"].isna().all():
        return None
    rho = pd.DataFrame(np.nan, index=keys, columns=keys)
    p = pd.DataFrame(np.nan, index=keys, columns=keys)
    n = pd.DataFrame(0, index=keys, columns=keys)
    for row in long.itertuples(index=False):
        rho.loc[row.a, row.b] = rho.loc[row.b, row.a] = row.rho
        p.loc[row.a, row.b] = p.loc[row.b, row.a] = row.p_value
        n.loc[row.a, row.b] = n.loc[row.b, row.a] = row.n
    for key in keys:
        column = values[key].dropna()
        n.loc[key, key] = len(column)
        if len(column) >= 3 and column.nunique() > 1:
            rho.loc[key, key], p.loc[key, key] = 1.0, 0.0
    return rho, p, n
