"""Local checkpoints: a state dict file loaded into any architecture."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from torch import nn

from quba.errors import ModelError

logger = logging.getLogger(__name__)

_WRAPPER_KEYS = ("state_dict", "model")
_SHOWN = 10


def read_state_dict(path: Path) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)`` and return its state dict.

    Accepted layouts: a state dict; a dict holding one under ``state_dict`` or ``model``. A
    ``module.`` prefix (left by ``DataParallel``/``DistributedDataParallel``) is stripped.
    """
    import torch

    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling errors have many types; all mean the same here
        raise ModelError(
            f"Cannot read checkpoint {path}: {type(error).__name__}: {error}",
            hint="quba loads checkpoints with torch.load(weights_only=True): save a state dict "
            "(torch.save(model.state_dict(), path)), not a pickled module.",
        ) from None
    if isinstance(content, Mapping):
        for key in _WRAPPER_KEYS:
            if isinstance(content.get(key), Mapping):
                content = content[key]
                break
    if not isinstance(content, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in content.values()
    ):
        raise ModelError(
            f"Expected checkpoint {path} to hold a state dict (names -> tensors), or a dict "
            f"with one under {' or '.join(repr(k) for k in _WRAPPER_KEYS)}, but got "
            f"{type(content).__name__}"
            + (f" with keys {sorted(content)[:_SHOWN]}" if isinstance(content, Mapping) else "")
        )
    return {_strip(key): value for key, value in content.items()}


def load_checkpoint(network: nn.Module, path: Path, spec: str) -> None:
    """Load the state dict in ``path`` into ``network``; every key must match in name and shape.

    Raises:
        ModelError: missing or unexpected keys (listed), or tensors of the wrong shape.
    """
    state = read_state_dict(path)
    expected = network.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [
        f"{k} (checkpoint {tuple(state[k].shape)}, model {tuple(expected[k].shape)})"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or wrong_shape:
        parts = []
        for label, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("wrong shape", wrong_shape),
        ):
            if keys:
                more = f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else ""
                parts.append(f"{len(keys)} {label}: {', '.join(keys[:_SHOWN])}{more}")
        raise ModelError(
            f"Checkpoint {path} does not fit the architecture of {spec}: " + "; ".join(parts),
            hint="Name the architecture the checkpoint was trained with, and save "
            "model.state_dict() of that architecture.",
        )
    network.load_state_dict(state, strict=True)
    logger.info("loaded checkpoint %s into %s", path, spec)


def _strip(key: str) -> str:
    return key[len("module.") :] if key.startswith("module.") else key
