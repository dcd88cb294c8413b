"""From the long table of stored results to what the report shows: one section per protocol.

The input is the store's long format (:func:`quba.store.records_to_frame`), one row per model x
dimension x protocol (columns ``model``, ``protocol``, ``protocol_version``, ``dimension``,
``value``, ``ci_low``, ``ci_high``, ``num_samples``, ``missing_reason``, ``breakdown``,
``provenance``, ``subset`` and ``suite``). Results of different suites, protocols, protocol
versions, or of a ``--limit`` subset run are never scored together: each such group becomes its
own :class:`Section`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quba.errors import TableError
from quba.models._spec import short_model_name
from quba.report import _scoring

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("model", "protocol", "dimension", "value")
_OPTIONAL_DEFAULTS: dict[str, Any] = {
    "protocol_version": "",
    "ci_low": np.nan,
    "ci_high": np.nan,
    "num_samples": np.nan,
    "missing_reason": None,
    "breakdown": None,
    "provenance": None,
    "subset": 0,
    "suite": "imagenet",
    "created_at": None,
    "protocol_fingerprint": None,
}
_GROUP = ["suite", "protocol", "protocol_version", "subset"]
NOT_EVALUATED = "not evaluated (no result in the store)"
MIN_MODELS_SELF_REFERENCE = _scoring.MIN_MODELS_SELF_REFERENCE
MIN_MODELS_CORRELATION = 3


@dataclass(frozen=True)
class ModelMeta:
    """What the paper's zoo says about a model; ``None`` where unknown."""

    display_name: str
    family: str | None = None
    training_data: str | None = None
    paradigm: str | None = None


