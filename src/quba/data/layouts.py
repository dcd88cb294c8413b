"""The on-disk layouts of the benchmark's datasets, read as they unpack from their publishers.

One scanner per layout of :data:`quba.data.suites.Layout` lists a dataset's image files once, in
sorted order, gives each its target in the suite's :class:`~quba.data.labels.LabelSpace` and its
metadata, and collects every problem with its path. The same scan serves the readers (which
refuse a dataset with errors) and ``quba data verify`` (which reports them all).

Labels never depend on which folders exist: a folder name is looked up in the label space, so a
subset of classes, categories or corruptions is labelled exactly like the full dataset.

Layouts (``DatasetInfo.layout``):

- ``class_folders``: ``<class id>/<file>``; ImageNet val may instead be flat (``imagenet_flat``):
  ``ILSVRC2012_val_NNNNNNNN.JPEG`` files plus ``LOC_val_solution.csv``, or the devkit's
  ``ILSVRC2012_validation_ground_truth.txt`` with ``meta.mat``;
- ``corruptions``: ``<corruption>/<severity>/<class id>/<file>``;
- ``category_folders``: ``<category>/<file>``; cue-conflict names ``<shape><n>-<texture><m>.png``;
- ``session_files``: ``dnn/session-1/<a>_<b>_<c>_<condition>_<category>_<rest>.png``;
- ``object_folders``: ``<NN_name>/<file>``, the label space's ``object_class_folders``.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from quba.data.suites import EXTRA_CORRUPTIONS, Suite
from quba.errors import DataError
from quba.metrics.classification import parse_cue_conflict_name

logger = logging.getLogger(__name__)

#: Bumped whenever a scanner changes which files a dataset holds or how they are labelled; part
#: of every dataset fingerprint, so caches made by an older reader are not reused.
LAYOUT_VERSION = 1

IMAGE_EXTENSIONS = frozenset({".jpeg", ".jpg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

LOC_SOLUTION = "LOC_val_solution.csv"
DEVKIT_GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_META = "meta.mat"
DEVKIT_FOLDER = Path("ILSVRC2012_devkit_t12") / "data"
_VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG", re.IGNORECASE)

ProblemKind = Literal[
    "missing_dataset",  # the dataset's folder does not exist
    "missing_folder",  # expected folders (classes, corruptions, severities) are absent
    "missing_images",  # fewer images than the full dataset has
    "missing_label_file",  # flat ImageNet val without LOC_val_solution.csv or the devkit files
    "unknown_folder",  # a folder whose name is not in the label space / layout
    "unexpected_file",  # a file where the layout has only folders
    "not_an_image",  # a file without an image extension inside a class folder
    "bad_name",  # a file name that breaks the layout's naming convention
    "no_label",  # a flat ImageNet file the label file does not list
    "bad_label_file",  # a label file that cannot be read or names unknown classes
    "too_many_images",  # more images than the full dataset has
    "empty",  # the folder exists but holds no images
    "unreadable",  # an image that does not decode (``deep`` verification, or reading)
    "ignored",  # files quba leaves aside on purpose (a README, the extra corruptions)
]
Severity = Literal["error", "incomplete", "note"]


@dataclass(frozen=True)
class Problem:
    """One defect of a dataset on disk.

    ``severity`` is ``"error"`` when the dataset cannot be read correctly (it is *broken*),
    ``"incomplete"`` when data are missing (it is *partial*), ``"note"`` for files left aside.
    """

    key: str
    path: Path
    kind: ProblemKind
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class Scan:
    """What a scanner found: files (relative POSIX paths, sorted), targets, metadata, problems.

    ``meta`` holds one list per metadata field, aligned with ``files``; a field listed in
    ``vocab`` stores indices into that tuple of strings (for example the corruption names).
    """

    key: str
    directory: Path
    layout: str
    files: list[str] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    meta: dict[str, list[int]] = field(default_factory=dict)
    vocab: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    label_files: tuple[Path, ...] = ()

    def add(self, path: Path, kind: ProblemKind, severity: Severity, message: str) -> None:
        self.problems.append(Problem(self.key, path, kind, severity, message))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def is_image_file(name: str) -> bool:
    """Whether a file name has one of the image extensions quba reads (case-insensitive)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_EXTENSIONS


