"""Batched forward passes over a dataset, shard by shard, through the prediction cache.

One call of :func:`run_predictions` handles every prediction of one model on one dataset that
shares the same decoded images — clean logits and attacked logits (``imagenet_val``,
``imagenet_val:pgd``, ``imagenet_val:fgsm``) — so each image is read and decoded once per model
and preprocessing, whatever is computed from it.

The evaluated images (all, or a ``--limit`` subset: ``indices``) are cut into shards of
``shard_size`` consecutive indices. A shard that is in the cache is never recomputed; the others
are computed batch by batch (batches never cross a shard) and written as soon as the shard is
complete. Each attacked batch draws its random start from a seed derived from the protocol seed,
the prediction key and the batch's first index, so a resumed run gives the same numbers as an
uninterrupted one (with the same batch size, which is part of the attack's cache key).
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quba.errors import DataError, QubaError
from quba.inference.attacks import AttackSpec, attack_batch
from quba.inference.cache import CacheEntry, Shard
from quba.inference.predictions import (
    NEED_ORDER,
    PredictionNeed,
    Predictions,
    top1_dtype,
    top1_of,
)

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""``progress(task, completed, total)``: ``completed`` of ``total`` images of a task are done."""


@dataclass(frozen=True)
class PredictionJob:
    """One set of predictions to compute: its key, cache entry, and attack (None = clean)."""

    key: str
    entry: CacheEntry
    attack: AttackSpec | None = None


@dataclass
class RunStats:
    """What a run did: images forwarded (clean) or attacked, and shards read from the cache."""

    forwarded: dict[str, int] = field(default_factory=dict)
    cached_shards: dict[str, int] = field(default_factory=dict)

    @property
    def total_forwarded(self) -> int:
        return sum(self.forwarded.values())

    def merge(self, other: RunStats) -> None:
        for key, count in other.forwarded.items():
            self.forwarded[key] = self.forwarded.get(key, 0) + count
        for key, count in other.cached_shards.items():
            self.cached_shards[key] = self.cached_shards.get(key, 0) + count


def shard_slices(num: int, shard_size: int) -> list[slice]:
    """Consecutive slices of ``shard_size`` positions covering ``range(num)``."""
    if shard_size < 1:
        raise ValueError(f"Expected shard_size > 0, but got {shard_size}")
    return [slice(start, min(start + shard_size, num)) for start in range(0, num, shard_size)]


