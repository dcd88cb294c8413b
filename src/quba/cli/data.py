"""``quba data``: check the datasets on disk, download the public ones, show where they go."""

from __future__ import annotations

from pathlib import Path

import typer

from quba.cli._console import console, err_console

data_app = typer.Typer(
    name="data",
    help="Datasets: verify what is on disk, download the public sets, list the layouts.",
    no_args_is_help=True,
)

_ROOT_HELP = "Data root (default: $QUBA_DATA, else ~/.cache/quba/data)."
_STATUS_STYLE = {"present": "green", "partial": "yellow", "missing": "red", "broken": "bold red"}


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("verify")
def verify_command(
    datasets: list[str] = typer.Argument(
        None, help="Dataset keys to check (default: every dataset of the suite)."
    ),
    root: Path = typer.Option(None, "--root", help=_ROOT_HELP),
    suite: str = typer.Option("imagenet", "--suite", help="Suite whose datasets to check."),
    deep: bool = typer.Option(False, "--deep", help="Decode every image and list unreadable ones."),
    path: list[str] = typer.Option(
        [], "--path", help="KEY=DIR: read dataset KEY from DIR instead of the data root."
    ),
    max_problems: int = typer.Option(
        20, "--max-problems", help="Problems shown per dataset (0: all)."
    ),
) -> None:
    """Report each dataset as present, partial, missing or broken, with every problem's path.

    Exits 0 only when every dataset asked for is complete (and, with --deep, readable); 1
    otherwise.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from quba.data.paths import parse_path_overrides, resolve_data_root
    from quba.data.suites import get_suite
    from quba.data.verify import verify

    chosen = get_suite(suite)
    overrides = parse_path_overrides(path, chosen)
    data_root = resolve_data_root(root)
    with Progress(
        TextColumn("decoding {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=not deep,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(key: str, done: int, total: int) -> None:
            if key not in tasks:
                tasks[key] = bar.add_task(key, total=total)
            bar.update(tasks[key], completed=done)

        report = verify(
            chosen, data_root, datasets or None, deep, paths=overrides, progress=progress
        )

    table = Table(title=f"suite {chosen.name}, data root {data_root}")
    for column in ("dataset", "status", "images", "layout", "path"):
        table.add_column(column, overflow="fold")
    for item in report.datasets:
        style = _STATUS_STYLE[item.status]
        table.add_row(
            item.key,
            f"[{style}]{item.status}[/]",
            f"{item.found:,} / {item.expected:,}",
            item.layout,
            str(item.path),
        )
    console.print(table)
    for item in report.datasets:
        shown = item.problems  # errors first, then missing data, then notes
        if not shown:
            continue
        console.print(f"[bold]{item.key}[/]: {len(shown)} problem(s)", highlight=False)
        limit = len(shown) if max_problems <= 0 else max_problems
        for problem in shown[:limit]:
            console.print(
                f"  {problem.severity:<10} {problem.kind:<16} {problem}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if len(shown) > limit:
            console.print(f"  … and {len(shown) - limit} more (--max-problems 0 shows all)")
    if report.ok:
        console.print("[green]All datasets asked for are complete.[/]")
        raise typer.Exit(0)
    raise typer.Exit(1)


@data_app.command("download")
def download_command(
    names: list[str] = typer.Argument(
        ..., help="Archives or dataset keys: all, edge, imagenet_c, imagenet-c-noise, imagenet_r, …"
    ),
    root: Path = typer.Option(None, "--root", help=_ROOT_HELP),
    keep_archives: bool = typer.Option(
        False, "--keep-archives", help="Keep the archives after extraction."
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if installed."),
    mirror: str = typer.Option(
        None, "--mirror", help="Fetch <MIRROR>/<archive file name> instead of the publisher's URL."
    ),
    retries: int = typer.Option(3, "--retries", help="Resume attempts per archive."),
) -> None:
    """Download, verify and unpack public datasets into the data root (resumable, idempotent)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from quba.data.download import IMAGENET_INSTRUCTIONS, download, resolve_archives
    from quba.data.paths import resolve_data_root

    archives, imagenet = resolve_archives(names)
    data_root = resolve_data_root(root)
    if imagenet:
        console.print(IMAGENET_INSTRUCTIONS, highlight=False, markup=False)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    for archive in archives:
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(archive.name, total=archive.size)

            def progress(done: int, total: int | None, task: int = task, bar=bar) -> None:
                bar.update(task, completed=done, total=total)

            result = download(
                archive,
                data_root,
                progress=progress,
                keep_archive=keep_archives,
                force=force,
                mirror=mirror,
                retries=retries,
            )
        if result.status == "skipped":
            console.print(f"{archive.name}: already installed in {result.target}", highlight=False)
        else:
            console.print(
                f"{archive.name}: {result.size:,} bytes, sha256 {result.sha256}, "
                f"installed in {result.target}",
                highlight=False,
            )
    if archives:
        keys = sorted({k for a in archives for k in a.datasets})
        console.print(f"Check with: quba data verify {' '.join(keys)} --root {data_root}")


@data_app.command("list")
def list_command(
    root: Path = typer.Option(None, "--root", help=_ROOT_HELP),
    suite: str = typer.Option("imagenet", "--suite", help="Suite whose datasets to list."),
) -> None:
    """List the datasets of a suite: where each is read from, its layout and full size."""
    from rich.table import Table

    from quba.data.paths import dataset_path, resolve_data_root
    from quba.data.suites import get_suite

    chosen = get_suite(suite)
    data_root = resolve_data_root(root)
    table = Table(title=f"suite {chosen.name}, data root {data_root}")
    for column in ("dataset", "images", "layout", "path", "description"):
        table.add_column(column, overflow="fold")
    for key, info in chosen.datasets.items():
        table.add_row(
            key,
            f"{info.num_images:,}",
            info.layout,
            str(dataset_path(chosen, key, data_root)),
            info.description,
        )
    console.print(table)
