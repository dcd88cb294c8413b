"""Write the synthetic suite to disk, in the on-disk layouts of the real datasets.

``generate(root)`` writes, under ``root``:

- ``imagenet/train/<class id>/train_NNNNN.png`` and ``scenes.npz``: training images, their scenes;
- ``imagenet/val/<class id>/val_NNNNN.JPEG``: clean validation images;
- ``imagenet-c/<corruption>/<severity>/<class id>/val_NNNNN.JPEG``: the same images corrupted;
- ``imagenet-r/<class id>/r_NNNNN.jpg``: cartoon renditions of the rendition classes;
- ``modelvshuman/cue-conflict/<shape>/<shape><n>-<texture><m>.png``: cue-conflict images;
- ``modelvshuman/<edge or silhouette>/<category>/<category><n>.png``;
- ``modelvshuman/<sketch or stylized>/dnn/session-1/`` files named
  ``NNNN_<sk or st>_dnn_0_<category>_00_<category><n>.png``;
- ``bg_challenge/<mixed_same or mixed_rand>/val/<NN_name>/NNNNN.JPEG``: Backgrounds Challenge;
- ``synthetic.json``: the manifest (schema version, size, seed, image counts).

Everything is a function of ``(size, seed)``: each part draws from its own
``numpy.random.default_rng([seed, part])``, so the files are identical on every run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from quba.data.suites import CORRUPTIONS, SEVERITIES
from quba.errors import ConfigError, DataError
from quba.synthetic.corruptions import corrupt
from quba.synthetic.suite import (
    CLASS_IDS,
    RENDITION_CLASSES,
    SIZES,
    Size,
    SizeSpec,
    synthetic_label_space,
)
from quba.synthetic.world import (
    NEUTRAL,
    NUM_CLASSES,
    SHAPES,
    Scenes,
    balanced_classes,
    render,
    render_styled,
    sample_scenes,
)

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST = "synthetic.json"
JPEG_QUALITY = 90

# The index of each part in the seed sequence; never reorder (it would change every file).
_PARTS = {
    "train": 1,
    "val": 2,
    "imagenet_r": 3,
    "cue_conflict": 4,
    "edge": 5,
    "silhouette": 6,
    "sketch": 7,
    "stylized": 8,
    "mixed": 9,
}


@dataclass(frozen=True)
class Manifest:
    """What :func:`generate` wrote: size, seed, image counts and the seconds it took."""

    size: str
    seed: int
    counts: dict[str, int]
    seconds: float
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "schema_version": self.schema_version,
                "suite": "synthetic",
                "size": self.size,
                "seed": self.seed,
                "counts": self.counts,
                "seconds": round(self.seconds, 2),
            },
            indent=2,
        )


def read_manifest(root: Path) -> Manifest | None:
    """The manifest under ``root``, or ``None`` when there is none."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(
            f"{path}: cannot read the synthetic suite's manifest ({error})",
            hint="Generate the suite again with `quba synthetic generate --force`.",
        ) from error
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        version = data.get("schema_version") if isinstance(data, dict) else None
        raise DataError(
            f"{path} has schema version {version!r}; this quba writes and "
            f"reads version {SCHEMA_VERSION}",
            hint="Generate the suite again with `quba synthetic generate --force`.",
        )
    try:
        return Manifest(data["size"], int(data["seed"]), dict(data["counts"]), data["seconds"])
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"{path}: expected the fields size, seed, counts and seconds, got {sorted(data)}",
            hint="Generate the suite again with `quba synthetic generate --force`.",
        ) from error


