"""Check the datasets on disk before any compute: ``quba data verify`` and the evaluate command.

Each dataset gets a status:

- ``present``: every image of the full dataset (``DatasetInfo.num_images``) is there, the layout
  has no defect (and, with ``deep``, every image decodes);
- ``partial``: no defect, but folders or images are missing (a subset of classes or corruptions);
- ``missing``: no image at all (the folder is absent or empty);
- ``broken``: at least one defect: an unknown folder, a file that is not an image, a name that
  breaks the convention, a flat ImageNet val without its label file, an unreadable image, more
  images than the full dataset has.

Every problem carries its path. :func:`dataset_problems` returns what blocks an evaluation.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from quba.data.layouts import Problem, Scan, scan_dataset
from quba.data.paths import dataset_path, resolve_data_root
from quba.data.suites import Suite
from quba.errors import DataError

logger = logging.getLogger(__name__)

Status = Literal["present", "partial", "missing", "broken"]

_SEVERITY_ORDER = {"error": 0, "incomplete": 1, "note": 2}

#: ``progress(key, done, total)`` during deep verification.
VerifyProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DatasetReport:
    """The state of one dataset on disk."""

    key: str
    path: Path
    status: Status
    found: int
    expected: int
    layout: str
    problems: tuple[Problem, ...]

    @property
    def complete(self) -> bool:
        return self.status == "present"

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


@dataclass(frozen=True)
class VerifyReport:
    """The state of the requested datasets of a suite under one data root."""

    suite: str
    root: Path
    deep: bool
    datasets: tuple[DatasetReport, ...]

    @property
    def ok(self) -> bool:
        """True when every requested dataset is complete and (with ``deep``) readable."""
        return all(report.complete for report in self.datasets)

    @property
    def problems(self) -> list[Problem]:
        return [p for report in self.datasets for p in report.problems]

    def __getitem__(self, key: str) -> DatasetReport:
        for report in self.datasets:
            if report.key == key:
                return report
        raise KeyError(key)


def find_unreadable(
    scan: Scan,
    *,
    workers: int | None = None,
    progress: VerifyProgress | None = None,
) -> list[Problem]:
    """Decode every image of a scan (threads: PIL releases the GIL while decoding)."""
    from quba.data.dataset import decode_image

    def check(relative: str) -> Problem | None:
        try:
            decode_image(scan.directory / relative)
        except DataError as error:
            path = scan.directory / relative
            reason = error.message.removeprefix(f"{path}: ")
            return Problem(scan.key, path, "unreadable", "error", reason)
        return None

    problems: list[Problem] = []
    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, problem in enumerate(pool.map(check, scan.files, chunksize=64), start=1):
            if problem is not None:
                problems.append(problem)
            if progress is not None and (done % 256 == 0 or done == len(scan.files)):
                progress(scan.key, done, len(scan.files))
    return problems


def _status(scan: Scan, problems: list[Problem], expected: int) -> Status:
    if any(p.severity == "error" for p in problems):
        return "broken"
    if not scan.files:
        return "missing"
    if any(p.severity == "incomplete" for p in problems) or len(scan.files) < expected:
        return "partial"
    return "present"


def verify_dataset(
    suite: Suite,
    key: str,
    root: Path | str | None = None,
    *,
    path: Path | str | None = None,
    deep: bool = False,
    workers: int | None = None,
    progress: VerifyProgress | None = None,
    scan: Scan | None = None,
) -> DatasetReport:
    """Verify one dataset; see the module docstring for the statuses.

    ``scan``: a :func:`~quba.data.layouts.scan_dataset` of this dataset's folder made by the
    caller (it is read, not changed), so that a caller who opens the dataset afterwards
    (:func:`~quba.data.dataset.dataset_from_scan`) lists the folder only once.
    """
    info = suite.dataset(key)
    directory = dataset_path(suite, key, root, path)
    if scan is None:
        scan = scan_dataset(suite, key, directory)
    elif scan.key != key or Path(scan.directory) != directory:
        raise ValueError(
            f"Expected a scan of {key!r} at {directory}, but got one of {scan.key!r} at "
            f"{scan.directory}"
        )
    problems = list(scan.problems)
    found = len(scan.files)
    if found > info.num_images:
        problems.append(
            Problem(
                key,
                directory,
                "too_many_images",
                "error",
                f"found {found} images, but the full dataset has {info.num_images}",
            )
        )
    elif 0 < found < info.num_images and not any(p.severity == "incomplete" for p in problems):
        problems.append(
            Problem(
                key,
                directory,
                "missing_images",
                "incomplete",
                f"found {found} of {info.num_images} images",
            )
        )
    if found == info.num_images:
        # A suite smaller than its label space (a tiny test tree) lacks folders by design: with
        # the full count reached, absent folders are only noted.
        problems = [
            dataclasses.replace(p, severity="note") if p.severity == "incomplete" else p
            for p in problems
        ]
    if deep and scan.files:
        problems.extend(find_unreadable(scan, workers=workers, progress=progress))
    problems.sort(key=lambda p: _SEVERITY_ORDER[p.severity])  # stable: errors first
    status = _status(scan, problems, info.num_images)
    logger.info("%s: %s, %d of %d images at %s", key, status, found, info.num_images, directory)
    return DatasetReport(
        key, directory, status, found, info.num_images, scan.layout, tuple(problems)
    )


def verify(
    suite: Suite,
    root: Path | str | None = None,
    keys: Iterable[str] | None = None,
    deep: bool = False,
    *,
    paths: Mapping[str, Path] | None = None,
    workers: int | None = None,
    progress: VerifyProgress | None = None,
    scans: Mapping[str, Scan] | None = None,
) -> VerifyReport:
    """Verify the datasets ``keys`` of ``suite`` (all by default) under the data ``root``.

    ``paths`` overrides single datasets' folders; ``deep`` decodes every image; ``scans``
    (dataset key -> :class:`~quba.data.layouts.Scan`) are used instead of listing those
    datasets' folders again.
    """
    keys = list(suite.datasets) if keys is None else list(keys)
    for key in keys:
        suite.dataset(key)
    paths = paths or {}
    reports = tuple(
        verify_dataset(
            suite,
            key,
            root,
            path=paths.get(key),
            deep=deep,
            workers=workers,
            progress=progress,
            scan=(scans or {}).get(key),
        )
        for key in keys
    )
    return VerifyReport(suite.name, resolve_data_root(root), deep, reports)


def dataset_problems(
    suite: Suite,
    root: Path | str | None,
    keys: Iterable[str],
    *,
    paths: Mapping[str, Path] | None = None,
    deep: bool = False,
    allow_partial: bool = False,
    scans: Mapping[str, Scan] | None = None,
) -> list[Problem]:
    """The problems that block an evaluation on ``keys``: an empty list means go.

    Errors and missing datasets always block; missing folders or images block unless
    ``allow_partial``. Notes (ignored files) never block. ``scans``: as for :func:`verify`.
    """
    report = verify(suite, root, keys, deep, paths=paths, scans=scans)
    blocking: list[Problem] = []
    for dataset in report.datasets:
        for problem in dataset.problems:
            blocks = problem.severity == "error" or (
                problem.severity == "incomplete"
                and (not allow_partial or dataset.status == "missing")
            )
            if blocks:
                blocking.append(problem)
        if dataset.status == "missing" and not any(p.severity != "note" for p in dataset.problems):
            blocking.append(
                Problem(dataset.key, dataset.path, "empty", "incomplete", "no images found")
            )
    return blocking


def require_datasets(
    suite: Suite,
    root: Path | str | None,
    keys: Iterable[str],
    *,
    paths: Mapping[str, Path] | None = None,
    deep: bool = False,
    allow_partial: bool = False,
    limit: int = 20,
    scans: Mapping[str, Scan] | None = None,
) -> None:
    """Raise :class:`DataError` listing the problems of :func:`dataset_problems`, if any.

    ``scans`` (dataset key -> :class:`~quba.data.layouts.Scan`): listings already made, reused
    instead of scanning those folders again (the evaluation scans once, checks, then opens the
    datasets from the same scans with :func:`~quba.data.dataset.dataset_from_scan`).
    """
    problems = dataset_problems(
        suite, root, keys, paths=paths, deep=deep, allow_partial=allow_partial, scans=scans
    )
    if not problems:
        return
    lines = [f"  {p.key}: {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  … and {len(problems) - limit} more")
    keys_text = ", ".join(sorted({p.key for p in problems}))
    raise DataError(
        f"The data for {keys_text} is not ready ({len(problems)} problem(s)):\n" + "\n".join(lines),
        hint="Run `quba data verify` for details, and `quba data download NAME` for public sets.",
    )
