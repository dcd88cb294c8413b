"""Weights of the QUBA score: the paper's, named presets, and ``key=value`` overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from quba.errors import ConfigError
from quba.scoring.reference import DIMENSION_KEYS

PAPER_WEIGHTS: Mapping[str, float] = {
    "accuracy": 1.0,
    "adv_robustness": 1 / 3,
    "c_robustness": 1 / 3,
    "ood_robustness": 1 / 3,
    "calibration_error": 1.0,
    "class_balance": 1.0,
    "object_focus": 1 / 2,
    "shape_bias": 1 / 2,
    "params": 1.0,
}


@dataclass(frozen=True)
class WeightPreset:
    """A named set of weights and the need it serves."""

    name: str
    weights: Mapping[str, float]
    intent: str


def _with(**changes: float) -> dict[str, float]:
    return {**PAPER_WEIGHTS, **changes}


_PRESETS: dict[str, WeightPreset] = {}


def register_preset(preset: WeightPreset) -> WeightPreset:
    """Register a preset; a name registered twice raises ``ValueError``."""
    if preset.name in _PRESETS:
        raise ValueError(f"A weight preset named {preset.name!r} is already registered")
    validate_weights(preset.weights, source=f"preset {preset.name!r}")
    _PRESETS[preset.name] = preset
    return preset


def get_preset(name: str) -> WeightPreset:
    try:
        return _PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown weight preset {name!r}; expected one of {', '.join(_PRESETS)}"
        ) from None


def list_presets() -> list[WeightPreset]:
    return list(_PRESETS.values())


def validate_weights(weights: Mapping[str, float], *, source: str = "weights") -> dict[str, float]:
    """Check keys and values; return a full mapping over the nine keys (absent keys: 0)."""
    unknown = [k for k in weights if k not in DIMENSION_KEYS]
    if unknown:
        raise ConfigError(
            f"Unknown dimension {unknown[0]!r} in {source}; expected one of "
            f"{', '.join(DIMENSION_KEYS)}"
        )
    for key, value in weights.items():
        if not isinstance(value, (int, float)) or value != value or value < 0:
            raise ConfigError(
                f"Expected a non-negative weight for {key!r} in {source}, got {value}"
            )
        if value == float("inf"):
            raise ConfigError(f"Expected a finite weight for {key!r} in {source}, got {value}")
    full = {k: float(weights.get(k, 0.0)) for k in DIMENSION_KEYS}
    if sum(full.values()) == 0:
        raise ConfigError(f"All weights in {source} are zero; at least one must be positive")
    return full


def parse_weights(text: str, base: Mapping[str, float] = PAPER_WEIGHTS) -> dict[str, float]:
    """Parse ``"shape_bias=2,params=0"``: the named weights replace those of ``base`` (default:
    the paper's weights); the other dimensions keep their ``base`` weight.

    Raises:
        ConfigError: a malformed item, an unknown key, a negative or non-numeric weight, or all
            weights zero.
    """
    weights = dict(base)
    seen: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"Expected --weights items like 'shape_bias=2', but got {item!r}")
        if key not in DIMENSION_KEYS:
            raise ConfigError(
                f"Unknown dimension {key!r} in --weights; expected one of "
                f"{', '.join(DIMENSION_KEYS)}"
            )
        if key in seen:
            raise ConfigError(f"Dimension {key!r} appears twice in --weights")
        seen.add(key)
        try:
            weights[key] = float(value)
        except ValueError:
            raise ConfigError(
                f"Expected a number for {key!r} in --weights, but got {value.strip()!r}"
            ) from None
    return validate_weights(weights, source="--weights")


register_preset(
    WeightPreset(
        "paper",
        PAPER_WEIGHTS,
        "The published QUBA score: accuracy, calibration, class balance and size count fully; "
        "the three robustness dimensions share one unit, object focus and shape bias another.",
    )
)
register_preset(
    WeightPreset(
        "equal",
        {k: 1.0 for k in DIMENSION_KEYS},
        "Every dimension counts the same; robustness then weighs three times the paper's.",
    )
)
register_preset(
    WeightPreset(
        "robustness-first",
        _with(adv_robustness=1.0, c_robustness=1.0, ood_robustness=1.0, params=0.5),
        "For deployment under distribution shift or attack: each robustness dimension counts as "
        "much as accuracy, and size counts half.",
    )
)
register_preset(
    WeightPreset(
        "efficiency-first",
        _with(params=3.0),
        "For edge and mobile deployment: the parameter count weighs three times accuracy; the "
        "other dimensions keep the paper's weights.",
    )
)
register_preset(
    WeightPreset(
        "trustworthiness-first",
        _with(calibration_error=3.0, class_balance=2.0, params=0.5),
        "For decisions that act on the model's confidence (triage, abstention, fairness across "
        "classes): calibration weighs three, class balance two, size half.",
    )
)
register_preset(
    WeightPreset(
        "accuracy-only",
        {"accuracy": 1.0},
        "The classic leaderboard: only top-1 accuracy, z-normalised (ranks as accuracy does).",
    )
)


def resolve_weights(weights: str | Mapping[str, float] | None) -> dict[str, float]:
    """A preset name, a ``key=value`` string (overriding the paper's weights), or a mapping."""
    if weights is None:
        return dict(PAPER_WEIGHTS)
    if isinstance(weights, str):
        if "=" in weights:
            return parse_weights(weights)
        return dict(get_preset(weights).weights)
    return validate_weights(weights)
