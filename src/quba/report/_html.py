"""The self-contained HTML page: data as JSON, plotly.js embedded once, the page's own script.

The page needs no network: plotly.js (from the installed ``plotly`` package) and the page's
script are inlined, and the results travel as one JSON document in a
``<script type="application/json">`` element. The score constants in that JSON come from
:mod:`quba.report._scoring`, the same source as the Python score.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import re
from importlib import resources
from typing import Any

import numpy as np

import quba
from quba.report import _scoring
from quba.report._breakdown import breakdown_panels
from quba.report._data import Section

logger = logging.getLogger(__name__)

_MARKER = re.compile(r"__(TITLE|DATA|PLOTLY|APP)__")


def page_payload(sections: list[Section], *, title: str) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready Python objects (``None`` for missing numbers)."""
    infos = _scoring.dimension_infos()
    return _clean(
        {
            "title": title,
            "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "quba_version": quba.__version__,
            "dimensions": [
                {
                    "key": i.key,
                    "name": i.name,
                    "higher_is_better": i.higher_is_better,
                    "mu": i.mu,
                    "sigma": i.sigma,
                    "weight": i.weight,
                }
                for i in infos
            ],
            "presets": _scoring.weight_presets(),
            "preset_intents": _scoring.preset_intents(),
            "sections": [_section_payload(s) for s in sections],
        }
    )


def _section_payload(section: Section) -> dict[str, Any]:
    keys = list(section.values.columns)
    models = []
    for spec in section.models:
        meta = section.meta[spec]
        models.append(
            {
                "spec": spec,
                "name": meta.display_name,
                "family": meta.family,
                "training_data": meta.training_data,
                "paradigm": meta.paradigm,
                "quba_python": section.scores.loc[spec, "quba"],
                "quba_python_by_reference": {
                    name: scores.loc[spec, "quba"]
                    for name, scores in section.scores_by_reference.items()
                },
                "values": {
                    key: {
                        "value": section.values.loc[spec, key],
                        "ci_low": section.ci_low.loc[spec, key],
                        "ci_high": section.ci_high.loc[spec, key],
                        "num_samples": section.num_samples.loc[spec, key],
                        "reason": section.reasons.loc[spec, key],
                    }
                    for key in keys
                },
            }
        )
    breakdowns: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for spec in section.models:
        panels = {key: breakdown_panels(section.breakdowns.loc[spec, key]) for key in keys}
        breakdowns[spec] = {k: [p.to_json() for p in v] for k, v in panels.items() if v}
    correlations = None
    if section.correlations is not None:
        rho, p, n = section.correlations
        correlations = {
            "keys": list(rho.columns),
            "rho": rho.to_numpy().tolist(),
            "p": p.to_numpy().tolist(),
            "n": n.to_numpy().tolist(),
            "num_models": int(n.to_numpy().max()),
        }
    return {
        "label": section.label,
        "protocol": section.protocol,
        "protocol_version": section.protocol_version,
        "subset": section.subset,
        "suite": section.suite,
        "notices": list(section.notices),
        "reference": section.reference,
        "references": {
            name: {
                "label": _scoring.REFERENCE_LABELS[name],
                "mu": dict(ref.mean),
                "sigma": dict(ref.std),
                "ignored": list(ref.ignored),
            }
            for name, ref in section.references.items()
        },
        "models": models,
        "breakdowns": breakdowns,
        "correlations": correlations,
        "provenance": section.provenance,
    }


def _clean(obj: Any) -> Any:
    """JSON-ready copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    return str(obj)


def render_html(payload: dict[str, Any], plotly_js: str) -> str:
    """Fill the page template: title (escaped), payload JSON, plotly.js and the page script."""
    import html

    template = resources.files("quba.report").joinpath("assets/report.html").read_text("utf-8")
    app = resources.files("quba.report").joinpath("assets/report.js").read_text("utf-8")
    data = json.dumps(payload, allow_nan=False, ensure_ascii=False)
    # Inside <script>, "<" could close the element or open a comment: escape it in the JSON.
    data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    parts = {"TITLE": html.escape(payload["title"]), "DATA": data, "PLOTLY": plotly_js, "APP": app}
    return _MARKER.sub(lambda m: parts[m.group(1)], template)