def batch_seed(seed: int, key: str, first_index: int) -> int:
    """The random-start seed of the attacked batch starting at dataset index ``first_index``."""
    state = np.random.SeedSequence([int(seed), zlib.crc32(key.encode()), int(first_index)])
    return int(state.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _default_collate(items: Sequence[Any]) -> tuple[Any, Any, Any] | None:
    """Stack ``(image, target, index)`` items, dropping ``None`` (unreadable, skipped) items."""
    import torch

    kept = [item for item in items if item is not None]
    if not kept:
        return None
    images, targets, indices = zip(*kept, strict=True)
    return (
        torch.stack(list(images)),
        torch.as_tensor(targets, dtype=torch.int64),
        torch.as_tensor(indices, dtype=torch.int64),
    )


def _unwrap_worker_error(error: QubaError) -> QubaError:
    """A QubaError re-raised from a DataLoader worker carries the worker's traceback in its
    message; keep only the original message so the CLI prints what the user needs."""
    text = error.message
    if text.startswith("Caught "):
        name = type(error).__name__
        match = re.search(rf"{name}: (.*)\Z", text.rstrip(), flags=re.S)
        if match:
            return type(error)(match.group(1).strip())
    return error


def run_predictions(
    module: Any,
    dataset: Any,
    jobs: Sequence[PredictionJob],
    *,
    indices: np.ndarray | None = None,
    device: Any = "cpu",
    batch_size: int = 64,
    workers: int = 0,
    shard_size: int = 1024,
    seed: int = 0,
    collate_fn: Callable[[Sequence[Any]], Any] | None = None,
    progress: ProgressCallback | None = None,
    label: str = "",
    force: bool = False,
) -> RunStats:
    """Compute (or find in the cache) every job's predictions of ``module`` on ``dataset``.

    ``dataset[i]`` returns ``(image tensor (3, H, W) in [0, 1], target, i)`` or ``None`` for an
    unreadable image that is skipped. ``indices`` (sorted) selects the evaluated images (default:
    all). Holds each job's cache lock while it works, so concurrent runs never compute the same
    shard twice. With ``force`` the jobs' cached shards are deleted first.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"Expected batch_size > 0, but got {batch_size}")
    indices = np.arange(len(dataset), dtype=np.int64) if indices is None else np.asarray(indices)
    slices = shard_slices(len(indices), shard_size)
    stats = RunStats()
    if not jobs:
        return stats

    entries = sorted(jobs, key=lambda job: str(job.entry.path))  # one lock order everywhere
    with _locked(entries):
        pending: dict[str, list[int]] = {}
        for job in jobs:
            if force:
                job.entry.clear()
            missing = [i for i in range(len(slices)) if not job.entry.has_shard(i)]
            stats.cached_shards[job.key] = len(slices) - len(missing)
            if missing or not job.entry.is_finished:
                pending[job.key] = missing
        todo = sorted({i for shards in pending.values() for i in shards})
        if not todo and progress:
            progress(label or ", ".join(job.key for job in jobs), len(indices), len(indices))
        if todo:
            busy = [job for job in jobs if pending.get(job.key)]
            _compute_shards(
                module,
                dataset,
                busy,
                pending,
                indices,
                slices,
                todo,
                device=torch.device(device),
                batch_size=batch_size,
                workers=workers,
                seed=seed,
                collate_fn=collate_fn or _default_collate,
                progress=progress,
                label=label,
                stats=stats,
            )
        for job in jobs:
            if job.key in pending:
                job.entry.finish({"num_shards": len(slices), "num_images": len(indices)})
    return stats


class _locked:
    """Hold the file locks of several cache entries (acquired in path order)."""

    def __init__(self, jobs: Sequence[PredictionJob]) -> None:
        self._contexts = [job.entry.lock() for job in jobs]

    def __enter__(self) -> None:
        entered = []
        try:
            for context in self._contexts:
                context.__enter__()
                entered.append(context)
        except BaseException:
            for context in reversed(entered):
                context.__exit__(None, None, None)
            raise
        self._entered = entered

    def __exit__(self, *exc: Any) -> None:
        for context in reversed(self._entered):
            context.__exit__(*exc)


def _compute_shards(
    module: Any,
    dataset: Any,
    jobs: Sequence[PredictionJob],
    pending: Mapping[str, list[int]],
    indices: np.ndarray,
    slices: Sequence[slice],
    todo: Sequence[int],
    *,
    device: Any,
    batch_size: int,
    workers: int,
    seed: int,
    collate_fn: Callable[[Sequence[Any]], Any],
    progress: ProgressCallback | None,
    label: str,
    stats: RunStats,
) -> None:
    import torch
    from torch.utils.data import DataLoader

    plan: list[tuple[int, list[int], bool]] = []
    for shard in todo:
        members = indices[slices[shard]].tolist()
        for start in range(0, len(members), batch_size):
            batch = members[start : start + batch_size]
            plan.append((shard, batch, start + batch_size >= len(members)))

    wanted = {job.key: set(pending[job.key]) for job in jobs}
    total = len(indices)
    done = total - sum(len(indices[slices[s]]) for s in todo)
    task = label or ", ".join(job.key for job in jobs)
    if progress:
        progress(task, done, total)

    loader = DataLoader(
        dataset,
        batch_sampler=[batch for _, batch, _ in plan],
        num_workers=workers,
        collate_fn=collate_fn,
        pin_memory=device.type == "cuda",
    )
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {j.key: [] for j in jobs}
    module.eval()
    iterator = iter(loader)
    for shard, batch, last in plan:
        try:
            loaded = next(iterator)
        except QubaError as error:
            raise _unwrap_worker_error(error) from None
        if loaded is not None and len(loaded[2]):
            images, targets, ids = loaded
            images = images.to(device, non_blocking=True)
            targets = targets.to(device)
            for job in jobs:
                if shard not in wanted[job.key]:
                    continue
                logits = _predict(module, images, targets, job, seed=seed, first=batch[0])
                parts[job.key].append(
                    (logits.float().cpu().numpy(), targets.cpu().numpy(), ids.numpy())
                )
                stats.forwarded[job.key] = stats.forwarded.get(job.key, 0) + len(ids)
        done += len(batch)
        if progress:
            progress(task, done, total)
        if last:
            members = indices[slices[shard]]
            for job in jobs:
                if shard in wanted[job.key]:
                    job.entry.write_shard(shard, _assemble(parts[job.key], members))
                    parts[job.key] = []
            logger.debug("%s: shard %d written (%d images)", task, shard, len(members))
    del iterator
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _predict(module: Any, images: Any, targets: Any, job: PredictionJob, *, seed: int, first: int):
    import torch

    if job.attack is None:
        with torch.inference_mode():
            return module(images)
    _, logits = attack_batch(
        module, images, targets, job.attack, seed=batch_seed(seed, job.key, first)
    )
    return logits


def _assemble(parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], members: np.ndarray):
    if parts:
        logits = np.concatenate([p[0] for p in parts])
        targets = np.concatenate([p[1] for p in parts]).astype(np.int64)
        ids = np.concatenate([p[2] for p in parts]).astype(np.int64)
    else:
        logits = np.zeros((0, 0), dtype=np.float32)
        targets = ids = np.zeros(0, dtype=np.int64)
    skipped = np.setdiff1d(members, ids).astype(np.int64)
    return Shard(logits=logits, targets=targets, sample_ids=ids, skipped=skipped)


def load_predictions(
    entry: CacheEntry,
    num_shards: int,
    *,
    metadata: Mapping[str, np.ndarray] | None = None,
    need: PredictionNeed = "logits",
) -> Predictions:
    """Concatenate an entry's shards into :class:`Predictions`.

    ``metadata`` holds the dataset's per-image arrays (indexed by dataset index); each is
    picked at the predictions' sample ids. With ``need="top1"`` the shards are read one at a
    time and only each image's top-1 class (``logits.argmax(1)``, first maximum on ties; int16
    up to 32,767 classes) is kept: the result holds no logits, and no (N, C) array is ever
    built (the peak is one shard's logits). Raises DataError when a shard is missing.
    """
    if need not in NEED_ORDER:
        raise ValueError(f"Expected need to be one of {NEED_ORDER}, but got {need!r}")
    logits_parts, top1_parts, target_parts, id_parts = [], [], [], []
    num_skipped = 0
    width = 0
    for index in range(num_shards):
        shard = entry.read_shard(index)
        if shard is None:
            raise DataError(
                f"The prediction cache {entry.path} lacks shard {index}; rerun to compute it"
            )
        if shard.logits.size:
            width = max(width, shard.logits.shape[1])
        if need == "top1":
            top1_parts.append(top1_of(shard.logits) if shard.logits.size else None)
        else:
            logits_parts.append(shard.logits)
        target_parts.append(shard.targets)
        id_parts.append(shard.sample_ids)
        num_skipped += len(shard.skipped)
        del shard
    sample_ids = np.concatenate(id_parts).astype(np.int64) if id_parts else np.zeros(0, np.int64)
    targets = np.concatenate(target_parts).astype(np.int64) if id_parts else np.zeros(0, np.int64)
    meta = {name: np.asarray(values)[sample_ids] for name, values in (metadata or {}).items()}
    if need == "top1":
        dtype = top1_dtype(width)
        top1 = np.concatenate(
            [np.zeros(0, dtype) if t is None else t.astype(dtype) for t in top1_parts]
            or [np.zeros(0, dtype)]
        )
        return Predictions.top1_only(top1, targets, sample_ids, meta, num_skipped)
    logits = np.concatenate(
        [s if s.size else np.zeros((0, width), np.float32) for s in logits_parts]
        or [np.zeros((0, width), np.float32)]
    )
    return Predictions(
        logits=logits,
        targets=targets,
        sample_ids=sample_ids,
        meta=meta,
        num_skipped=num_skipped,
    )
