"""The prediction cache: logits on disk, per shard, keyed by everything that changes them.

A cache *entry* is one folder per (model, preprocessing, dataset, prediction key, …) named by a
SHA-256 digest of its key fields (see :func:`prediction_cache_key`). It holds

- ``key.json``: the key fields, readable by a person;
- ``shard-000000.npz`` …: the predictions of consecutive slices of the evaluated image indices
  (``logits`` float32 (n, C), ``targets`` int64, ``sample_ids`` int64, ``skipped`` int64: ids of
  unreadable images left out). Each shard is written to a temporary file in the same folder and
  moved into place with :func:`os.replace`, so a shard file is either complete or absent, whatever
  kills the process;
- ``finished.json``: written last, when every shard is there.

A rerun reads finished entries without forwarding anything; an interrupted entry is resumed from
the shards that exist. Processes that work on the same entry serialise on a file lock
(``<entry>.lock``), so two runs never compute the same shard at the same time or read a shard
while it is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
"""Bumped whenever the shard format or the meaning of a key field changes."""


def _version(distribution: str) -> str:
    """An installed distribution's version, read from its metadata (no import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "absent"


def _minor(text: str) -> str:
    return ".".join(text.split("+")[0].split(".")[:2])


def _versions(spec: str, attacked: bool) -> dict[str, str]:
    """The library versions that change logits: torch (kernels), PIL (decoding, resizing), timm
    for timm/zoo models (architectures), torchattacks for attacked predictions."""
    versions = {"torch": _minor(_version("torch")), "pillow": _version("pillow").split(".")[0]}
    if spec.startswith(("timm:", "zoo:")):
        versions["timm"] = _version("timm")
    if spec.startswith(("torchvision:", "zoo:")):
        versions["torchvision"] = _minor(_version("torchvision"))
    if attacked:
        versions["torchattacks"] = _version("torchattacks")
    return versions


def prediction_cache_key(
    *,
    spec: str,
    weights_id: str,
    preprocessing: Mapping[str, Any],
    dataset_fingerprint: str,
    prediction_key: str,
    protocol_fields: Mapping[str, Any],
    indices_digest: str,
    shard_size: int,
) -> dict[str, Any]:
    """The fields that identify a set of predictions; a change in any gives another entry.

    ``protocol_fields`` holds only the protocol fields that change *these* predictions (the
    attack settings for ``imagenet_val:pgd``, the ImageNet-C input for ``imagenet_c``, nothing
    for clean data), so that protocols sharing clean logits share their cache.
    ``indices_digest`` identifies which images are evaluated (all, or a ``--limit`` subset).
    """
    return {
        "format": CACHE_FORMAT_VERSION,
        "spec": spec,
        "weights_id": weights_id,
        "preprocessing": dict(preprocessing),
        "dataset": dataset_fingerprint,
        "prediction_key": prediction_key,
        "protocol": dict(protocol_fields),
        "indices": indices_digest,
        "shard_size": int(shard_size),
        "versions": _versions(spec, attacked=":" in prediction_key),
    }


def digest_of(value: Any, length: int = 24) -> str:
    """A stable hex digest of a JSON-serialisable value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def digest_indices(indices: np.ndarray | None) -> str:
    """``"all"`` for the full dataset, else a digest of the evaluated indices."""
    if indices is None:
        return "all"
    return hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:24]


@dataclass(frozen=True)
class Shard:
    """The predictions of one shard; ``skipped`` are the ids of unreadable images left out."""

    logits: np.ndarray
    targets: np.ndarray
    sample_ids: np.ndarray
    skipped: np.ndarray


class CacheEntry:
    """One folder of shards for one set of predictions (see the module docstring)."""

    def __init__(self, path: Path, key: Mapping[str, Any]) -> None:
        self.path = path
        self.key = dict(key)

    def __repr__(self) -> str:
        return f"CacheEntry({str(self.path)!r})"

    @contextmanager
    def lock(self, timeout: float = -1) -> Iterator[None]:
        """Hold the entry's file lock (blocking; ``timeout`` seconds, -1 = forever)."""
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock", timeout=timeout):
            yield

    def _prepare(self) -> None:
        if not (self.path / "key.json").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            _atomic_write_bytes(
                self.path / "key.json", json.dumps(self.key, indent=2, sort_keys=True).encode()
            )

    def shard_path(self, index: int) -> Path:
        return self.path / f"shard-{index:06d}.npz"

    def has_shard(self, index: int) -> bool:
        return self.shard_path(index).is_file()

    @property
    def is_finished(self) -> bool:
        return (self.path / "finished.json").is_file()

    def write_shard(self, index: int, shard: Shard) -> None:
        """Write shard ``index`` atomically (temporary file, fsync, :func:`os.replace`)."""
        self._prepare()
        arrays = {
            "logits": np.ascontiguousarray(shard.logits, dtype=np.float32),
            "targets": np.asarray(shard.targets, dtype=np.int64),
            "sample_ids": np.asarray(shard.sample_ids, dtype=np.int64),
            "skipped": np.asarray(shard.skipped, dtype=np.int64),
        }
        with _atomic_file(self.shard_path(index)) as handle:
            np.savez(handle, **arrays)

    def read_shard(self, index: int) -> Shard | None:
        """The shard, or ``None`` when it is absent or unreadable (it is then recomputed)."""
        path = self.shard_path(index)
        try:
            with np.load(path, allow_pickle=False) as data:
                return Shard(
                    logits=data["logits"],
                    targets=data["targets"],
                    sample_ids=data["sample_ids"],
                    skipped=data["skipped"],
                )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            logger.warning("discarding unreadable cache shard %s: %s", path, error)
            path.unlink(missing_ok=True)
            return None

    def finish(self, info: Mapping[str, Any]) -> None:
        """Mark the entry complete (written last, atomically)."""
        self._prepare()
        _atomic_write_bytes(
            self.path / "finished.json", json.dumps(dict(info), indent=2, sort_keys=True).encode()
        )

    def clear(self) -> None:
        """Remove every shard and the finished marker (``--force``)."""
        if self.path.exists():
            shutil.rmtree(self.path)


class PredictionCache:
    """A folder of :class:`CacheEntry` folders, one per prediction key digest."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()

    def __repr__(self) -> str:
        return f"PredictionCache({str(self.root)!r})"

    def entry(self, key: Mapping[str, Any], *, label: str = "") -> CacheEntry:
        """The entry of ``key``; ``label`` (e.g. the prediction key) prefixes the folder name."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:40]
        name = f"{safe}-{digest_of(key)}" if safe else digest_of(key)
        return CacheEntry(self.root / name, key)


def default_cache_dir() -> Path:
    """``$QUBA_CACHE_DIR``, else ``<cache home>/predictions`` (see :mod:`quba.store`)."""
    from quba.store import default_cache_home

    override = os.environ.get("QUBA_CACHE_DIR")
    return Path(override).expanduser() if override else default_cache_home() / "predictions"


@contextmanager
def _atomic_file(path: Path) -> Iterator[Any]:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    with _atomic_file(path) as handle:
        handle.write(data)
