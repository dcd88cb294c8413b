"""Image datasets read from their on-disk layouts, ready for batched inference.

:func:`open_dataset` scans a dataset's folder once (sorted, deterministic order; see
:mod:`quba.data.layouts`) and returns an :class:`ImageDataset`: a ``torch.utils.data.Dataset``
whose items are ``(image, target, sample_id)``. It holds only compact arrays (relative paths,
targets, metadata codes), so it pickles quickly into DataLoader worker processes, where the
expensive part, decoding, happens in parallel. ``subset`` and ``shard`` split it by index while
keeping each sample's id (its index in the full dataset), so shards of predictions line up.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from quba.data.layouts import LAYOUT_VERSION, Scan, scan_dataset
from quba.data.paths import dataset_path
from quba.data.suites import Suite
from quba.errors import DataError

logger = logging.getLogger(__name__)

# PIL raises these for files that are not images, truncated or corrupt.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


@dataclass(frozen=True)
class Sample:
    """One image of a dataset: its file, its target, its metadata (``file`` and layout fields)."""

    path: Path
    target: int
    metadata: dict[str, Any]


class _SampleView(Sequence[Sample]):
    """A read-only sequence of :class:`Sample` built on demand from the dataset's arrays."""

    def __init__(self, dataset: ImageDataset) -> None:
        self._dataset = dataset

    def __len__(self) -> int:
        return len(self._dataset)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._dataset.sample(index)

    def __iter__(self) -> Iterator[Sample]:
        return (self._dataset.sample(i) for i in range(len(self)))