@dataclass(frozen=True)
class Section:
    """The results of one suite x protocol x version x subset size, scored on their own.

    ``subset`` is 0 for full runs, else the ``--limit`` of the subset run (1 when only known to be
    a subset).

    ``values``, ``ci_low``, ``ci_high``, ``num_samples`` are models x dimension keys (NaN where
    missing); ``reasons``, ``breakdowns`` hold the missing reason / breakdown dict per cell;
    ``scores`` has columns ``quba`` (complete rows only), ``partial`` and ``rank`` (1 = best
    QUBA; NaN for rows without QUBA), against the section's default ``reference``;
    ``correlations`` is (ρ, p, number of models per pair) or ``None``.

    ``reference`` is the reference the page opens with and the figures use: ``"paper"`` for the
    ImageNet suite, ``"self"`` ("these models") for other suites with at least two models.
    ``references`` holds the statistics of every reference the section offers (``"paper"``
    always, ``"self"`` with at least two models) and ``scores_by_reference`` the scores against
    each (same columns as ``scores``).
    """

    protocol: str
    protocol_version: str
    subset: int
    suite: str
    models: list[str]
    meta: dict[str, ModelMeta]
    values: pd.DataFrame
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame
    num_samples: pd.DataFrame
    reasons: pd.DataFrame
    breakdowns: pd.DataFrame
    provenance: dict[str, list[dict[str, Any]]]  # per model: distinct entries, with "dimensions"
    scores: pd.DataFrame
    correlations: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None
    notices: list[str] = field(default_factory=list)
    reference: str = "paper"
    references: dict[str, Any] = field(default_factory=dict)
    scores_by_reference: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``paper``, ``paper v2``, ``paper (subset run)``: the name shown for this section."""
        text = self.protocol
        if self.suite != "imagenet":
            text = f"{self.suite} suite, {text}"
        if self.protocol_version not in ("", None):
            text += f" v{self.protocol_version}"
        if self.subset > 1:
            text += f" (subset run, --limit {self.subset})"
        elif self.subset:
            text += " (subset run)"
        return text

    @property
    def slug(self) -> str:
        """The label as a file-name part: ``paper``, ``paper-v2``, ``paper-v2-subset``."""
        parts = [self.protocol] if self.suite == "imagenet" else [self.suite, self.protocol]
        if self.protocol_version not in ("", None):
            parts.append(f"v{self.protocol_version}")
        if self.subset:
            parts.append(f"subset{self.subset}" if self.subset > 1 else "subset")
        return "-".join("".join(c if c.isalnum() else "_" for c in p) for p in parts)


def model_meta(spec: str) -> ModelMeta:
    """Zoo metadata of ``spec`` from :func:`quba.models.zoo_metadata`, or just its name."""
    try:
        from quba.models import zoo_metadata
    except ImportError:
        return ModelMeta(display_name=spec)
    info = zoo_metadata(spec)
    if not info:
        # A python: model is named by its factory, as in quba evaluate's table.
        name = short_model_name(spec)
        return ModelMeta(display_name=name or spec)
    return ModelMeta(
        display_name=str(info.get("display_name") or spec),
        family=_text_or_none(info.get("family")),
        training_data=_text_or_none(info.get("training_data")),
        paradigm=_text_or_none(info.get("paradigm")),
    )


def _text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def normalize_results(results: pd.DataFrame) -> pd.DataFrame:
    """Check the long table and fill optional columns; unknown dimension keys are an error."""
    if not isinstance(results, pd.DataFrame):
        raise TableError(f"expected a pandas DataFrame of results, got {type(results).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in results.columns]
    if missing:
        raise TableError(
            f"the results table lacks the column(s) {', '.join(missing)}; expected at least "
            f"{', '.join(REQUIRED_COLUMNS)}, got {', '.join(map(str, results.columns))}"
        )
    frame = results.copy()
    for column, default in _OPTIONAL_DEFAULTS.items():
        if column not in frame.columns:
            frame[column] = [default] * len(frame)
    keys = [info.key for info in _scoring.dimension_infos()]
    unknown = sorted(set(frame["dimension"]) - set(keys))
    if unknown:
        raise TableError(
            f"unknown dimension key(s) {', '.join(map(str, unknown))} in column `dimension`; "
            f"expected one of {', '.join(keys)}"
        )
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    for column in ("ci_low", "ci_high", "num_samples"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["protocol_version"] = frame["protocol_version"].map(
        lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    )
    frame["subset"] = frame["subset"].map(_subset_size)
    frame["suite"] = frame["suite"].map(lambda v: "imagenet" if v is None or v != v else str(v))
    frame["breakdown"] = frame["breakdown"].map(_as_dict)
    frame["provenance"] = frame["provenance"].map(_as_dict)
    frame["model"] = frame["model"].astype(str)
    frame["protocol"] = frame["protocol"].astype(str)
    duplicated = frame.duplicated(["model", *_GROUP, "dimension"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise TableError(
            f"two results for model {row['model']!r}, dimension {row['dimension']!r}, protocol "
            f"{row['protocol']!r} (row {frame.index[duplicated][0]}); expected one per model x "
            "dimension x protocol"
        )
    return frame


def _subset_size(value: Any) -> int:
    if value is None or value != value:
        return 0
    return int(value)


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise TableError(
                f"expected a JSON object in a `breakdown` or `provenance` cell, but got "
                f"{value[:60]!r} ({error})"
            ) from None
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    return {}


def build_sections(results: pd.DataFrame, *, models: list[str] | None = None) -> list[Section]:
    """Group the long table into sections (suite, protocol, version, subset); score each alone.

    ``models`` keeps only these model specs (in this order); a spec not in the table is an error.
    """
    frame = normalize_results(results)
    if models:
        absent = [m for m in models if m not in set(frame["model"])]
        if absent:
            raise TableError(
                f"model(s) {', '.join(absent)} have no results in the store; "
                f"it holds {', '.join(sorted(set(frame['model'])))}"
            )
        frame = frame[frame["model"].isin(models)]
    if frame.empty:
        raise TableError("the results table is empty: nothing to report")
    sections = []
    for (suite, protocol, version, subset), group in frame.groupby(_GROUP, sort=True):
        order = models if models else list(dict.fromkeys(group["model"]))
        order = [m for m in order if m in set(group["model"])]
        sections.append(
            _section(group, str(suite), str(protocol), str(version), int(subset), order)
        )
    if len(sections) > 1:
        labels = ", ".join(s.label for s in sections)
        for section in sections:
            section.notices.insert(
                0,
                f"The results come from {len(sections)} protocols or runs ({labels}). "
                "Each is shown and scored on its own; they are never scored together.",
            )
    return sections


def _section(
    group: pd.DataFrame, suite: str, protocol: str, version: str, subset: int, models: list[str]
) -> Section:
    keys = [info.key for info in _scoring.dimension_infos()]

    def pivot(column: str, fill: Any) -> pd.DataFrame:
        table = group.pivot(index="model", columns="dimension", values=column)
        return (
            table.reindex(index=models, columns=keys)
            .astype(object)
            .where(lambda t: t.notna(), fill)
        )

    values = pivot("value", np.nan).astype(float)
    ci_low = pivot("ci_low", np.nan).astype(float)
    ci_high = pivot("ci_high", np.nan).astype(float)
    num_samples = pivot("num_samples", np.nan).astype(float)
    reasons = pivot("missing_reason", None)
    stored = pd.DataFrame(False, index=models, columns=keys)
    for _, row in group.iterrows():
        stored.loc[row["model"], row["dimension"]] = True
    for model in models:
        for key in keys:
            if not np.isfinite(values.loc[model, key]):
                values.loc[model, key] = np.nan
                if not stored.loc[model, key]:
                    reasons.loc[model, key] = NOT_EVALUATED
                elif not reasons.loc[model, key]:
                    reasons.loc[model, key] = "missing (no reason stored)"
            else:
                reasons.loc[model, key] = None
    breakdowns = pivot("breakdown", None)
    breakdowns = breakdowns.map(lambda b: b if isinstance(b, dict) and b else None)

    provenance: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        seen: list[dict[str, Any]] = []
        for _, row in group[group["model"] == model].iterrows():
            entry = {"dimensions": [row["dimension"]], **row["provenance"]}
            for column in ("created_at", "protocol_fingerprint"):
                if row[column] is not None and row[column] == row[column] and row[column] != "":
                    entry.setdefault(column, row[column])
            body = _body(entry)
            if not body:
                continue
            match = next((s for s in seen if _body(s) == body), None)
            if match is None:
                seen.append(entry)
            else:
                match["dimensions"].append(row["dimension"])
        provenance[model] = seen

    references = {}
    scores_by_reference = {}
    for name in ("paper", "self"):
        stats = _scoring.reference_stats(values, name)
        if stats is None:
            continue
        ref_scores = _scoring.score(values, reference=name)
        ref_scores["rank"] = ref_scores["quba"].rank(ascending=False, method="min")
        references[name], scores_by_reference[name] = stats, ref_scores
    default = _scoring.default_reference(suite, len(models))
    scores = scores_by_reference[default]
    correlations = _scoring.spearman(values)
    meta = {m: model_meta(m) for m in models}
    section = Section(
        protocol=protocol,
        protocol_version=version,
        subset=subset,
        suite=suite,
        models=models,
        meta=meta,
        values=values,
        ci_low=ci_low,
        ci_high=ci_high,
        num_samples=num_samples,
        reasons=reasons,
        breakdowns=breakdowns,
        provenance=provenance,
        scores=scores,
        correlations=correlations,
        reference=default,
        references=references,
        scores_by_reference=scores_by_reference,
    )
    section.notices.extend(_notices(section))
    return section


def _body(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A provenance entry without the fields that differ between dimensions of one run."""
    return {k: v for k, v in entry.items() if k not in ("dimensions", "created_at")}


