"""``quba evaluate``: compute the QUBA dimensions of one or more models, store and show them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from quba.cli._console import console, progress_bars
from quba.cli.models import no_pretrained_option
from quba.models._spec import short_model_name

if TYPE_CHECKING:
    from rich.table import Table

    from quba.evaluation import Evaluation


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)


def evaluate_command(
    model: list[str] = typer.Option(
        ...,
        "--model",
        "-m",
        help="Model spec, repeatable: timm:NAME, torchvision:NAME, open_clip:ARCH/TAG, "
        "python:pkg.module:factory, zoo:NAME.",
    ),
    data: Path | None = typer.Option(
        None, "--data", "--root", help="Data root (default: $QUBA_DATA, else ~/.cache/quba/data)."
    ),
    dims: str = typer.Option("all", "--dims", help="all, or dimension keys separated by commas."),
    protocol: str = typer.Option("paper", "--protocol", help="paper or pixel."),
    suite: str = typer.Option("imagenet", "--suite", help="imagenet or synthetic."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps."),
    batch_size: int = typer.Option(64, "--batch-size", help="Images per forward pass."),
    workers: int = typer.Option(0, "--workers", help="Image-decoding worker processes."),
    store: Path | None = typer.Option(
        None, "--store", help="Results database (default: ~/.cache/quba/results.sqlite)."
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to the store."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Prediction cache (default: ~/.cache/quba/predictions)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Also write the results to FILE.json or FILE.csv."
    ),
    limit: int | None = typer.Option(
        None,
        "--limit",
        help="Quick look: a seeded, class-stratified subset of N images per dataset "
        "(per corruption and severity for ImageNet-C); stored as a subset result.",
    ),
    force: bool = typer.Option(False, "--force", help="Recompute cached predictions."),
    skip_unreadable: bool = typer.Option(
        False, "--skip-unreadable", help="Leave unreadable images out (counted) instead of failing."
    ),
    no_pretrained: bool = no_pretrained_option(),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Local weights file to load into the model."
    ),
    path: list[str] = typer.Option(
        [], "--path", help="KEY=DIR: a dataset's folder outside the data root (repeatable)."
    ),
    replicates: int | None = typer.Option(
        None, "--replicates", help="Bootstrap replicates (default: the protocol's; 0: none)."
    ),
    shard_size: int = typer.Option(
        1024, "--shard-size", help="Images per prediction-cache shard (the unit of resuming)."
    ),
) -> None:
    """Evaluate models on the nine QUBA dimensions (or the ones asked for).

    Every dataset is forwarded once per model; predictions are cached per shard, so a rerun
    computes nothing twice and an interrupted run resumes. Results go to the store.
    """
    from quba.data.paths import parse_path_overrides
    from quba.data.suites import get_suite
    from quba.evaluation import evaluate

    overrides = parse_path_overrides(path, get_suite(suite)) if path else None
    bars, progress = progress_bars()
    with bars:
        evaluation = evaluate(
            model,
            data,
            dims=dims,
            protocol=protocol,
            suite=suite,
            device=device,
            batch_size=batch_size,
            workers=workers,
            store=False if no_store else store,
            cache_dir=cache_dir,
            limit=limit,
            pretrained=not no_pretrained,
            checkpoint=checkpoint,
            force=force,
            skip_unreadable=skip_unreadable,
            paths=overrides,
            replicates=replicates,
            shard_size=shard_size,
            progress=progress,
        )

    console.print(results_table(evaluation))
    for note in result_notes(evaluation):  # plain text: a spec or a reason may hold brackets
        console.print(note, highlight=False, markup=False)
    if output is not None:
        written = evaluation.save(output)
        console.print(f"Results written to {written}", highlight=False, markup=False)


def quba_scores(evaluation: Evaluation) -> tuple[dict[str, float | None], str | None]:
    """QUBA per model when all nine dimensions are present, and the reference used.

    ImageNet label space: the paper's reference statistics. Other suites (synthetic): the
    evaluated models themselves when there are at least two (the paper's statistics describe
    ImageNet models); otherwise no score.
    """
    from quba.scoring import DIMENSION_KEYS, quba_score

    if set(DIMENSION_KEYS) - set(evaluation.dims):
        return {}, None
    frame = evaluation.to_frame()
    imagenet = evaluation.label_space == "imagenet-1k"
    if not imagenet and len(frame) < 2:
        return {}, None
    reference = "paper" if imagenet else "self"
    # A dimension on which every model is equal (the tiny zoo's CNNs share one parameter count)
    # has no spread to normalise by; it cannot change the ranking, so it gets weight 0
    # (zero_spread="ignore", the rule the report's "these models" reference uses too).
    scores = quba_score(
        frame[["model", *DIMENSION_KEYS]],
        weights="paper",
        reference=reference,
        zero_spread="ignore",
    )
    values = {
        spec: (None if score != score else float(score))
        for spec, score in zip(frame["model"], scores["quba"], strict=True)
    }
    return values, reference


def results_table(evaluation: Evaluation, *, title: str | None = None) -> Table:
    """A rich table: one row per dimension, one column per model, ``value ± interval``; a
    QUBA row when all nine dimensions are present (see :func:`quba_scores`)."""
    from rich.table import Table

    from quba.dimensions import get_dimension
    from quba.evaluation import format_value

    subset = evaluation.models[0].subset if evaluation.models else 0
    heading = title or f"QUBA dimensions ({evaluation.protocol.name} protocol)"
    if subset:
        heading += f" — subset of {subset} images per dataset, not comparable to full results"
    table = Table(title=heading)
    table.add_column("dimension")
    table.add_column("better", justify="center")
    for model in evaluation.models:
        table.add_column(short_model_name(model.spec), justify="right", overflow="fold")
    for key in evaluation.dims:
        dimension = get_dimension(key)
        name = dimension.display_name + (" (M)" if key == "params" else "")
        arrow = "↑" if dimension.direction == "higher" else "↓"
        cells = []
        for model in evaluation.models:
            result = model.results.get(key)
            text = format_value(result, digits=2 if key == "params" else 3)
            if result is not None and result.num_skipped:
                text += f" ({result.num_skipped} skipped)"
            cells.append(text)
        table.add_row(name, arrow, *cells)
    scores, reference = quba_scores(evaluation)
    if scores:
        label = "QUBA" if reference == "paper" else "QUBA (vs. these models)"
        cells = ["–" if scores[m.spec] is None else f"{scores[m.spec]:.3f}" for m in evaluation]
        table.add_section()
        table.add_row(f"[bold]{label}[/]", "↑", *cells)
    return table


def result_notes(evaluation: Evaluation) -> list[str]:
    """Lines under the table: shortened model names, missing values with their reasons, skipped
    images, images forwarded, where the results were stored."""
    notes = [
        f"{short_model_name(m.spec)} = {m.spec}"
        for m in evaluation
        if short_model_name(m.spec) != m.spec
    ]
    for model in evaluation.models:
        for key, result in model.results.items():
            if result.value is None:
                notes.append(f"{model.spec}: {key} is missing: {result.missing_reason}")
    if any(r.num_skipped for m in evaluation for r in m.results.values()):
        notes.append(
            "Unreadable images were left out (--skip-unreadable); counts are in the table."
        )
    forwarded = evaluation.forwarded
    notes.append(
        f"{forwarded} images forwarded in this run"
        + (" (everything came from the prediction cache)" if forwarded == 0 else "")
    )
    if evaluation.store_path is not None:
        notes.append(f"Stored in {evaluation.store_path}")
    return notes