def decode_image(path: Path) -> Image.Image:
    """Decode an image file fully into an RGB PIL image; :class:`DataError` if it cannot be read."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except FileNotFoundError:
        raise DataError(
            f"{path}: image file has disappeared since the dataset was listed"
        ) from None
    except _DECODE_ERRORS as error:
        raise DataError(f"{path}: cannot decode the image ({error})") from error


class ImageDataset(Dataset):
    """Labelled images of one dataset; ``ds[i] -> (image, target, sample_id)``.

    ``image`` is ``transform(pil_rgb_image)``, or the PIL image when ``transform`` is None.
    ``target`` is the index in the suite's label space (class, category or object class; see
    docs/architecture.md, "Targets"). ``sample_id`` is the index of the sample in the full dataset
    (equal to ``i`` unless this is a subset or shard). With ``skip_unreadable=True`` an image that
    does not decode yields ``None`` instead of raising; batch with :func:`collate`.

    Attributes:
        key: the dataset key (``imagenet_val``, ``imagenet_c``, …).
        directory: the dataset's folder; ``files`` are relative to it.
        layout: the layout that was read (``imagenet_flat`` when ImageNet val is flat).
        targets: ``np.int64`` array of targets.
        sample_ids: ``np.int64`` array of sample ids.
    """

    def __init__(
        self,
        *,
        key: str,
        suite_name: str,
        label_space: str,
        directory: Path,
        layout: str,
        files: Sequence[str] | np.ndarray,
        targets: np.ndarray,
        meta: dict[str, np.ndarray],
        vocab: dict[str, tuple[str, ...]],
        sample_ids: np.ndarray | None = None,
        label_files: tuple[Path, ...] = (),
        transform: Callable[[Image.Image], Any] | None = None,
        skip_unreadable: bool = False,
    ) -> None:
        self.key = key
        self.suite_name = suite_name
        self.label_space = label_space
        self.directory = Path(directory)
        self.layout = layout
        # UTF-8 bytes in one numpy array rather than a list of str: forked DataLoader workers
        # share its pages (a list's reference counts would copy them into every worker), and it
        # pickles as one buffer for spawned workers.
        self._paths = (
            files
            if isinstance(files, np.ndarray) and files.dtype.kind == "S"
            else np.array([f.encode() for f in files], dtype=bytes)
        )
        self.targets = np.asarray(targets, dtype=np.int64)
        self._meta = meta
        self._vocab = vocab
        self.sample_ids = (
            np.arange(len(self._paths), dtype=np.int64)
            if sample_ids is None
            else np.asarray(sample_ids, dtype=np.int64)
        )
        self.label_files = label_files
        self.transform = transform
        self.skip_unreadable = skip_unreadable
        self._fingerprint: str | None = None

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._paths)

    @property
    def files(self) -> list[str]:
        """Relative POSIX paths, one per sample (built on each access)."""
        return [f.decode() for f in self._paths.tolist()]

    def file(self, index: int) -> str:
        """The relative path of sample ``index``."""
        return self._paths[index].decode()

    def path(self, index: int) -> Path:
        """The absolute path of sample ``index``."""
        return self.directory / self.file(index)

    def load(self, index: int) -> Image.Image:
        """Decode sample ``index`` into an RGB PIL image (:class:`DataError` if unreadable)."""
        return decode_image(self.path(index))

    def __getitem__(self, index: int):
        try:
            image = self.load(index)
        except DataError:
            if not self.skip_unreadable:
                raise
            logger.warning("%s: skipping unreadable %s", self.key, self.path(index))
            return None
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index]), int(self.sample_ids[index])

    # -- description -----------------------------------------------------------------------

    def sample(self, index: int) -> Sample:
        """Sample ``index`` with its path, target and metadata."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample index {index} out of range for {len(self)} samples")
        index = index % len(self)
        metadata: dict[str, Any] = {"file": self.file(index)}
        for name, values in self._meta.items():
            value = values[index]
            metadata[name] = self._vocab[name][value] if name in self._vocab else int(value)
        return Sample(self.path(index), int(self.targets[index]), metadata)

    @property
    def samples(self) -> Sequence[Sample]:
        """Every sample as a :class:`Sample` (built on demand)."""
        return _SampleView(self)

    def metadata(self, *, files: bool = True) -> dict[str, np.ndarray]:
        """Per-sample metadata arrays, aligned with ``targets``.

        ``file`` (relative path, str) unless ``files=False`` (for ImageNet-C's 3.75 M paths
        that array alone takes about 0.9 GB); ``corruption`` (str) and ``severity`` (int) for
        ImageNet-C; ``texture`` (category index) for cue-conflict.
        """
        out: dict[str, np.ndarray] = {}
        if files:
            out["file"] = np.char.decode(self._paths, "utf-8")
        for name, values in self._meta.items():
            if name in self._vocab:
                out[name] = np.asarray(self._vocab[name], dtype=str)[values]
            else:
                out[name] = values.astype(np.int64)
        return out

    def fingerprint(self) -> str:
        """A stable hex digest identifying the data: layout version, key, label space, the
        relative path and size of every file, sample ids, and the label files of a flat layout.

        It changes when a file is added, removed, renamed or resized, or when the reader's
        layout version changes; it does not depend on the dataset's location.
        """
        if self._fingerprint is not None:
            return self._fingerprint
        digest = hashlib.sha256()
        header = {
            "layout_version": LAYOUT_VERSION,
            "key": self.key,
            "label_space": self.label_space,
            "layout": self.layout,
        }
        digest.update(json.dumps(header, sort_keys=True).encode())
        for name in self.files:
            size = os.stat(self.directory / name).st_size
            digest.update(f"{name}\0{size}\n".encode())
        digest.update(self.sample_ids.tobytes())
        for label_file in self.label_files:
            digest.update(hashlib.sha256(label_file.read_bytes()).digest())
        self._fingerprint = digest.hexdigest()
        return self._fingerprint

    # -- splitting -------------------------------------------------------------------------

    def subset(self, indices: Sequence[int] | np.ndarray) -> ImageDataset:
        """The samples at ``indices`` (positions in this dataset), keeping their sample ids."""
        positions = np.asarray(indices, dtype=np.int64).reshape(-1)
        if positions.size and (positions.min() < 0 or positions.max() >= len(self)):
            raise IndexError(f"subset indices must lie in [0, {len(self)}), got {positions}")
        return ImageDataset(
            key=self.key,
            suite_name=self.suite_name,
            label_space=self.label_space,
            directory=self.directory,
            layout=self.layout,
            files=self._paths[positions],
            targets=self.targets[positions],
            meta={name: values[positions] for name, values in self._meta.items()},
            vocab=self._vocab,
            sample_ids=self.sample_ids[positions],
            label_files=self.label_files,
            transform=self.transform,
            skip_unreadable=self.skip_unreadable,
        )

    def shard(self, index: int, count: int) -> ImageDataset:
        """Shard ``index`` of ``count`` contiguous, near-equal shards (see :func:`shard_ranges`)."""
        start, stop = shard_ranges(len(self), count)[index]
        return self.subset(np.arange(start, stop))

    def with_transform(self, transform: Callable[[Image.Image], Any] | None) -> ImageDataset:
        """The same samples with another transform (the arrays are shared, not copied)."""
        clone = copy.copy(self)
        clone.transform = transform
        return clone

    def __repr__(self) -> str:
        return (
            f"ImageDataset(key={self.key!r}, samples={len(self)}, layout={self.layout!r}, "
            f"directory={str(self.directory)!r})"
        )


