"""The embedded synthetic benchmark: a procedural world, its datasets, and a tiny model zoo.

Importing this package registers the ``synthetic`` suite (size ``small``) and
``synthetic-medium`` with :func:`quba.data.suites.register_suite`.

- :mod:`quba.synthetic.world`: classes defined by shape, texture and background; rendering.
- :mod:`quba.synthetic.corruptions`: the 15 ImageNet-C corruptions for small images.
- :mod:`quba.synthetic.generate`: writes every dataset in the real datasets' layouts.
- :mod:`quba.synthetic.suite`: the label space and the suite.
- :mod:`quba.synthetic.zoo`: tiny models with different habits, their training and weights.
"""

from __future__ import annotations

from quba.data.suites import register_suite
from quba.synthetic.generate import Manifest, generate, load_train_scenes, read_manifest
from quba.synthetic.suite import (
    CLASS_IDS,
    SIZES,
    SizeSpec,
    dataset_infos,
    make_suite,
    synthetic_label_space,
    train_info,
)

SYNTHETIC_SUITE = register_suite(make_suite("small"))
SYNTHETIC_MEDIUM_SUITE = register_suite(make_suite("medium"))

__all__ = [
    "CLASS_IDS",
    "SIZES",
    "SYNTHETIC_MEDIUM_SUITE",
    "SYNTHETIC_SUITE",
    "Manifest",
    "SizeSpec",
    "dataset_infos",
    "generate",
    "load_train_scenes",
    "make_suite",
    "read_manifest",
    "synthetic_label_space",
    "train_info",
]
