"""What an evaluation returns: per model, every dimension's result, and ways to save them."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quba.dimensions import DimensionResult, Protocol
from quba.errors import ConfigError
from quba.store import ResultRecord
from quba.store._sqlite import finite_json

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ModelEvaluation:
    """The results of one model under one protocol.

    Attributes:
        spec: the canonical model spec.
        protocol: the protocol's name; ``suite`` the suite's name.
        subset: 0 for the full datasets, ``N`` for a ``limit=N`` run.
        results: dimension key -> :class:`~quba.dimensions.DimensionResult`, in protocol order.
        num_params, weights_id: from the classifier.
        provenance: package versions, device, seed, data fingerprints, time.
        forwarded: images forwarded (clean) or attacked per prediction key in this run (0 for
            what came from the cache).
    """

    spec: str
    protocol: str
    suite: str
    subset: int
    results: Mapping[str, DimensionResult]
    num_params: int = 0
    weights_id: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)
    forwarded: Mapping[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> DimensionResult:
        return self.results[key]

    def value(self, key: str) -> float | None:
        result = self.results.get(key)
        return None if result is None else result.value

    def to_dict(self) -> dict[str, Any]:
        """``{"model", "protocol", "suite", "subset", "dimensions": {key: {...}}}``."""
        return {
            "model": self.spec,
            "protocol": self.protocol,
            "suite": self.suite,
            "subset": self.subset,
            "num_params": self.num_params,
            "dimensions": {
                key: {
                    "value": r.value,
                    "interval": [r.ci_low, r.ci_high],
                    "num_samples": r.num_samples,
                    "num_skipped": r.num_skipped,
                    "missing_reason": r.missing_reason,
                    "breakdown": dict(r.breakdown),
                }
                for key, r in self.results.items()
            },
        }

    def records(self, protocol: Protocol) -> list[ResultRecord]:
        """One store row per dimension."""
        return [
            ResultRecord(
                model=self.spec,
                dimension=key,
                protocol=self.protocol,
                value=r.value,
                suite=self.suite,
                subset=self.subset,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                num_samples=r.num_samples,
                num_skipped=r.num_skipped,
                missing_reason=r.missing_reason,
                breakdown=dict(r.breakdown),
                provenance=dict(self.provenance),
                protocol_version=str(protocol.version),
                protocol_fingerprint=protocol.fingerprint(),
            )
            for key, r in self.results.items()
        ]


@dataclass(frozen=True)
class Evaluation:
    """The results of :func:`quba.evaluate`: one :class:`ModelEvaluation` per model.

    ``evaluation["timm:resnet50.a1_in1k"]["accuracy"].value``; ``evaluation.to_frame()``;
    ``evaluation.save("results.json")``.
    """

    models: Sequence[ModelEvaluation]
    protocol: Protocol
    dims: tuple[str, ...]
    store_path: Path | None = None
    label_space: str = ""

    def __iter__(self) -> Iterator[ModelEvaluation]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def __getitem__(self, spec: str | int) -> ModelEvaluation:
        if isinstance(spec, int):
            return self.models[spec]
        for model in self.models:
            if model.spec == spec:
                return model
        raise KeyError(f"{spec!r} is not among the evaluated models")

    @property
    def forwarded(self) -> int:
        """Images forwarded or attacked in this run, all models and datasets together."""
        return sum(sum(m.forwarded.values()) for m in self.models)

    def to_frame(self, *, intervals: bool = False) -> pd.DataFrame:
        """One row per model, one column per dimension key (plus ``<key>_ci_low``/``_ci_high``
        with ``intervals``)."""
        import pandas as pd

        rows = []
        for model in self.models:
            row: dict[str, Any] = {
                "model": model.spec,
                "protocol": model.protocol,
                "suite": model.suite,
                "subset": model.subset,
            }
            for key in self.dims:
                result = model.results.get(key)
                row[key] = None if result is None else result.value
                if intervals:
                    row[f"{key}_ci_low"] = None if result is None else result.ci_low
                    row[f"{key}_ci_high"] = None if result is None else result.ci_high
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [model.to_dict() for model in self.models]

    def save(self, path: str | Path) -> Path:
        """Write ``.json`` (one object per model, with intervals and breakdowns) or ``.csv``
        (one row per model: ``model`` and one column per dimension key, the table
        ``quba score`` reads)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".json", ".csv"):
            raise ConfigError(f"Expected --output to end in .json or .csv, but got {path.name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".json":
            text = json.dumps(finite_json(self.to_dicts()), indent=2, allow_nan=False)
            path.write_text(text + "\n")
        else:
            self.to_frame()[["model", *self.dims]].to_csv(path, index=False)
        return path

    def records(self) -> list[ResultRecord]:
        return [record for model in self.models for record in model.records(self.protocol)]


def format_value(result: DimensionResult | None, *, digits: int = 3) -> str:
    """``0.812 ± 0.004`` (half the interval width; asymmetric intervals as ``[lo, hi]``)."""
    if result is None:
        return "–"
    if result.value is None:
        return "missing"
    value = result.value
    if result.ci_low is None or result.ci_high is None:
        return f"{value:.{digits}f}"
    below, above = value - result.ci_low, result.ci_high - value
    if math.isclose(below, above, rel_tol=0.25, abs_tol=10 ** -(digits + 1)):
        return f"{value:.{digits}f} ± {max(below, above):.{digits}f}"
    return f"{value:.{digits}f} [{result.ci_low:.{digits}f}, {result.ci_high:.{digits}f}]"
