"""Suites: the datasets and the label space that one benchmark needs, as data.

A suite names each dataset by a key (used in the prediction cache, the store and the CLI), says
where it lies under a data root and in which layout, and how many images the full dataset has.
The ImageNet suite is the real benchmark; the synthetic suite (``quba.synthetic``) describes the
embedded benchmark with its own label space. New suites are registered, never special-cased.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from quba.data.labels import LabelSpace, imagenet_label_space
from quba.errors import ConfigError

Layout = Literal[
    "class_folders",  # <class id>/<file>            (ImageNet val, ImageNet-R)
    "imagenet_flat",  # flat files + label file      (ImageNet val, as distributed)
    "corruptions",  # <corruption>/<severity>/<class id>/<file>   (ImageNet-C)
    "category_folders",  # <category>/<file>         (cue-conflict, edge, silhouette)
    "session_files",  # dnn/session-1/<a>_<b>_<c>_<cond>_<category>_<rest>.png (sketch, stylized)
    "object_folders",  # <NN_name>/<file>            (Backgrounds Challenge)
]

CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
EXTRA_CORRUPTIONS: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "saturate")
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset lies under the data root, its layout and its full size."""

    key: str
    path: str
    layout: Layout
    num_images: int
    label_kind: Literal["class", "category", "object_class"]
    description: str = ""


@dataclass(frozen=True)
class Suite:
    """The datasets of one benchmark and the label space its classifiers predict in."""

    name: str
    label_space_factory: Callable[[], LabelSpace] = field(repr=False)
    datasets: Mapping[str, DatasetInfo]
    corruptions: tuple[str, ...] = CORRUPTIONS
    severities: tuple[int, ...] = SEVERITIES
    description: str = ""

    @property
    def label_space(self) -> LabelSpace:
        return self.label_space_factory()

    def dataset(self, key: str) -> DatasetInfo:
        try:
            return self.datasets[key]
        except KeyError:
            raise ConfigError(
                f"Unknown dataset {key!r} in suite {self.name!r}; "
                f"expected one of {', '.join(self.datasets)}"
            ) from None


def _imagenet_datasets() -> dict[str, DatasetInfo]:
    mvh = "modelvshuman"
    entries = [
        DatasetInfo(
            "imagenet_val",
            "imagenet/val",
            "class_folders",
            50_000,
            "class",
            "ImageNet-1k validation set",
        ),
        DatasetInfo(
            "imagenet_c",
            "imagenet-c",
            "corruptions",
            50_000 * 15 * 5,
            "class",
            "ImageNet-C, 15 corruptions x 5 severities",
        ),
        DatasetInfo(
            "imagenet_r",
            "imagenet-r",
            "class_folders",
            30_000,
            "class",
            "ImageNet-R renditions of 200 classes",
        ),
        DatasetInfo(
            "cue_conflict",
            f"{mvh}/cue-conflict",
            "category_folders",
            1_280,
            "category",
            "cue-conflict: shape of one category, texture of another",
        ),
        DatasetInfo("edge", f"{mvh}/edge", "category_folders", 160, "category", "edge maps"),
        DatasetInfo(
            "silhouette", f"{mvh}/silhouette", "category_folders", 160, "category", "silhouettes"
        ),
        DatasetInfo("sketch", f"{mvh}/sketch", "session_files", 800, "category", "sketches"),
        DatasetInfo(
            "stylized",
            f"{mvh}/stylized",
            "session_files",
            800,
            "category",
            "style-transferred images",
        ),
        DatasetInfo(
            "mixed_same",
            "bg_challenge/mixed_same/val",
            "object_folders",
            4_050,
            "object_class",
            "Backgrounds Challenge: background of the same class",
        ),
        DatasetInfo(
            "mixed_rand",
            "bg_challenge/mixed_rand/val",
            "object_folders",
            4_050,
            "object_class",
            "Backgrounds Challenge: background of a random class",
        ),
    ]
    return {d.key: d for d in entries}


_SUITES: dict[str, Suite] = {}

# Suites registered by importing a module on first use, so that ``quba.data`` does not import
# numpy-heavy generators: suite name -> module whose import registers it.
_LAZY_SUITES: dict[str, str] = {
    "synthetic": "quba.synthetic",
    "synthetic-medium": "quba.synthetic",
}


def register_suite(suite: Suite) -> Suite:
    """Register a suite under its name; registering a name twice is an error."""
    if suite.name in _SUITES:
        raise ValueError(f"A suite named {suite.name!r} is already registered")
    _SUITES[suite.name] = suite
    return suite


def get_suite(name: str) -> Suite:
    """The suite registered as ``name`` (importing the module of a lazily registered one)."""
    if name not in _SUITES and name in _LAZY_SUITES:
        importlib.import_module(_LAZY_SUITES[name])
    try:
        return _SUITES[name]
    except KeyError:
        raise ConfigError(
            f"Unknown suite {name!r}; expected one of {', '.join(list_suites())}"
        ) from None


def list_suites() -> list[str]:
    return sorted({*_SUITES, *_LAZY_SUITES})


IMAGENET_SUITE = register_suite(
    Suite(
        name="imagenet",
        label_space_factory=imagenet_label_space,
        datasets=_imagenet_datasets(),
        description="The QUBA benchmark on ImageNet and its published derivatives",
    )
)
