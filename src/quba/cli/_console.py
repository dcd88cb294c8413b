"""Shared terminal helpers for the CLI (the library itself never prints)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import TaskID

console = Console()
err_console = Console(stderr=True)


def progress_bars(*, transient: bool = False):
    """Progress bars on stderr, and the ``progress(task, completed, total)`` callback that the
    library's long-running functions accept (one bar per task name)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )
    tasks: dict[str, TaskID] = {}

    def progress(task: str, completed: int, total: int) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(task, total=total)
        bars.update(tasks[task], completed=completed, total=total)

    return bars, progress
