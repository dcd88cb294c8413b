"""``quba demo``: every dimension of a tiny model zoo on the embedded synthetic benchmark."""

from __future__ import annotations

from pathlib import Path

import typer

from quba.cli._console import console, err_console, progress_bars


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def demo_command(
    output_dir: Path = typer.Option(
        Path("quba-demo"), "--output-dir", "-o", help="Where results.sqlite and report.html go."
    ),
    root: Path | None = typer.Option(
        None,
        "--root",
        help="Folder of the synthetic suite (generated there if absent; default: "
        "~/.cache/quba/synthetic/<size>-seed<seed>).",
    ),
    model: list[str] = typer.Option(
        [],
        "--model",
        "-m",
        help="A synthetic zoo model (repeatable; default: the five demo models).",
    ),
    size: str = typer.Option("small", "--size", help="small or medium."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generated suite."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Prediction cache (default: ~/.cache/quba/predictions)."
    ),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html."),
) -> None:
    """Run the whole pipeline on the embedded synthetic benchmark in a few minutes on a CPU.

    Generates the synthetic suite (images in the real datasets' layouts), evaluates the tiny zoo
    of models shipped with quba on all nine dimensions, prints the table with 95 % intervals and a
    QUBA normalised against the zoo itself, and writes an HTML report.
    """
    from quba.cli.evaluate import result_notes, results_table
    from quba.demo import run_demo

    bars, progress = progress_bars(transient=True)
    err_console.print(
        "Generating the synthetic suite (or reusing it) and evaluating the tiny zoo…",
        highlight=False,
    )
    with bars:
        run = run_demo(
            output_dir,
            data_root=root,
            models=model or None,
            size=size,
            seed=seed,
            device=device,
            cache_dir=cache_dir,
            report=not no_report,
            progress=progress,
        )

    console.print(results_table(run.evaluation, title="quba demo: the tiny synthetic zoo"))
    for note in result_notes(run.evaluation):
        console.print(note, highlight=False, markup=False)
    console.print(
        "QUBA here is normalised against these models: the paper's reference statistics describe "
        "ImageNet classifiers, not 32x32 synthetic images.",
        highlight=False,
    )
    console.print(f"Synthetic data: {run.data_root}", highlight=False)
    if run.report is not None:
        console.print(f"Report: {run.report}", highlight=False)
    elif run.report_skipped_reason:
        console.print(f"No report: {run.report_skipped_reason}", highlight=False)
    console.print(f"Done in {run.seconds:.0f} s.", highlight=False)
