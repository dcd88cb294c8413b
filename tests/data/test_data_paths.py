"""The data root and per-dataset locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from quba.data.paths import dataset_path, parse_path_overrides, resolve_data_root
from quba.data.suites import IMAGENET_SUITE
from quba.errors import ConfigError


def test_root_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.delenv("QUBA_DATA", raising=False)
    assert resolve_data_root() == Path.home() / ".cache/quba/data"
    monkeypatch.setenv("QUBA_DATA", str(tmp_path / "env"))
    assert resolve_data_root() == tmp_path / "env"
    assert resolve_data_root(tmp_path / "arg") == tmp_path / "arg"


def test_dataset_path_override_order(monkeypatch, tmp_path):
    monkeypatch.delenv("QUBA_DATA_IMAGENET_VAL", raising=False)
    assert dataset_path(IMAGENET_SUITE, "imagenet_val", tmp_path) == tmp_path / "imagenet/val"
    monkeypatch.setenv("QUBA_DATA_IMAGENET_VAL", "/data/ilsvrc/val")
    assert dataset_path(IMAGENET_SUITE, "imagenet_val", tmp_path) == Path("/data/ilsvrc/val")
    assert dataset_path(IMAGENET_SUITE, "imagenet_val", tmp_path, "/x") == Path("/x")
    with pytest.raises(ConfigError, match="Unknown dataset 'imagenet_train'"):
        dataset_path(IMAGENET_SUITE, "imagenet_train", tmp_path)


def test_parse_path_overrides():
    assert parse_path_overrides(["edge=/a/b", "sketch = /c"], IMAGENET_SUITE) == {
        "edge": Path("/a/b"),
        "sketch": Path("/c"),
    }
    with pytest.raises(ConfigError, match="Expected --path KEY=DIR"):
        parse_path_overrides(["edge"])
    with pytest.raises(ConfigError, match="Unknown dataset 'edges'"):
        parse_path_overrides(["edges=/a"], IMAGENET_SUITE)
