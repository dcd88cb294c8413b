"""The compute device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""

from __future__ import annotations

import logging
import re

from quba.errors import ConfigError

logger = logging.getLogger(__name__)

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(name: str = "auto"):
    """The ``torch.device`` for ``name``; ``auto`` picks CUDA, then MPS, then the CPU.

    Raises :class:`~quba.errors.ConfigError` for an unknown name or a device that is not there
    (``cuda`` without a GPU, ``cuda:3`` on a machine with two, ``mps`` off Apple silicon).
    """
    import torch

    text = str(name).strip().lower()
    if not _PATTERN.match(text):
        raise ConfigError(
            f"Expected --device to be auto, cpu, cuda, cuda:N or mps, but got {name!r}"
        )
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"Device {name!r} was asked for, but torch sees no CUDA GPU on this machine",
                hint="Use --device cpu (or auto).",
            )
        count = torch.cuda.device_count()
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= count:
            raise ConfigError(
                f"Device {name!r} was asked for, but this machine has {count} CUDA device(s) "
                f"(cuda:0 to cuda:{count - 1})"
            )
        return torch.device(text)
    if text == "mps" and not _mps_available():
        raise ConfigError(
            "Device 'mps' was asked for, but the Apple MPS backend is not available here",
            hint="Use --device cpu (or auto).",
        )
    return torch.device(text)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
