"""``quba score``: rank models from a table of dimension values with the QUBA score."""

from __future__ import annotations

from pathlib import Path

import typer

from quba.cli._console import console


def score(
    table: Path = typer.Argument(
        ..., help="CSV with a 'model' column and one column per dimension."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write model, quba, partial, missing to this CSV."
    ),
    weights: str | None = typer.Option(
        None,
        "--weights",
        help="Override the paper's weights by key, e.g. 'shape_bias=2,params=0'.",
    ),
    preset: str | None = typer.Option(
        None,
        "--preset",
        help="A named weight preset: paper, equal, robustness-first, "
        "efficiency-first, trustworthiness-first, accuracy-only.",
    ),
    reference: str = typer.Option(
        "paper",
        "--reference",
        help="Normalise with the paper's statistics or the table's ('self').",
    ),
    allow_partial: bool = typer.Option(
        False, "--allow-partial", help="Score rows that miss dimensions over the present ones."
    ),
    correlations: bool = typer.Option(
        False, "--correlations", help="Also print Spearman rank correlations between dimensions."
    ),
) -> None:
    """Compute the QUBA score of every model in TABLE and print them ranked.

    Columns are named by dimension key (accuracy, adv_robustness, c_robustness, ood_robustness,
    calibration_error, class_balance, object_focus, shape_bias, params in millions) or by the
    paper's names (Accuracy, ..., Parameters). An empty cell is a missing value.
    """
    import numpy as np
    from rich.table import Table

    from quba.errors import ConfigError
    from quba.scoring import (
        get_preset,
        parse_weights,
        quba_score,
        rank_correlations,
        read_dimension_table,
    )

    if weights is not None and preset is not None:
        raise ConfigError("Give either --weights or --preset, not both")
    if reference not in ("paper", "self"):
        raise ConfigError(f"Expected --reference paper or self, but got {reference!r}")
    # parse_weights("") is the paper's weights; a preset name never reads as a --weights string
    resolved = get_preset(preset).weights if preset is not None else parse_weights(weights or "")

    frame = read_dimension_table(table)
    scores = quba_score(frame, weights=resolved, reference=reference, allow_partial=allow_partial)
    result = frame[["model"]].join(scores)
    ranked = result.sort_values("quba", ascending=False, na_position="last", kind="stable")

    title = f"QUBA ({preset or ('custom weights' if weights else 'paper weights')}, "
    title += f"{reference} reference)"
    view = Table(title=title)
    for name, justify in (
        ("rank", "right"),
        ("model", "left"),
        ("QUBA", "right"),
        ("note", "left"),
    ):
        view.add_column(name, justify=justify)  # type: ignore[arg-type]
    for rank, (_, row) in enumerate(ranked.iterrows(), start=1):
        has_score = not np.isnan(row["quba"])
        note = ""
        if row["missing"]:
            note = (
                ("partial; " if row["partial"] else "")
                + "missing "
                + row["missing"].replace(";", ", ")
            )
        view.add_row(
            str(rank) if has_score else "-",
            str(row["model"]),
            f"{row['quba']:+.3f}" if has_score else "-",
            note,
        )
    console.print(view)

    if correlations:
        corr = rank_correlations(frame)
        cview = Table(title="Spearman rank correlations")
        for name in ("a", "b", "rho", "p", "n"):
            cview.add_column(name)
        for _, row in corr.iterrows():
            cview.add_row(
                row["a"], row["b"], f"{row['rho']:+.3f}", f"{row['p_value']:.3g}", str(row["n"])
            )
        console.print(cview)

    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        out = result[["model", "quba", "partial", "missing"]]
        out.to_csv(output, index=False, float_format="%.17g")
        console.print(f"wrote {output}")


_HELP = (
    "Compute the QUBA score of every model in TABLE and print them ranked. "
    "Columns are named by dimension key (accuracy, adv_robustness, c_robustness, ood_robustness, "
    "calibration_error, class_balance, object_focus, shape_bias, params in millions) or by the "
    "paper's names (Accuracy, ..., Parameters); an empty cell is a missing value."
)


def register(app: typer.Typer) -> None:
    app.command("score", help=_HELP, short_help="Rank models by QUBA from a table of dimensions.")(
        score
    )