def generate(
    root: str | Path, size: Size | SizeSpec = "small", seed: int = 0, *, force: bool = False
) -> Manifest:
    """Generate the synthetic suite under ``root`` (or reuse an identical one already there).

    ``size`` is ``"small"``, ``"medium"`` or a :class:`SizeSpec` of one's own (recorded as size
    ``"custom"``; used by tests). Raises :class:`DataError` when ``root`` holds something else
    (another size or seed, or files without a manifest) unless ``force`` is set, in which case
    files are overwritten.
    """
    if isinstance(size, SizeSpec):
        spec, size_name = size, "custom"
    elif size in SIZES:
        spec, size_name = SIZES[size], str(size)
    else:
        raise ConfigError(f"Expected --size to be one of {', '.join(SIZES)}, but got {size!r}")
    root = Path(root)
    existing = read_manifest(root)
    if existing is not None and not force:
        if (existing.size, existing.seed) == (size_name, seed) and size_name != "custom":
            logger.info("Reusing the synthetic suite under %s", root)
            return existing
        raise DataError(
            f"{root} holds a synthetic suite of size {existing.size!r} and seed {existing.seed}, "
            f"not size {size_name!r} and seed {seed}",
            hint="Choose another --root, or pass --force to overwrite it.",
        )
    if existing is None and root.is_dir() and any(root.iterdir()) and not force:
        raise DataError(
            f"{root} is not empty and holds no {MANIFEST}; refusing to write the synthetic suite "
            "into it",
            hint="Choose an empty or new --root, or pass --force.",
        )

    start = time.perf_counter()
    counts: dict[str, int] = {}

    def rng(part: str) -> np.random.Generator:
        return np.random.default_rng([seed, _PARTS[part]])

    counts["train"] = _write_train(root, rng("train"), spec.train_per_class)
    counts["imagenet_val"], counts["imagenet_c"] = _write_val_and_c(
        root, rng("val"), spec.val_per_class, spec.corrupted, seed
    )
    counts["imagenet_r"] = _write_renditions(root, rng("imagenet_r"), spec.rendition_per_class)
    counts["cue_conflict"] = _write_cue_conflict(
        root, rng("cue_conflict"), spec.cue_conflict_per_pair, spec.cue_conflict_same
    )
    for name in ("edge", "silhouette"):
        counts[name] = _write_category_style(root, rng(name), spec.edge_per_class, name)
    counts["sketch"] = _write_sessions(root, rng("sketch"), spec.session_per_class, "sketch")
    counts["stylized"] = _write_sessions(root, rng("stylized"), spec.session_per_class, "stylized")
    counts["mixed_same"], counts["mixed_rand"] = _write_backgrounds(
        root, rng("mixed"), spec.mixed_per_class
    )

    expected = spec.counts()
    if counts != expected:
        raise RuntimeError(f"generator wrote {counts}, but the suite declares {expected}")
    manifest = Manifest(size_name, seed, counts, time.perf_counter() - start)
    (root / MANIFEST).write_text(manifest.to_json())
    logger.info("Generated the synthetic suite under %s in %.1f s", root, manifest.seconds)
    return manifest


# ----------------------------------------------------------------------------- writers


