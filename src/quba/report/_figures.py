"""Publication figures (PNG and PDF) of the report's views, drawn with matplotlib's Agg backend.

Sizes follow a two-column paper: single-column figures are exactly 3.5 in wide, full-width ones
7 in (constrained layout, no tight bounding box, so the size is what a LaTeX document expects),
with 8 pt text and model names cut to 28 characters; PNGs are written at 300 dpi. File names are
``<section>_<view>.<ext>``, where ``<section>`` is the section's slug (``paper``, ``paper-v1``,
``pixel-v1-subset200``) and ``<view>`` one of ``leaderboard``, ``scatter``, ``radar``,
``correlation``, ``detail_<dimension key>``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from quba.errors import MissingExtraError
from quba.report import _scoring
from quba.report._breakdown import breakdown_panels
from quba.report._data import Section

logger = logging.getLogger(__name__)

SINGLE_COLUMN_IN = 3.5
DOUBLE_COLUMN_IN = 7.0
DPI = 300
MAX_MODELS_BAR = 30
MAX_MODELS_DETAIL = 8
_MARKERS = ["o", "s", "D", "^", "P", "X", "*", "v", "p", "h"]
_RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "pdf.fonttype": 42,
    "figure.constrained_layout.use": True,
}
MAX_LABEL = 28


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as error:
        raise MissingExtraError("matplotlib", "report", "Report figures (--figures)") from error
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def write_figures(
    sections: list[Section], directory: Path, formats: Iterable[str] = ("png", "pdf")
) -> list[Path]:
    """Draw every view of every section into ``directory``; return the files written."""
    plt = _pyplot()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with plt.rc_context(_RC):
        for section in sections:
            views = {
                "leaderboard": _leaderboard(plt, section),
                "scatter": _scatter(plt, section),
                "radar": _radar(plt, section),
                "correlation": _correlation(plt, section),
            }
            for key, figure in _details(plt, section):
                views[f"detail_{key}"] = figure
            for view, figure in views.items():
                if figure is None:
                    continue
                for ext in formats:
                    path = directory / f"{section.slug}_{view}.{ext}"
                    figure.savefig(path, dpi=DPI)
                    written.append(path)
                plt.close(figure)
    logger.info("wrote %d figure files to %s", len(written), directory)
    return written


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _name(section: Section, spec: str) -> str:
    return _short(section.meta[spec].display_name)


def _names(section: Section, specs: list[str]) -> list[str]:
    return [_name(section, s) for s in specs]


def _ordered(section: Section) -> list[str]:
    """Models by QUBA (complete rows first), then by partial score."""
    scores = section.scores
    key = [
        (
            0 if np.isfinite(scores.loc[m, "quba"]) else 1,
            -np.nan_to_num(scores.loc[m, "partial"], nan=-1e9),
        )
        for m in section.models
    ]
    return [m for _, m in sorted(zip(key, section.models, strict=True), key=lambda t: t[0])]


def _reference_label(section: Section) -> str:
    return _scoring.REFERENCE_LABELS.get(section.reference, section.reference)


def _leaderboard(plt: Any, section: Section) -> Any:
    specs = [m for m in _ordered(section) if np.isfinite(section.scores.loc[m, "partial"])]
    specs = specs[:MAX_MODELS_BAR]
    if not specs:
        return None
    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN_IN, 0.6 + 0.18 * len(specs)))
    values = [section.scores.loc[m, "partial"] for m in specs]
    complete = [np.isfinite(section.scores.loc[m, "quba"]) for m in specs]
    y = np.arange(len(specs))
    ax.barh(
        y,
        values,
        color=["#4c78a8" if c else "#bbbbbb" for c in complete],
        hatch=None,
    )
    ax.set_yticks(
        y,
        [
            n + ("" if c else " (partial)")
            for n, c in zip(_names(section, specs), complete, strict=True)
        ],
    )
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel(f"QUBA (paper weights, vs. {_reference_label(section)})")
    ax.set_title(f"Leaderboard: {section.label}")
    return fig


def _scatter(plt: Any, section: Section) -> Any:
    x = section.values["accuracy"]
    y = section.scores["quba"]
    specs = [m for m in section.models if np.isfinite(x[m]) and np.isfinite(y[m])]
    if not specs:
        return None
    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN_IN, 2.8))
    families = sorted({section.meta[m].family or "unknown family" for m in specs})
    paradigms = sorted({section.meta[m].paradigm or "unknown paradigm" for m in specs})
    colors = plt.get_cmap("tab10")
    for m in specs:
        meta = section.meta[m]
        lo, hi = section.ci_low.loc[m, "accuracy"], section.ci_high.loc[m, "accuracy"]
        xerr = [[x[m] - lo], [hi - x[m]]] if np.isfinite(lo) and np.isfinite(hi) else None
        ax.errorbar(
            x[m],
            y[m],
            xerr=xerr,
            fmt=_MARKERS[paradigms.index(meta.paradigm or "unknown paradigm") % len(_MARKERS)],
            color=colors(families.index(meta.family or "unknown family") % 10),
            markersize=4,
            elinewidth=0.6,
            markeredgecolor="black",
            markeredgewidth=0.3,
        )
    handles = [
        plt.Line2D([], [], linestyle="", marker="o", color=colors(i % 10), label=f)
        for i, f in enumerate(families)
    ] + [
        plt.Line2D([], [], linestyle="", marker=_MARKERS[i % len(_MARKERS)], color="grey", label=p)
        for i, p in enumerate(paradigms)
    ]
    ax.legend(handles=handles, loc="best", frameon=False)
    ax.set_xlabel("Accuracy")
    ax.set_ylabel("QUBA" if section.reference == "paper" else "QUBA (vs. these models)")
    ax.set_title(f"Accuracy vs QUBA: {section.label}")
    return fig


def _radar(plt: Any, section: Section) -> Any:
    infos = _scoring.dimension_infos()
    specs = [m for m in _ordered(section)][:5]
    if not specs:
        return None
    angles = np.linspace(0, 2 * np.pi, len(infos), endpoint=False)
    fig = plt.figure(figsize=(SINGLE_COLUMN_IN, 3.3))
    ax = fig.add_subplot(projection="polar")
    reference = section.references.get(section.reference, _scoring.scoring.PAPER_REFERENCE)
    zscores = _scoring.zscores(section.values, reference)
    for m in specs:
        z = [zscores.loc[m, i.key] for i in infos]
        closed = np.append(z, z[0])
        ax.plot(
            np.append(angles, angles[0]),
            closed,
            marker="o",
            markersize=2,
            linewidth=0.8,
            label=_name(section, m),
        )
    ax.set_xticks(angles, [i.name.replace(" ", "\n", 1) for i in infos], fontsize=6)
    ax.set_rlabel_position(90 / len(infos))
    ax.yaxis.set_major_locator(plt.MaxNLocator(4))
    ax.tick_params(axis="y", labelsize=5)
    against = "paper" if section.reference == "paper" else "these models"
    ax.set_title(f"z-scores vs. {against}, outward = better\n{section.label}", pad=14)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    return fig


def _correlation(plt: Any, section: Section) -> Any:
    if section.correlations is None:
        return None
    rho, p, _ = section.correlations
    names = {i.key: i.name for i in _scoring.dimension_infos()}
    fig, ax = plt.subplots(figsize=(SINGLE_COLUMN_IN, SINGLE_COLUMN_IN))
    image = ax.imshow(rho.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    labels = [names[k] for k in rho.columns]
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            value = rho.iat[i, j]
            if np.isfinite(value):
                star = "*" if np.isfinite(p.iat[i, j]) and p.iat[i, j] < 0.05 and i != j else ""
                ax.text(j, i, f"{value:.2f}{star}", ha="center", va="center", fontsize=5)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="Spearman ρ")
    ax.set_title(f"Rank correlations (* p < 0.05): {section.label}")
    return fig


def _details(plt: Any, section: Section) -> list[tuple[str, Any]]:
    """One figure per dimension with breakdowns: grouped bars, or curves of a matrix's columns."""
    figures = []
    specs = _ordered(section)[:MAX_MODELS_DETAIL]
    for info in _scoring.dimension_infos():
        per_model = {m: breakdown_panels(section.breakdowns.loc[m, info.key]) for m in specs}
        per_model = {m: panels for m, panels in per_model.items() if panels}
        if not per_model:
            continue
        titles = list(dict.fromkeys(p.title for panels in per_model.values() for p in panels))
        fig, axes = plt.subplots(1, len(titles), figsize=(DOUBLE_COLUMN_IN, 2.4), squeeze=False)
        for ax, title in zip(axes[0], titles, strict=True):
            _detail_axis(ax, section, per_model, title)
        fig.suptitle(f"{info.name}: {section.label}")
        figures.append((info.key, fig))
    return figures


