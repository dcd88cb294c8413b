"""The QUBA score: reference statistics, weights and presets, rank correlations, tables."""

from quba.scoring.reference import (
    DIMENSION_KEYS,
    DISPLAY_NAMES,
    PAPER_REFERENCE,
    SIGNS,
    Reference,
    self_reference,
)
from quba.scoring.score import Score, quba_score, rank_correlations
from quba.scoring.table import column_key, read_dimension_table
from quba.scoring.weights import (
    PAPER_WEIGHTS,
    WeightPreset,
    get_preset,
    list_presets,
    parse_weights,
    register_preset,
    resolve_weights,
    validate_weights,
)

__all__ = [
    "DIMENSION_KEYS",
    "DISPLAY_NAMES",
    "PAPER_REFERENCE",
    "PAPER_WEIGHTS",
    "SIGNS",
    "Reference",
    "Score",
    "WeightPreset",
    "column_key",
    "get_preset",
    "list_presets",
    "parse_weights",
    "quba_score",
    "rank_correlations",
    "read_dimension_table",
    "register_preset",
    "resolve_weights",
    "self_reference",
    "validate_weights",
]