def _notices(section: Section) -> list[str]:
    notices = []
    n = len(section.models)
    if n < MIN_MODELS_SELF_REFERENCE:
        notices.append(
            "Only one model: QUBA uses the paper's reference statistics; normalising against "
            f"these models needs at least {MIN_MODELS_SELF_REFERENCE} models and rank "
            f"correlations between dimensions need at least {MIN_MODELS_CORRELATION}."
        )
    elif section.correlations is None:
        notices.append(
            f"Rank correlations between dimensions need at least {MIN_MODELS_CORRELATION} "
            "models with values for both dimensions; no pair has that many."
        )
    incomplete = [m for m in section.models if section.values.loc[m].isna().any()]
    if incomplete:
        names = ", ".join(section.meta[m].display_name for m in incomplete)
        notices.append(
            f"{len(incomplete)} of {n} models lack dimensions ({names}): they get no QUBA and no "
            "rank; their partial score over the present dimensions is shown, marked as partial. "
            "Hover a missing cell for the reason."
        )
    if section.suite != "imagenet":
        if section.reference == "self":
            text = (
                f"These are results on the {section.suite} suite, which the paper's reference "
                "statistics (from ImageNet models) do not describe: QUBA is normalised against "
                "these models, as in the terminal table of quba evaluate (Reference: 'these "
                "models'), and only compares them with each other. Choose 'paper' to score "
                "against the published statistics."
            )
        else:
            text = (
                f"These are results on the {section.suite} suite: the paper's reference "
                "statistics come from ImageNet models, so QUBA values here only illustrate the "
                "score."
            )
        notices.append(text)
    if section.subset:
        notices.append(
            "These results come from a subset run (--limit): the values are estimates from a "
            "sample of every dataset and are not comparable with full runs."
        )
    return notices