def _save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(image)
    if path.suffix.lower() in (".jpeg", ".jpg"):
        pil.save(path, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    else:
        pil.save(path, "PNG")


def _write_classes(folder: Path, images: np.ndarray, classes: np.ndarray, name: Callable) -> None:
    for i, (image, k) in enumerate(zip(images, classes, strict=True)):
        _save(folder / CLASS_IDS[k] / name(i), image)


def load_train_scenes(root: str | Path) -> tuple[Scenes, list[Path]]:
    """The training split's scene table and its image files (in the same order)."""
    folder = Path(root) / "imagenet" / "train"
    path = folder / "scenes.npz"
    if not path.is_file():
        raise DataError(
            f"Expected the synthetic training split at {folder} (with scenes.npz), found none",
            hint="Run `quba synthetic generate --root DIR` first.",
        )
    with np.load(path) as data:
        scenes = Scenes.from_arrays(dict(data))
    files = [folder / CLASS_IDS[k] / f"train_{i:05d}.png" for i, k in enumerate(scenes.shape)]
    return scenes, files


def _write_train(root: Path, rng: np.random.Generator, per_class: int) -> int:
    scenes = sample_scenes(rng, balanced_classes(per_class))
    folder = root / "imagenet" / "train"
    _write_classes(folder, render(scenes), scenes.shape, lambda i: f"train_{i:05d}.png")
    np.savez_compressed(folder / "scenes.npz", **scenes.to_arrays())
    return len(scenes)


def _write_val_and_c(
    root: Path, rng: np.random.Generator, per_class: int, corrupted_per_class: int, seed: int
) -> tuple[int, int]:
    scenes = sample_scenes(rng, balanced_classes(per_class))
    images = render(scenes)
    name = lambda i: f"val_{i:05d}.JPEG"  # noqa: E731
    _write_classes(root / "imagenet" / "val", images, scenes.shape, name)

    # ImageNet-C corrupts the first `corrupted_per_class` images of each class, keeping their
    # validation file names, so a corrupted file is matched to its clean original by name.
    rank = np.zeros(len(scenes.shape), dtype=np.int64)
    for k in np.unique(scenes.shape):
        members = np.flatnonzero(scenes.shape == k)
        rank[members] = np.arange(len(members))
    chosen = np.flatnonzero(rank < corrupted_per_class)
    images, classes = images[chosen], scenes.shape[chosen]
    name = lambda i: f"val_{chosen[i]:05d}.JPEG"  # noqa: E731
    written = 0
    for c, corruption in enumerate(CORRUPTIONS):
        for severity in SEVERITIES:
            corrupted = corrupt(
                images, corruption, severity, np.random.default_rng([seed, 100 + c, severity])
            )
            folder = root / "imagenet-c" / corruption / str(severity)
            _write_classes(folder, corrupted, classes, name)
            written += len(corrupted)
    return len(scenes.shape), written


def _write_renditions(root: Path, rng: np.random.Generator, per_class: int) -> int:
    classes = np.repeat(np.array(RENDITION_CLASSES, dtype=np.int64), per_class)
    scenes = sample_scenes(rng, classes)
    images = render(scenes, style="cartoon")
    _write_classes(root / "imagenet-r", images, classes, lambda i: f"r_{i:05d}.jpg")
    return len(images)


def _write_cue_conflict(root: Path, rng: np.random.Generator, per_pair: int, same: int) -> int:
    pairs = [(a, b) for a in range(NUM_CLASSES) for b in range(NUM_CLASSES) if a != b]
    shape = np.array(
        [a for a, _ in pairs for _ in range(per_pair)]
        + [a for a in range(NUM_CLASSES) for _ in range(same)],
        dtype=np.int64,
    )
    texture = np.array(
        [b for _, b in pairs for _ in range(per_pair)]
        + [a for a in range(NUM_CLASSES) for _ in range(same)],
        dtype=np.int64,
    )
    scenes = sample_scenes(rng, shape).with_(
        texture=texture, background=np.full(len(shape), NEUTRAL)
    )
    images = render(scenes)
    counter = np.zeros(NUM_CLASSES, dtype=np.int64)
    folder = root / "modelvshuman" / "cue-conflict"
    for image, a, b in zip(images, shape, texture, strict=True):
        counter[a] += 1
        repeat = counter[a] % max(per_pair, 1) + 1
        _save(folder / SHAPES[a] / f"{SHAPES[a]}{counter[a]}-{SHAPES[b]}{repeat}.png", image)
    return len(images)


def _write_category_style(
    root: Path, rng: np.random.Generator, per_class: int, style: Literal["edge", "silhouette"]
) -> int:
    scenes = sample_scenes(rng, balanced_classes(per_class))
    images = render(scenes, style=style)
    folder = root / "modelvshuman" / style
    for i, (image, k) in enumerate(zip(images, scenes.shape, strict=True)):
        _save(folder / SHAPES[k] / f"{SHAPES[k]}{i + 1}.png", image)
    return len(images)


def _write_sessions(root: Path, rng: np.random.Generator, per_class: int, kind: str) -> int:
    scenes = sample_scenes(rng, balanced_classes(per_class))
    if kind == "sketch":
        images = render(scenes, style="sketch")
        tag = "sk"
    else:
        # A foreign style: another class's pattern in random colours, on a neutral background;
        # only the shape still tells the class.
        n = len(scenes)
        texture = (scenes.shape + rng.integers(1, NUM_CLASSES, n)) % NUM_CLASSES
        scenes = scenes.with_(texture=texture, background=np.full(n, NEUTRAL))
        images = render_styled(scenes, rng.uniform(0.0, 1.0, (n, 2, 3)))
        tag = "st"
    folder = root / "modelvshuman" / kind / "dnn" / "session-1"
    for i, (image, k) in enumerate(zip(images, scenes.shape, strict=True)):
        name = SHAPES[k]
        _save(folder / f"{i + 1:04d}_{tag}_dnn_0_{name}_00_{name}{i + 1}.png", image)
    return len(images)


def _write_backgrounds(root: Path, rng: np.random.Generator, per_class: int) -> tuple[int, int]:
    classes = balanced_classes(per_class)
    n = len(classes)
    objects = sample_scenes(rng, classes)
    same = sample_scenes(rng, classes)  # a background of another image of the same class
    other = (classes + rng.integers(1, NUM_CLASSES, n)) % NUM_CLASSES
    rand = sample_scenes(rng, other)  # a background of an image of another class
    folders = synthetic_label_space().object_class_folders
    for variant, donor in (("mixed_same", same), ("mixed_rand", rand)):
        scenes = objects.with_(
            background=donor.background, bg_jitter=donor.bg_jitter, bg_phase=donor.bg_phase
        )
        folder = root / "bg_challenge" / variant / "val"
        for i, (image, k) in enumerate(zip(render(scenes), classes, strict=True)):
            _save(folder / folders[k] / f"{i:05d}.JPEG", image)
    return n, n