def _as_bars(panel: Any) -> dict[str, float]:
    """A panel's numbers by label; a grouped panel's cells are labelled ``row / column``."""
    if panel.kind == "bar":
        return dict(zip(panel.labels, panel.values, strict=True))
    return {
        f"{row} / {column}": value
        for row, values in zip(panel.rows, panel.z, strict=True)
        for column, value in zip(panel.columns, values, strict=True)
        if value is not None
    }


def _detail_axis(ax: Any, section: Section, per_model: dict[str, list[Any]], title: str) -> None:
    panels = {m: next((p for p in ps if p.title == title), None) for m, ps in per_model.items()}
    panels = {m: p for m, p in panels.items() if p is not None}
    first = next(iter(panels.values()))
    if first.kind in ("bar", "grouped"):
        bars = {m: _as_bars(p) for m, p in panels.items()}
        labels = list(dict.fromkeys(label for b in bars.values() for label in b))
        width = 0.8 / len(panels)
        for k, (m, lookup) in enumerate(bars.items()):
            ax.bar(
                np.arange(len(labels)) + k * width - 0.4 + width / 2,
                [lookup.get(label, np.nan) for label in labels],
                width,
                label=_name(section, m),
            )
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    else:
        columns = first.columns
        for m, panel in panels.items():
            z = np.array([[np.nan if v is None else v for v in row] for row in panel.z], float)
            ax.plot(
                panel.columns,
                np.nanmean(z, axis=0),
                marker="o",
                markersize=2,
                label=_name(section, m),
            )
        ax.set_xticks(range(len(columns)), columns)
        ax.set_ylabel(f"mean over {len(first.rows)} rows")
        ax.set_xlabel(_short(", ".join(first.rows[:3]) + (", …" if len(first.rows) > 3 else "")))
    ax.set_title(title)
    ax.legend(frameon=False)
