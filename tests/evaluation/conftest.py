"""Shared fixtures of the evaluation tests: a tiny data tree in the real layouts and a model."""

from __future__ import annotations

import dataclasses

import pytest
from _eval_support import TINY_SUITE, make_tree


@pytest.fixture(scope="session")
def tree(tmp_path_factory):
    """Every dataset of the ImageNet suite, tiny; its suite is registered as ``imagenet-e2e``
    (complete by its own counts) so the CLI can name it with --suite."""
    from quba.data.suites import _SUITES, register_suite

    made = make_tree(tmp_path_factory.mktemp("data"))
    register_suite(dataclasses.replace(made.suite, name=TINY_SUITE))
    yield made
    _SUITES.pop(TINY_SUITE, None)


@pytest.fixture()
def places(tmp_path):
    """A fresh store and prediction cache."""
    return {"store": tmp_path / "results.sqlite", "cache_dir": tmp_path / "cache"}
