"""Datasets: on-disk layouts, label spaces, suites, verification and downloads.

The public names are imported lazily (``from quba.data import open_dataset``), so that importing
``quba.data.suites`` or ``quba.data.labels`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ImageDataset": "quba.data.dataset",
    "Sample": "quba.data.dataset",
    "collate": "quba.data.dataset",
    "open_dataset": "quba.data.dataset",
    "shard_ranges": "quba.data.dataset",
    "Problem": "quba.data.layouts",
    "LAYOUT_VERSION": "quba.data.layouts",
    "scan_dataset": "quba.data.layouts",
    "parse_cue_conflict_name": "quba.metrics.classification",
    "resolve_data_root": "quba.data.paths",
    "dataset_path": "quba.data.paths",
    "parse_path_overrides": "quba.data.paths",
    "DatasetReport": "quba.data.verify",
    "VerifyReport": "quba.data.verify",
    "verify": "quba.data.verify",
    "dataset_problems": "quba.data.verify",
    "require_datasets": "quba.data.verify",
    "Archive": "quba.data.download",
    "ARCHIVES": "quba.data.download",
    "download": "quba.data.download",
    "resolve_archives": "quba.data.download",
    "LabelSpace": "quba.data.labels",
    "imagenet_label_space": "quba.data.labels",
    "Suite": "quba.data.suites",
    "DatasetInfo": "quba.data.suites",
    "get_suite": "quba.data.suites",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quba.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
