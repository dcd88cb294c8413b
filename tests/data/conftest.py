"""Tiny dataset trees in the real layouts, shared by the data tests."""

from __future__ import annotations

import pytest

from quba.data.testing import TinyTree, make_imagenet_tree


@pytest.fixture(scope="session")
def tiny_tree(tmp_path_factory) -> TinyTree:
    """All ten datasets, wnid-folder ImageNet val; read-only: tests must not modify it."""
    return make_imagenet_tree(tmp_path_factory.mktemp("tiny"), classes=[5, 281, 999])
