"""``quba report``: an offline HTML page (and paper figures) from the results store."""

from __future__ import annotations

from pathlib import Path

import typer

from quba.cli._console import console


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    store: Path | None = typer.Option(
        None, "--store", help="The results store (default: $QUBA_STORE or ~/.cache/quba)."
    ),
    models: list[str] = typer.Option(
        [],
        "--models",
        "-m",
        help="Only these model specs, in this order (repeat, or separate with commas).",
    ),
    protocol: str | None = typer.Option(
        None, "--protocol", help="Only this protocol (paper, pixel)."
    ),
    suite: str | None = typer.Option(
        None, "--suite", help="Only this suite (imagenet, synthetic)."
    ),
    output: Path = typer.Option(
        Path("report.html"), "--output", "-o", help="Where to write the HTML page."
    ),
    figures: Path | None = typer.Option(
        None, "--figures", help="Also write every view as PNG and PDF into this folder."
    ),
    title: str = typer.Option("quba report", "--title", help="The page's title."),
) -> None:
    """Write an interactive, self-contained HTML report of stored results.

    The page works offline: a sortable leaderboard, QUBA weights you can edit, a scatter of any
    two dimensions, z-score profiles, rank correlations, per-dimension details and provenance.
    Results of different protocols are shown side by side, never scored together.
    """
    from quba.report import build_sections, write_report
    from quba.report._store import load_results
    from quba.store import default_store_path

    specs = [s.strip() for item in models for s in item.split(",") if s.strip()]
    path = store if store is not None else default_store_path()
    results = load_results(path, models=specs or None, protocol=protocol, suite=suite)
    sections = build_sections(results, models=specs or None)
    written = write_report(sections, output=output, figures=figures, title=title)

    for section in sections:
        complete = int(section.scores["quba"].notna().sum())
        against = "the paper's reference" if section.reference == "paper" else "these models"
        console.print(
            f"{section.label}: {len(section.models)} models, {complete} with a QUBA "
            f"(against {against})",
            highlight=False,
        )
    console.print(f"wrote {written}", highlight=False)
    if figures is not None:
        console.print(f"figures in {figures}", highlight=False)
