"""Where the data lies: the data root and the location of each dataset under it.

The data root is, in this order: the ``root`` argument (``--root`` on the command line), the
environment variable ``QUBA_DATA``, or ``~/.cache/quba/data``. A single dataset may live
elsewhere: an explicit ``path``, else the environment variable ``QUBA_DATA_<KEY>`` (for example
``QUBA_DATA_IMAGENET_VAL=/datasets/ilsvrc/val``), else ``<root>/<DatasetInfo.path>``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from quba.data.suites import Suite
from quba.errors import ConfigError

logger = logging.getLogger(__name__)

DATA_ROOT_ENV = "QUBA_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/quba/data")


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``root`` if given, else ``$QUBA_DATA``, else ``~/.cache/quba/data``."""
    if root is not None and str(root) != "":
        chosen = Path(root)
    elif os.environ.get(DATA_ROOT_ENV):
        chosen = Path(os.environ[DATA_ROOT_ENV])
    else:
        chosen = DEFAULT_DATA_ROOT
    return chosen.expanduser()


def dataset_env_var(key: str) -> str:
    """The environment variable that overrides one dataset's location: ``QUBA_DATA_<KEY>``."""
    return f"{DATA_ROOT_ENV}_{key.upper().replace(':', '_').replace('-', '_')}"


def dataset_path(
    suite: Suite,
    key: str,
    root: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """The folder of dataset ``key``: ``path``, else ``$QUBA_DATA_<KEY>``, else under the root."""
    info = suite.dataset(key)
    if path is not None:
        return Path(path).expanduser()
    override = os.environ.get(dataset_env_var(key))
    if override:
        logger.debug("%s: location from $%s = %s", key, dataset_env_var(key), override)
        return Path(override).expanduser()
    return resolve_data_root(root) / info.path


def parse_path_overrides(items: Iterable[str], suite: Suite | None = None) -> dict[str, Path]:
    """Parse ``KEY=DIR`` strings (the ``--path`` option) into a mapping of dataset key to folder.

    With ``suite`` given, every key must be one of its datasets.
    """
    overrides: dict[str, Path] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ConfigError(
                f"Expected --path KEY=DIR (for example imagenet_val=/data/val), got {item!r}"
            )
        if suite is not None:
            suite.dataset(key)
        overrides[key] = Path(value).expanduser()
    return overrides
