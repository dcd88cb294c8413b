"""``quba results list|show|export``: read the results store back."""

from __future__ import annotations

from pathlib import Path

import typer

from quba.cli._console import console

STORE_HELP = "Results database (default: $QUBA_STORE, else ~/.cache/quba/results.sqlite)."


def register(app: typer.Typer) -> None:
    results = typer.Typer(
        name="results", help="Read the results store: list, show, export.", no_args_is_help=True
    )
    results.command("list")(list_command)
    results.command("show")(show_command)
    results.command("export")(export_command)
    app.add_typer(results, name="results")


def _store(path: Path | None):
    from quba.errors import StoreError
    from quba.store import ResultStore, default_store_path

    chosen = path or default_store_path()
    if not chosen.exists():
        raise StoreError(
            f"Expected a results store at {chosen}, but there is none",
            hint="Run `quba evaluate` first, or pass the file with --store.",
        )
    return ResultStore(chosen)


def list_command(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """List the evaluated models: one line per model, suite, protocol and subset."""
    from rich.markup import escape
    from rich.table import Table

    runs = _store(store).runs()
    if not runs:
        console.print("The store holds no results yet.")
        return
    table = Table(title=f"{len(runs)} evaluation(s)")
    for name in ("model", "suite", "protocol", "subset", "dimensions", "missing", "updated"):
        table.add_column(name, overflow="fold")
    for run in runs:
        subset = "full" if not run["subset"] else f"limit {run['subset']}"
        table.add_row(
            escape(run["model"]),
            run["suite"],
            run["protocol"],
            subset,
            str(run["dimensions"]),
            str(run["missing"]),
            run["updated"],
        )
    console.print(table)


def show_command(
    model: str = typer.Argument(..., help="The model spec as stored (see `quba results list`)."),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    protocol: str | None = typer.Option(None, "--protocol", help="Only this protocol."),
    suite: str | None = typer.Option(None, "--suite", help="Only this suite."),
    subset: int | None = typer.Option(
        None, "--subset", help="Only this subset (0 = full results, N = a --limit N run)."
    ),
    breakdown: bool = typer.Option(False, "--breakdown", help="Also print each breakdown."),
) -> None:
    """Show one model's stored results: value, interval, samples, missing reasons."""
    import json

    from rich.markup import escape
    from rich.table import Table

    from quba.errors import ConfigError

    records = _store(store).query(model=model, protocol=protocol, suite=suite, subset=subset)
    if not records:
        raise ConfigError(
            f"No stored results for model {model!r} with these filters",
            hint="`quba results list` shows what the store holds.",
        )
    order = _dimension_order()
    records.sort(key=lambda r: (r.suite, r.protocol, r.subset, order.get(r.dimension, 99)))
    runs: dict[tuple[str, str, int], list] = {}
    for r in records:
        runs.setdefault((r.suite, r.protocol, r.subset), []).append(r)
    for (run_suite, run_protocol, run_subset), rows in runs.items():
        scope = "full" if not run_subset else f"subset of {run_subset} images per dataset"
        table = Table(title=escape(f"{model} — {run_suite}, {run_protocol} protocol, {scope}"))
        for name in ("dimension", "value", "95% interval", "n", "note"):
            table.add_column(name, justify="right" if name in ("value", "n") else "left")
        for r in rows:
            interval = "" if r.ci_low is None else f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
            note = r.missing_reason or ""
            if r.num_skipped:
                note = f"{note} {r.num_skipped} unreadable image(s) skipped".strip()
            value = "missing" if r.value is None else f"{r.value:.4g}"
            table.add_row(r.dimension, value, interval, str(r.num_samples), escape(note))
        console.print(table)
    if breakdown:
        for r in records:
            console.print(f"[bold]{r.dimension}[/] ({r.protocol})")
            console.print_json(json.dumps(dict(r.breakdown), default=str))


def export_command(
    output: Path = typer.Argument(..., help="FILE.csv, FILE.parquet, FILE.json or FILE.xlsx."),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    fmt: str | None = typer.Option(
        None, "--format", help="csv, parquet, json or xlsx (default: from the suffix)."
    ),
    wide: bool = typer.Option(
        False, "--wide", help="One row per model run, one column per dimension key."
    ),
    model: list[str] = typer.Option([], "--model", "-m", help="Only these models (repeatable)."),
    protocol: str | None = typer.Option(None, "--protocol", help="Only this protocol."),
    suite: str | None = typer.Option(None, "--suite", help="Only this suite."),
    subset: int | None = typer.Option(
        None, "--subset", help="Only this subset (0 = full results, N = a --limit N run)."
    ),
) -> None:
    """Export stored results (long: one row per result; --wide: one row per model run)."""
    from quba.errors import ConfigError
    from quba.store import detect_format, export_records

    kind = detect_format(output, fmt)
    records = _store(store).query(
        model=model or None, protocol=protocol, suite=suite, subset=subset
    )
    if not records:
        raise ConfigError("No stored results match these filters; nothing to export")
    order = list(_dimension_order())
    written = export_records(records, output, fmt=kind, wide=wide, dimension_order=order)
    console.print(f"Exported {len(records)} result(s) to {written}", highlight=False)


def _dimension_order() -> dict[str, int]:
    from quba.dimensions import dimension_keys

    return {key: i for i, key in enumerate(dimension_keys())}
