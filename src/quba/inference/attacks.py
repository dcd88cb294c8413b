"""PGD and FGSM with torchattacks, with the attack geometry made explicit.

A classifier takes pixels in [0, 1] and normalizes inside (``Normalized``: ``model``, ``mean``,
``std``). The attack's *geometry* decides where ε and the [0, 1] clip apply (PROTOCOL.md):

- ``pixel``: the standard threat model. The whole classifier is attacked on pixels ``x``:
  ``x_adv ∈ [0, 1]``, ``‖x_adv − x‖∞ ≤ ε``.
- ``paper``: as the publication did. The inner network ``Normalized.model`` is attacked on the
  normalized tensor ``u = (x − mean) / std``, with ε, the step and the clip to [0, 1] applied to
  ``u``. For a classifier without normalization both geometries are the same computation.

PGD (Madry et al. 2018): start at ``clip(u + U(−ε, ε))``; then ``steps`` times
``u ← clip(u₀ + clamp(u + α·sign(∇ CE) − u₀, −ε, ε))``. FGSM: ``clip(u₀ + ε·sign(∇ CE))``.
Both maximise the cross-entropy of the true label; torchattacks does the arithmetic.

The classifier is in evaluation mode before, during and after the attack (batch-norm statistics
and dropout never change), its parameters are not updated, and the random start is drawn from a
generator seeded by the caller, so a rerun gives the same numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch

logger = logging.getLogger(__name__)

AttackName = Literal["pgd", "fgsm"]
AttackGeometry = Literal["paper", "pixel"]


@dataclass(frozen=True)
class AttackSpec:
    """One attack's settings. ``step`` and ``steps`` apply to PGD only."""

    name: AttackName
    geometry: AttackGeometry = "paper"
    eps: float = 8 / 255
    step: float = 2 / 255
    steps: int = 10
    random_start: bool = True

    def __post_init__(self) -> None:
        if self.name not in ("pgd", "fgsm"):
            raise ValueError(f"Expected attack 'pgd' or 'fgsm', but got {self.name!r}")
        if self.geometry not in ("paper", "pixel"):
            raise ValueError(f"Expected geometry 'paper' or 'pixel', but got {self.geometry!r}")
        if not self.eps >= 0 or (self.name == "pgd" and (self.steps < 1 or not self.step > 0)):
            raise ValueError(f"Impossible attack settings: {self}")

    def fields(self) -> dict[str, object]:
        """The settings that change attacked predictions (for cache keys)."""
        if self.name == "fgsm":
            return {"attack": "fgsm", "geometry": self.geometry, "eps": self.eps}
        return {
            "attack": "pgd",
            "geometry": self.geometry,
            "eps": self.eps,
            "step": self.step,
            "steps": self.steps,
            "random_start": self.random_start,
        }


def attack_target(
    module: torch.nn.Module, images: torch.Tensor, geometry: AttackGeometry
) -> tuple[torch.nn.Module, torch.Tensor]:
    """The network the attack sees and its input for ``geometry``.

    ``pixel`` (or a classifier without normalization): ``(module, images)``. ``paper``:
    ``(module.model, (images − mean) / std)``.
    """
    mean = getattr(module, "mean", None)
    std = getattr(module, "std", None)
    inner = getattr(module, "model", None)
    if geometry == "pixel" or mean is None or std is None or inner is None:
        return module, images
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).reshape(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).reshape(1, -1, 1, 1)
    return inner, (images - mean_t) / std_t


@contextmanager
def frozen_eval(module: torch.nn.Module) -> Iterator[None]:
    """Evaluation mode and no parameter gradients inside; the module stays in eval mode after.

    Gradients are only taken with respect to the input, so switching them off for the
    parameters saves memory and time without changing the attack.
    """
    module.eval()
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)
        module.eval()


def _torchattacks_attack(target: torch.nn.Module, spec: AttackSpec):
    import contextlib
    import io

    import torchattacks

    # torchattacks prints (to stdout) when the network has no parameters to take a device from;
    # the library never prints, and the device is set explicitly afterwards
    with contextlib.redirect_stdout(io.StringIO()):
        return _construct(torchattacks, target, spec)


def _construct(torchattacks, target: torch.nn.Module, spec: AttackSpec):
    if spec.name == "pgd":
        attack = torchattacks.PGD(
            target, eps=spec.eps, alpha=spec.step, steps=spec.steps, random_start=spec.random_start
        )
    else:
        attack = torchattacks.FGSM(target, eps=spec.eps)
    attack.set_model_training_mode(model_training=False)
    return attack


def attack_batch(
    module: torch.nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    spec: AttackSpec,
    *,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attack one batch; returns ``(adversarial input, logits)`` of the attacked images.

    ``images``: float (N, 3, H, W) pixels in [0, 1] on the module's device; ``targets``: int64
    (N,). The adversarial input is in the geometry's space (normalized tensor for ``paper`` on a
    normalizing classifier, pixels otherwise); the logits are those of the classifier on it.
    ``seed`` fixes the random start.
    """
    if images.numel() == 0:
        return images, torch.empty(0, 0, device=images.device)
    with frozen_eval(module):
        target, inputs = attack_target(module, images, spec.geometry)
        attack = _torchattacks_attack(target, spec)
        attack.set_device(images.device)
        devices = [images.device] if images.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            adversarial = attack(inputs, targets)
        with torch.no_grad():
            logits = target(adversarial)
    return adversarial, logits
