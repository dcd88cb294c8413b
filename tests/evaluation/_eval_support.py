"""Helpers of the evaluation tests (a module with a unique name, unlike conftest.py)."""

from __future__ import annotations

from pathlib import Path

import _eval_models

HERE = Path(__file__).parent
MODEL = f"python:{HERE / '_eval_models.py'}:colour_model"
TINY_SUITE = "imagenet-e2e"


def make_tree(root: Path, **changes):
    """A tiny tree of every dataset whose labels the colour model can read (see _eval_models)."""
    from quba.data.testing import make_imagenet_tree

    options = dict(
        classes=_eval_models.CLASSES,
        categories=_eval_models.CATEGORIES,
        object_classes=3,
        images_per_class=3,
    )
    options.update(changes)
    return make_imagenet_tree(root, **options)
