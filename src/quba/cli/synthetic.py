"""``quba synthetic``: generate the embedded synthetic benchmark and train its tiny zoo."""

from __future__ import annotations

from pathlib import Path

import typer

from quba.cli._console import console
from quba.errors import ConfigError

synthetic_app = typer.Typer(
    help="The embedded synthetic benchmark: generate its datasets, train its tiny model zoo.",
    no_args_is_help=True,
)


@synthetic_app.command("generate")
def generate_command(
    root: Path = typer.Option(..., "--root", help="Folder to write the suite into."),
    size: str = typer.Option("small", "--size", help="small (demo, ~15 s) or medium."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    force: bool = typer.Option(False, "--force", help="Overwrite whatever is under --root."),
) -> None:
    """Write every dataset of the synthetic suite under --root, in the real datasets' layouts."""
    from quba.synthetic import SIZES, generate

    if size not in SIZES:
        raise ConfigError(f"Expected --size to be one of {', '.join(SIZES)}, but got {size!r}")
    with console.status(f"Generating the synthetic suite ({size}, seed {seed}) under {root}"):
        manifest = generate(root, size, seed, force=force)  # type: ignore[arg-type]
    total = sum(manifest.counts.values())
    console.print(
        f"{total:,} images under {root} (size {manifest.size}, seed {manifest.seed}), "
        f"generated in {manifest.seconds:.1f} s"
    )


@synthetic_app.command("train")
def train_command(
    root: Path = typer.Option(
        Path("quba-synthetic"), "--root", help="Generated suite (generated here if missing)."
    ),
    output: Path = typer.Option(
        None, "--output", help="Folder for the weights; default: <root>/weights."
    ),
    models: list[str] = typer.Option(
        None, "--model", help="Train only these zoo models (repeatable); default: all."
    ),
    seed: int = typer.Option(0, "--seed", help="Training seed."),
) -> None:
    """Train the tiny zoo on the training split and check that each model shows its habit.

    The table: acc = clean accuracy; shape = share of shape decisions on cue-conflict images;
    same / rand = accuracy on mixed_same / mixed_rand; gap = (same - rand) / acc (object focus is
    1 - gap); PGD = accuracy under L-inf PGD, 8/255, 10 steps.
    """
    from rich.table import Table

    from quba.synthetic import generate, load_train_scenes, read_manifest
    from quba.synthetic.zoo import ZOO, check_zoo_names, measure_habits, read_images, train_model

    names = list(models) if models else list(ZOO)
    check_zoo_names(names)
    if read_manifest(root) is None:
        with console.status(f"Generating the synthetic suite under {root}"):
            generate(root)
    output = output or root / "weights"
    with console.status("Reading the training split"):
        scenes, files = load_train_scenes(root)
        images = read_images(files)
    for name in names:
        with console.status(f"Training {name}"):
            report = train_model(name, scenes, images, output, seed=seed)
        console.print(
            f"{name}: {report.seconds:.1f} s, {report.num_parameters:,} parameters, "
            f"train accuracy {report.train_accuracy:.3f} -> {report.path}"
        )
    with console.status("Measuring habits"):
        habits = measure_habits(root, names, output, seed=seed)
    table = Table(title="Tiny zoo on the synthetic suite")
    for column in ("model", "acc", "shape", "same", "rand", "gap", "PGD"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for h in habits:
        values = (
            h.accuracy,
            h.shape_decisions,
            h.mixed_same,
            h.mixed_rand,
            h.background_gap,
            h.pgd_accuracy,
        )
        table.add_row(h.name, *(f"{v:.3f}" for v in values))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(synthetic_app, name="synthetic")