def parse_session_name(name: str) -> str:
    """The category of a sketch/stylized file ``<a>_<b>_<c>_<condition>_<category>_<rest>.png``.

    Fields are split on ``_``; the fifth is the category. Raises ``ValueError`` for fewer than six
    fields.
    """
    fields = os.path.splitext(os.path.basename(name))[0].split("_")
    if len(fields) < 6:
        raise ValueError(
            f"expected a name <a>_<b>_<c>_<condition>_<category>_<rest>.png with at least six "
            f"'_'-separated fields, got {name!r}"
        )
    return fields[4]


def _listdir(path: Path) -> tuple[list[str], list[str]]:
    """Sorted sub-folder and file names of ``path``, hidden entries (``.name``) left out."""
    dirs: list[str] = []
    files: list[str] = []
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            (dirs if entry.is_dir() else files).append(entry.name)
    return sorted(dirs), sorted(files)


def _short_list(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, … ({len(names) - limit} more)"


def _report_missing(scan: Scan, parent: Path, missing: list[str], what: str, total: int) -> None:
    if missing:
        scan.add(
            parent,
            "missing_folder",
            "incomplete",
            f"missing {len(missing)} of {total} {what} folders: {_short_list(missing)}",
        )


def _stray_top_files(scan: Scan, directory: Path, files: list[str], what: str) -> None:
    """Files at a level that holds only folders: images are errors, other files are ignored."""
    for name in files:
        if is_image_file(name):
            scan.add(
                directory / name,
                "unexpected_file",
                "error",
                f"image outside a {what} folder; expected only {what} folders here",
            )
        else:
            scan.add(directory / name, "ignored", "note", "not an image; ignored")


def _scan_leaf(
    scan: Scan,
    folder: Path,
    relative: str,
    target: int,
    meta: Mapping[str, int] | None = None,
) -> None:
    """Add the images of one leaf folder, with ``target`` and ``meta``, to the scan."""
    dirs, files = _listdir(folder)
    for name in dirs:
        scan.add(folder / name, "unknown_folder", "error", "unexpected sub-folder in a leaf folder")
    images = [name for name in files if is_image_file(name)]
    if len(images) < len(files):
        for name in sorted(set(files) - set(images)):
            scan.add(folder / name, "not_an_image", "error", "not an image file (by its extension)")
    # the hot loop of a 3.75-million-file ImageNet-C listing: extend, no per-file Path objects
    scan.files.extend([f"{relative}/{name}" for name in images])
    scan.targets.extend([target] * len(images))
    for field_name, value in (meta or {}).items():
        scan.meta[field_name].extend([value] * len(images))
    if not files and not dirs:
        scan.add(folder, "empty", "incomplete", "folder holds no images")


def _scan_labelled_folders(
    scan: Scan,
    directory: Path,
    relative: str,
    allowed: Mapping[str, int],
    what: str,
    expected_hint: str,
    meta: Mapping[str, int] | None = None,
    stray_files: bool = True,
) -> None:
    """Scan ``<label folder>/<file>`` under ``directory``; folder names are keys of ``allowed``."""
    dirs, files = _listdir(directory)
    if stray_files:
        _stray_top_files(scan, directory, files, what)
    else:
        for name in files:
            scan.add(directory / name, "unexpected_file", "error", f"expected only {what} folders")
    for name in dirs:
        if name not in allowed:
            scan.add(
                directory / name,
                "unknown_folder",
                "error",
                f"unknown {what} folder {name!r}; expected {expected_hint}",
            )
            continue
        prefix = f"{relative}/{name}" if relative else name
        _scan_leaf(scan, directory / name, prefix, allowed[name], meta)
    present = set(dirs)
    _report_missing(scan, directory, [n for n in allowed if n not in present], what, len(allowed))


def _class_folders_allowed(suite: Suite, key: str) -> tuple[dict[str, int], str]:
    space = suite.label_space
    if key == "imagenet_r":
        allowed = {space.classes[i]: i for i in space.rendition_classes}
        return allowed, f"one of the {len(allowed)} rendition class ids of {space.name}"
    allowed = dict(space.class_index)
    example = space.classes[0] if space.classes else "?"
    return allowed, f"a class id of {space.name} (e.g. {example})"


def _scan_class_folders(scan: Scan, suite: Suite) -> None:
    dirs, files = _listdir(scan.directory)
    allowed, hint = _class_folders_allowed(suite, scan.key)
    # Flat: images at the top and no class folder (the devkit's folder may lie beside them).
    if any(is_image_file(f) for f in files) and not any(d in allowed for d in dirs):
        scan.layout = "imagenet_flat"
        _scan_flat(scan, suite, dirs, files)
        return
    _scan_labelled_folders(scan, scan.directory, "", allowed, "class", hint)


def find_label_file(directory: Path) -> tuple[str, tuple[Path, ...]] | None:
    """The label file of a flat ImageNet val folder, searched in the folder and its parent.

    Returns ``("loc", (csv,))`` or ``("devkit", (ground_truth, meta))``, or ``None``.
    """
    for base in (directory, directory.parent):
        if (base / LOC_SOLUTION).is_file():
            return "loc", (base / LOC_SOLUTION,)
        for folder in (base, base / DEVKIT_FOLDER):
            truth, meta = folder / DEVKIT_GROUND_TRUTH, folder / DEVKIT_META
            if truth.is_file() and meta.is_file():
                return "devkit", (truth, meta)
    return None


def read_loc_solution(path: Path) -> dict[str, str]:
    """``LOC_val_solution.csv``: image id (file stem) -> wnid (first token of the second column)."""
    labels: dict[str, str] = {}
    try:
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or len(header) < 2:
                raise DataError(f"{path}: expected a header ImageId,PredictionString, got {header}")
            for row_number, row in enumerate(reader, start=2):
                if len(row) < 2 or not row[1].split():
                    raise DataError(
                        f"{path}, row {row_number}: expected ImageId,<wnid> <box>…, got {row}"
                    )
                labels[row[0].strip()] = row[1].split()[0]
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the label file ({error})") from error
    return labels


def read_devkit_labels(ground_truth: Path, meta: Path) -> list[str]:
    """The wnid of val image ``n`` (1-based) at position ``n - 1``, from the devkit files.

    ``ILSVRC2012_validation_ground_truth.txt`` holds one ILSVRC2012_ID (1..1000) per line; the IDs
    follow the devkit's ``meta.mat`` order (its ``synsets`` struct with fields ``ILSVRC2012_ID``
    and ``WNID``), not the sorted wnid order, so they are converted through ``meta.mat``.
    """
    import scipy.io

    try:
        synsets = scipy.io.loadmat(str(meta), squeeze_me=True)["synsets"]
        id_to_wnid = {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets}
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise DataError(
            f"{meta}: expected the devkit's meta.mat with a 'synsets' struct holding "
            f"ILSVRC2012_ID and WNID ({error})"
        ) from error
    wnids: list[str] = []
    try:
        lines = ground_truth.read_text().split()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{ground_truth}: cannot read the label file ({error})") from error
    for line_number, token in enumerate(lines, start=1):
        try:
            wnids.append(id_to_wnid[int(token)])
        except (ValueError, KeyError):
            raise DataError(
                f"{ground_truth}, line {line_number}: expected an ILSVRC2012_ID listed in "
                f"{meta}, got {token!r}"
            ) from None
    return wnids


def _scan_flat(scan: Scan, suite: Suite, dirs: list[str], files: list[str]) -> None:
    for name in dirs:
        if name == DEVKIT_FOLDER.parts[0]:
            scan.add(scan.directory / name, "ignored", "note", "the devkit's folder; ignored")
        else:
            scan.add(
                scan.directory / name,
                "unknown_folder",
                "error",
                "unexpected folder among flat image files; expected no folders, or one per class",
            )
    found = find_label_file(scan.directory)
    if found is None:
        scan.add(
            scan.directory,
            "missing_label_file",
            "error",
            f"flat image files without labels; expected {LOC_SOLUTION}, or "
            f"{DEVKIT_GROUND_TRUTH} with {DEVKIT_META} (also under {DEVKIT_FOLDER}), "
            f"in {scan.directory} or {scan.directory.parent} — or one folder per class",
        )
        return
    kind, label_files = found
    scan.label_files = label_files
    try:
        if kind == "loc":
            by_stem = read_loc_solution(label_files[0])
            by_number: list[str] = []
        else:
            by_stem = {}
            by_number = read_devkit_labels(*label_files)
    except DataError as error:
        scan.add(label_files[0], "bad_label_file", "error", error.message)
        return
    class_index = suite.label_space.class_index
    for name in files:
        path = scan.directory / name
        if not is_image_file(name):
            scan.add(path, "ignored", "note", "not an image; ignored")
            continue
        if kind == "loc":
            wnid = by_stem.get(os.path.splitext(name)[0])
            if wnid is None:
                scan.add(path, "no_label", "error", f"file not listed in {label_files[0]}")
                continue
        else:
            match = _VAL_NAME.fullmatch(name)
            if match is None:
                scan.add(
                    path,
                    "bad_name",
                    "error",
                    "expected ILSVRC2012_val_NNNNNNNN.JPEG (the devkit labels files by number)",
                )
                continue
            number = int(match.group(1))
            if not 1 <= number <= len(by_number):
                scan.add(path, "no_label", "error", f"no line {number} in {label_files[0]}")
                continue
            wnid = by_number[number - 1]
        if wnid not in class_index:
            scan.add(path, "bad_label_file", "error", f"label {wnid!r} is not a class id")
            continue
        scan.files.append(name)
        scan.targets.append(class_index[wnid])


def _scan_corruptions(scan: Scan, suite: Suite) -> None:
    corruptions = tuple(suite.corruptions)
    scan.vocab["corruption"] = corruptions
    scan.meta = {"corruption": [], "severity": []}
    allowed, hint = _class_folders_allowed(suite, scan.key)
    dirs, files = _listdir(scan.directory)
    _stray_top_files(scan, scan.directory, files, "corruption")
    severities = [str(s) for s in suite.severities]
    for name in dirs:
        folder = scan.directory / name
        if name in EXTRA_CORRUPTIONS and name not in corruptions:
            scan.add(folder, "ignored", "note", "an extra corruption, not part of the score")
            continue
        if name not in corruptions:
            scan.add(
                folder,
                "unknown_folder",
                "error",
                f"unknown corruption folder {name!r}; expected one of {', '.join(corruptions)}",
            )
            continue
        sub_dirs, sub_files = _listdir(folder)
        for stray in sub_files:
            scan.add(folder / stray, "unexpected_file", "error", "expected only severity folders")
        for severity in sub_dirs:
            if severity not in severities:
                scan.add(
                    folder / severity,
                    "unknown_folder",
                    "error",
                    f"unknown severity folder {severity!r}; expected {', '.join(severities)}",
                )
                continue
            meta = {"corruption": corruptions.index(name), "severity": int(severity)}
            _scan_labelled_folders(
                scan,
                folder / severity,
                f"{name}/{severity}",
                allowed,
                "class",
                hint,
                meta,
                stray_files=False,
            )
        missing = [s for s in severities if s not in sub_dirs]
        _report_missing(scan, folder, missing, "severity", len(severities))
    missing = [c for c in corruptions if c not in dirs]
    _report_missing(scan, scan.directory, missing, "corruption", len(corruptions))


def _scan_category_folders(scan: Scan, suite: Suite) -> None:
    categories = suite.label_space.category_names
    allowed = {name: i for i, name in enumerate(categories)}
    hint = f"one of {', '.join(categories)}"
    _scan_labelled_folders(scan, scan.directory, "", allowed, "category", hint)
    if scan.key == "cue_conflict":
        _read_cue_conflict_names(scan, allowed)


def _read_cue_conflict_names(scan: Scan, allowed: Mapping[str, int]) -> None:
    """Keep the files named ``<shape><n>-<texture><m>`` with the folder's shape; add ``texture``."""
    files: list[str] = []
    targets: list[int] = []
    textures: list[int] = []
    for relative, target in zip(scan.files, scan.targets, strict=True):
        folder_name, name = relative.split("/")
        path = scan.directory / relative
        try:
            shape, texture = parse_cue_conflict_name(name)
        except ValueError as error:
            scan.add(path, "bad_name", "error", str(error))
            continue
        if shape != folder_name or texture not in allowed:
            scan.add(
                path,
                "bad_name",
                "error",
                f"shape {shape!r} and texture {texture!r} of the name must be categories, "
                f"the shape that of the folder {folder_name!r}",
            )
            continue
        files.append(relative)
        targets.append(target)
        textures.append(allowed[texture])
    scan.files, scan.targets = files, targets
    scan.meta = {"texture": textures}


def _scan_session_files(scan: Scan, suite: Suite) -> None:
    categories = suite.label_space.category_names
    allowed = {name: i for i, name in enumerate(categories)}
    session = scan.directory / "dnn" / "session-1"
    for level, expected in ((scan.directory, "dnn"), (scan.directory / "dnn", "session-1")):
        if not level.is_dir():
            break
        dirs, files = _listdir(level)
        _stray_top_files(scan, level, files, f"'{expected}'")
        for name in dirs:
            if name != expected:
                scan.add(level / name, "unknown_folder", "error", f"expected only '{expected}'")
    if not session.is_dir():
        scan.add(session, "missing_folder", "incomplete", "expected the folder dnn/session-1")
        return
    dirs, files = _listdir(session)
    for name in dirs:
        scan.add(session / name, "unknown_folder", "error", "unexpected sub-folder")
    for name in files:
        path = session / name
        if not is_image_file(name):
            scan.add(path, "not_an_image", "error", "not an image file (by its extension)")
            continue
        try:
            category = parse_session_name(name)
        except ValueError as error:
            scan.add(path, "bad_name", "error", str(error))
            continue
        if category not in allowed:
            scan.add(
                path,
                "bad_name",
                "error",
                f"fifth field {category!r} is not a category; expected one of "
                f"{', '.join(categories)}",
            )
            continue
        scan.files.append(f"dnn/session-1/{name}")
        scan.targets.append(allowed[category])
    if not files and not dirs:
        scan.add(session, "empty", "incomplete", "folder holds no images")


def _scan_object_folders(scan: Scan, suite: Suite) -> None:
    folders = suite.label_space.object_class_folders
    allowed = {name: i for i, name in enumerate(folders)}
    hint = "one of " + ", ".join(repr(f) for f in folders)
    _scan_labelled_folders(scan, scan.directory, "", allowed, "object class", hint)


_SCANNERS = {
    "class_folders": _scan_class_folders,
    "imagenet_flat": _scan_class_folders,
    "corruptions": _scan_corruptions,
    "category_folders": _scan_category_folders,
    "session_files": _scan_session_files,
    "object_folders": _scan_object_folders,
}


def scan_dataset(suite: Suite, key: str, directory: Path) -> Scan:
    """List the images of dataset ``key`` of ``suite`` stored in ``directory``, with problems.

    Never raises for a defect of the data: every defect becomes a :class:`Problem`.
    """
    info = suite.dataset(key)
    scan = Scan(key=key, directory=directory, layout=info.layout)
    if not directory.is_dir():
        what = "is not a folder" if directory.exists() else "does not exist"
        scan.add(directory, "missing_dataset", "incomplete", f"dataset folder {what}")
        return scan
    _SCANNERS[info.layout](scan, suite)
    logger.debug(
        "%s: %d images, %d problems in %s", key, len(scan.files), len(scan.problems), directory
    )
    return scan
