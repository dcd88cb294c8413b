"""Reports: a self-contained interactive HTML page and publication figures from stored results.

``build_report(results, output=Path("report.html"), figures=Path("figures"))`` takes the store's
long table (one row per model x dimension x protocol) and writes

- an HTML page that works offline: a sortable leaderboard with intervals, QUBA and rank, a
  scatter plot of any two dimensions, editable QUBA weights that re-rank live, z-score profiles,
  the Spearman correlation matrix, per-dimension breakdowns and provenance;
- with ``figures``, the same views as PNG (300 dpi) and PDF, sized for a paper.

Results of different protocols (or versions, or ``--limit`` subset runs) are never scored
together: each becomes its own section of the page.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd

from quba.errors import MissingExtraError
from quba.report._breakdown import Panel, breakdown_panels
from quba.report._data import ModelMeta, Section, build_sections, normalize_results
from quba.report._figures import write_figures
from quba.report._html import page_payload, render_html

logger = logging.getLogger(__name__)

__all__ = [
    "ModelMeta",
    "Panel",
    "Section",
    "breakdown_panels",
    "build_report",
    "build_sections",
    "normalize_results",
    "page_payload",
    "write_figures",
    "write_report",
]


def _plotly_js() -> str:
    try:
        import plotly.offline
    except ImportError as error:
        raise MissingExtraError("plotly", "report", "The HTML report") from error
    return plotly.offline.get_plotlyjs()


def build_report(
    results: pd.DataFrame,
    *,
    output: Path,
    figures: Path | None = None,
    title: str = "quba report",
    models: list[str] | None = None,
) -> Path:
    """Write the HTML report of ``results`` to ``output`` (and figures to ``figures``).

    ``results`` is the long table of the store: columns ``model``, ``protocol``, ``dimension``,
    ``value`` (NaN when missing) and optionally ``protocol_version``, ``ci_low``, ``ci_high``,
    ``num_samples``, ``missing_reason``, ``breakdown`` (dict), ``provenance`` (dict) and
    ``subset`` (bool). ``models`` keeps only these specs, in this order. Returns ``output``.

    Raises :class:`~quba.errors.TableError` for a malformed table and
    :class:`~quba.errors.MissingExtraError` when plotly (or, for figures, matplotlib) is missing.
    """
    return write_report(
        build_sections(results, models=models), output=output, figures=figures, title=title
    )


def write_report(
    sections: list[Section],
    *,
    output: Path,
    figures: Path | None = None,
    title: str = "quba report",
) -> Path:
    """Write the page (and figures) of sections made by :func:`build_sections`; returns ``output``.

    The page is written to a temporary file beside ``output`` and renamed, so a reader never
    sees half a page.
    """
    html = render_html(page_payload(sections, title=title), _plotly_js())

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=output.parent, prefix=f".{output.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(html)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("wrote the report of %d section(s) to %s", len(sections), output)

    if figures is not None:
        write_figures(sections, Path(figures))
    return output
