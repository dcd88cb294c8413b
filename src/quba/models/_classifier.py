"""The classifier contract: a module on [0, 1] pixels with its normalization inside."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from quba.models.preprocessing import Preprocessing


class Normalized(nn.Module):
    """Wrap a network that expects normalized input so that it takes pixels in [0, 1].

    ``forward(x) = model((x - mean) / std)`` per channel, for ``x`` of shape (N, 3, H, W); with
    ``mean = std = None`` the input is passed through unchanged. ``model``, ``mean`` and ``std``
    are public so that an attack can work on the normalized tensor (the ``paper`` geometry).
    """

    def __init__(
        self,
        model: nn.Module,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError("Normalized needs both mean and std, or neither")
        self.model = model
        self.mean = None if mean is None else tuple(float(m) for m in mean)
        self.std = None if std is None else tuple(float(s) for s in std)
        if self.mean is not None and self.std is not None:
            self.register_buffer("_mean", torch.tensor(self.mean).view(1, -1, 1, 1), False)
            self.register_buffer("_std", torch.tensor(self.std).view(1, -1, 1, 1), False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels in [0, 1] -> the inner network's input."""
        if self.mean is None:
            return x
        return (x - self._mean.to(x.dtype)) / self._std.to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.normalize(x))

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


@dataclass(frozen=True, eq=False)
class Classifier:
    """A built classifier and everything that travels with it.

    Attributes:
        spec: the canonical model spec (a default tag or weights name resolved, e.g.
            ``timm:resnet50.a1_in1k``); ``zoo:NAME`` for a zoo model.
        module: :class:`Normalized`, in eval mode, parameters frozen: float images in [0, 1]
            of shape (N, 3, crop, crop) -> logits (N, num_classes).
        preprocessing: how to turn a file into the module's input (and the mean/std it
            applies inside).
        num_params: number of parameters of ``module`` (each shared tensor once), PROTOCOL.md's
            ninth dimension before the division by 10^6.
        num_classes: width of the logits.
        label_space: name of the label space of the logits (``imagenet-1k`` for every named
            model).
        weights_id: changes when the weights change: ``SPEC@pretrained`` for a library's
            published weights, ``sha256:<hex>`` of a checkpoint file, or of the tensors
            themselves for random or user-built weights; ``SPEC@meta`` on the meta device.
        pretrained: whether published weights were loaded.
        source_spec: the library spec behind the classifier (the zoo entry's spec for
            ``zoo:NAME``, otherwise ``spec``).
        checkpoint: the local checkpoint file loaded on top, if any.
    """

    spec: str
    module: Normalized
    preprocessing: Preprocessing
    num_params: int
    num_classes: int
    label_space: str = "imagenet-1k"
    weights_id: str = ""
    pretrained: bool = True
    source_spec: str = ""
    checkpoint: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def params_millions(self) -> float:
        return self.num_params / 1e6


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters of ``module``; a tensor shared by two layers counts once."""
    return sum(p.numel() for p in module.parameters())


def tensors_sha256(module: nn.Module) -> str:
    """``sha256:<hex>`` over the names, dtypes, shapes and bytes of all parameters and buffers."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        data = tensor.detach().to("cpu").contiguous()
        if data.dtype == torch.bfloat16:
            data = data.view(torch.int16)
        digest.update(data.numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def file_sha256(path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"
