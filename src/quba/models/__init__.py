"""Classifiers: model specs, adapters with normalization inside, preprocessing, the paper's zoo.

>>> from quba.models import create_classifier
>>> classifier = create_classifier("torchvision:resnet18", pretrained=False)  # doctest: +SKIP
>>> logits = classifier.module(images)  # float (N, 3, 224, 224) in [0, 1] -> (N, 1000)

Sources (``list_sources()``): ``timm``, ``torchvision``, ``open_clip``, ``python``, ``zoo``.
Names are imported lazily, so that ``import quba.models.preprocessing`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Classifier": "quba.models._classifier",
    "Normalized": "quba.models._classifier",
    "count_parameters": "quba.models._classifier",
    "BuildOptions": "quba.models._registry",
    "ModelSource": "quba.models._registry",
    "create_classifier": "quba.models._registry",
    "get_source": "quba.models._registry",
    "list_sources": "quba.models._registry",
    "register_source": "quba.models._registry",
    "ModelSpec": "quba.models._spec",
    "parse_model_spec": "quba.models._spec",
    "short_model_name": "quba.models._spec",
    "Preprocessing": "quba.models.preprocessing",
    "GROUPS": "quba.models.zoo",
    "ZooEntry": "quba.models.zoo",
    "find_zoo_entry": "quba.models.zoo",
    "get_zoo_entry": "quba.models.zoo",
    "list_zoo": "quba.models.zoo",
    "zoo_metadata": "quba.models.zoo",
}

__all__ = [
    "GROUPS",
    "BuildOptions",
    "Classifier",
    "ModelSource",
    "ModelSpec",
    "Normalized",
    "Preprocessing",
    "ZooEntry",
    "count_parameters",
    "create_classifier",
    "find_zoo_entry",
    "get_source",
    "get_zoo_entry",
    "list_sources",
    "list_zoo",
    "parse_model_spec",
    "register_source",
    "short_model_name",
    "zoo_metadata",
]

if TYPE_CHECKING:
    from quba.models._classifier import Classifier, Normalized, count_parameters
    from quba.models._registry import (
        BuildOptions,
        ModelSource,
        create_classifier,
        get_source,
        list_sources,
        register_source,
    )
    from quba.models._spec import ModelSpec, parse_model_spec, short_model_name
    from quba.models.preprocessing import Preprocessing
    from quba.models.zoo import (
        GROUPS,
        ZooEntry,
        find_zoo_entry,
        get_zoo_entry,
        list_zoo,
        zoo_metadata,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'quba.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
