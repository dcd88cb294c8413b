"""The ``synthetic`` suite: the label space and datasets of the embedded benchmark.

The datasets have the same keys, relative paths and layouts as the ImageNet suite, so the same
readers and metrics run on them. The counterparts of the label mappings:

- classes: ``s00_disc`` … ``s07_crescent`` (folder ids, in output-index order);
- categories (the 16 model-vs-human categories): one per class, named by its shape (``disc``);
- object classes (ImageNet-9): one per class, folders ``00_disc`` … ``07_crescent``;
- rendition classes (ImageNet-R's 200): six of the eight classes (a strict subset, so the
  masked argmax matters).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from quba.data.labels import LabelSpace
from quba.data.suites import CORRUPTIONS, DatasetInfo, Suite
from quba.synthetic.world import NUM_CLASSES, SHAPES

SUITE_NAME = "synthetic"
LABEL_SPACE_NAME = "synthetic"

CLASS_IDS: tuple[str, ...] = tuple(f"s{k:02d}_{name}" for k, name in enumerate(SHAPES))
RENDITION_CLASSES: tuple[int, ...] = (0, 1, 3, 4, 6, 7)

Size = Literal["small", "medium"]


@dataclass(frozen=True)
class SizeSpec:
    """How many images the generator writes for one size of the synthetic suite.

    ``*_per_class`` counts are per class (or per category); ``cue_conflict_per_pair`` per
    ordered (shape, texture) pair with shape != texture, plus ``cue_conflict_same`` images per
    class whose shape equals their texture (the protocol skips those). ``corrupted_per_class``
    validation images of each class (all of them when ``None``) are corrupted for ImageNet-C:
    the 75 corruption x severity copies dominate the demo's compute, and 80 images per group
    already give the corruption ratios a tight interval.
    """

    train_per_class: int
    val_per_class: int
    rendition_per_class: int
    edge_per_class: int
    session_per_class: int
    cue_conflict_per_pair: int
    cue_conflict_same: int
    mixed_per_class: int
    corrupted_per_class: int | None = None

    @property
    def corrupted(self) -> int:
        """Validation images per class that ImageNet-C corrupts."""
        if self.corrupted_per_class is None:
            return self.val_per_class
        return min(self.corrupted_per_class, self.val_per_class)

    def counts(self) -> dict[str, int]:
        """Number of images of each dataset key (and ``train``)."""
        k = NUM_CLASSES
        per_corruption = self.corrupted * k
        return {
            "train": self.train_per_class * k,
            "imagenet_val": self.val_per_class * k,
            "imagenet_c": per_corruption * len(CORRUPTIONS) * 5,
            "imagenet_r": self.rendition_per_class * len(RENDITION_CLASSES),
            "cue_conflict": self.cue_conflict_per_pair * k * (k - 1) + self.cue_conflict_same * k,
            "edge": self.edge_per_class * k,
            "silhouette": self.edge_per_class * k,
            "sketch": self.session_per_class * k,
            "stylized": self.session_per_class * k,
            "mixed_same": self.mixed_per_class * k,
            "mixed_rand": self.mixed_per_class * k,
        }


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(
        train_per_class=300,
        val_per_class=40,
        rendition_per_class=25,
        edge_per_class=10,
        session_per_class=25,
        cue_conflict_per_pair=3,
        cue_conflict_same=1,
        mixed_per_class=40,
        corrupted_per_class=10,
    ),
    "medium": SizeSpec(
        train_per_class=600,
        val_per_class=100,
        rendition_per_class=60,
        edge_per_class=25,
        session_per_class=60,
        cue_conflict_per_pair=8,
        cue_conflict_same=2,
        mixed_per_class=100,
    ),
}


@functools.cache
def synthetic_label_space() -> LabelSpace:
    """The label space of the synthetic suite (see the module docstring)."""
    return LabelSpace(
        name=LABEL_SPACE_NAME,
        classes=CLASS_IDS,
        categories={name: (k,) for k, name in enumerate(SHAPES)},
        object_classes={name: (k,) for k, name in enumerate(SHAPES)},
        rendition_classes=RENDITION_CLASSES,
    )


def dataset_infos(size: Size = "small") -> dict[str, DatasetInfo]:
    """The evaluation datasets of the synthetic suite, with the ImageNet suite's keys and paths."""
    n = SIZES[size].counts()
    mvh = "modelvshuman"
    entries = [
        DatasetInfo(
            "imagenet_val",
            "imagenet/val",
            "class_folders",
            n["imagenet_val"],
            "class",
            "synthetic validation images",
        ),
        DatasetInfo(
            "imagenet_c",
            "imagenet-c",
            "corruptions",
            n["imagenet_c"],
            "class",
            "synthetic validation images, 15 corruptions x 5 severities",
        ),
        DatasetInfo(
            "imagenet_r",
            "imagenet-r",
            "class_folders",
            n["imagenet_r"],
            "class",
            "cartoon renditions of the rendition classes",
        ),
        DatasetInfo(
            "cue_conflict",
            f"{mvh}/cue-conflict",
            "category_folders",
            n["cue_conflict"],
            "category",
            "shape of one class, texture of another",
        ),
        DatasetInfo(
            "edge", f"{mvh}/edge", "category_folders", n["edge"], "category", "object outlines"
        ),
        DatasetInfo(
            "silhouette",
            f"{mvh}/silhouette",
            "category_folders",
            n["silhouette"],
            "category",
            "filled black shapes",
        ),
        DatasetInfo(
            "sketch", f"{mvh}/sketch", "session_files", n["sketch"], "category", "pencil sketches"
        ),
        DatasetInfo(
            "stylized",
            f"{mvh}/stylized",
            "session_files",
            n["stylized"],
            "category",
            "objects re-textured with a foreign style",
        ),
        DatasetInfo(
            "mixed_same",
            "bg_challenge/mixed_same/val",
            "object_folders",
            n["mixed_same"],
            "object_class",
            "object on a background of its own class",
        ),
        DatasetInfo(
            "mixed_rand",
            "bg_challenge/mixed_rand/val",
            "object_folders",
            n["mixed_rand"],
            "object_class",
            "object on a background of another class",
        ),
    ]
    return {d.key: d for d in entries}


def train_info(size: Size = "small") -> DatasetInfo:
    """The training split (not an evaluation dataset): ``imagenet/train/<class id>/<file>.png``.

    Beside the images lies ``scenes.npz``, the scene table they were rendered from (the
    randomised training of the tiny zoo re-renders it with swapped textures or backgrounds).
    """
    return DatasetInfo(
        "train",
        "imagenet/train",
        "class_folders",
        SIZES[size].counts()["train"],
        "class",
        "synthetic training images",
    )


def make_suite(size: Size = "small") -> Suite:
    """The suite for one generator size (``synthetic`` is ``small``)."""
    name = SUITE_NAME if size == "small" else f"{SUITE_NAME}-{size}"
    return Suite(
        name=name,
        label_space_factory=synthetic_label_space,
        datasets=dataset_infos(size),
        description=f"The embedded synthetic benchmark ({size}); see `quba synthetic generate`",
    )