def shard_ranges(length: int, count: int) -> list[tuple[int, int]]:
    """Split ``range(length)`` into ``count`` contiguous ``(start, stop)`` ranges.

    The first ``length % count`` shards hold one sample more than the others.
    """
    if count < 1:
        raise ValueError(f"Expected count to be an integer larger than 0, but got {count}")
    size, extra = divmod(length, count)
    ranges, start = [], 0
    for i in range(count):
        stop = start + size + (1 if i < extra else 0)
        ranges.append((start, stop))
        start = stop
    return ranges


def collate(batch: Sequence[tuple[Any, int, int] | None]) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """DataLoader ``collate_fn``: drop ``None`` items (unreadable images), stack the rest.

    Returns ``(images, targets, sample_ids)``: images stacked into one tensor when they are
    tensors (a list otherwise, e.g. PIL images), targets and ids as ``torch.int64`` tensors.
    A batch whose every image was unreadable gives an empty tensor of images.
    """
    kept = [item for item in batch if item is not None]
    targets = torch.tensor([item[1] for item in kept], dtype=torch.int64)
    ids = torch.tensor([item[2] for item in kept], dtype=torch.int64)
    images = [item[0] for item in kept]
    if not images:
        return torch.empty(0), targets, ids
    if isinstance(images[0], torch.Tensor):
        return torch.stack(images), targets, ids
    return images, targets, ids


def dataset_from_scan(
    scan: Scan,
    suite: Suite,
    *,
    transform: Callable[[Image.Image], Any] | None = None,
    skip_unreadable: bool = False,
) -> ImageDataset:
    """Build an :class:`ImageDataset` from a scan, refusing one with errors or no images."""
    errors = scan.errors
    if errors:
        shown = "\n".join(f"  {problem}" for problem in errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise DataError(
            f"Dataset {scan.key!r} at {scan.directory} does not follow its layout "
            f"({scan.layout}); {len(errors)} problem(s):\n{shown}{more}",
            hint="Run `quba data verify` to see every problem.",
        )
    if not scan.files:
        reasons = "; ".join(str(p) for p in scan.problems[:3]) or "no image files"
        raise DataError(
            f"Dataset {scan.key!r} has no images at {scan.directory} ({reasons})",
            hint=f"Expected the layout {scan.layout}; see docs/data.md or `quba data download`.",
        )
    incomplete = [p for p in scan.problems if p.severity == "incomplete"]
    if incomplete:
        logger.warning(
            "%s is partial (%d problem(s), first: %s); `quba data verify` lists them",
            scan.key,
            len(incomplete),
            incomplete[0],
        )
    meta_dtype = {"severity": np.int8, "corruption": np.int16}
    meta = {
        name: np.asarray(values, dtype=meta_dtype.get(name, np.int64))
        for name, values in scan.meta.items()
    }
    return ImageDataset(
        key=scan.key,
        suite_name=suite.name,
        label_space=suite.label_space.name,
        directory=scan.directory,
        layout=scan.layout,
        files=scan.files,
        targets=np.asarray(scan.targets, dtype=np.int64),
        meta=meta,
        vocab=dict(scan.vocab),
        label_files=scan.label_files,
        transform=transform,
        skip_unreadable=skip_unreadable,
    )


def open_dataset(
    suite: Suite,
    key: str,
    root: Path | str | None = None,
    *,
    transform: Callable[[Image.Image], Any] | None = None,
    path: Path | str | None = None,
    skip_unreadable: bool = False,
) -> ImageDataset:
    """Open dataset ``key`` of ``suite``, lying under the data ``root`` or at ``path``.

    The location follows :func:`quba.data.paths.dataset_path` (``path``, ``$QUBA_DATA_<KEY>``,
    ``<root>/<DatasetInfo.path>``). Raises :class:`DataError` naming the path and what was
    expected when the folder is missing, holds no images, or breaks the layout (unknown class
    folder, a file name against the convention, a file that is not an image, …). A partial
    dataset (some classes or corruptions absent) opens, with a logged warning.
    """
    directory = dataset_path(suite, key, root, path)
    scan = scan_dataset(suite, key, directory)
    dataset = dataset_from_scan(scan, suite, transform=transform, skip_unreadable=skip_unreadable)
    logger.info("%s: %d images from %s (%s)", key, len(dataset), directory, dataset.layout)
    return dataset
