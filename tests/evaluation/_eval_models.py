"""Models for the end-to-end tests, reachable as ``python:<this file>:<factory>``.

The images of :func:`quba.data.testing.make_imagenet_tree` have a colour that depends on their
label, so a model that reads the mean colour can be right on some images and wrong on others;
a fixed random linear read-out of the pixels adds errors, so that every dimension is non-trivial.
"""

from __future__ import annotations

import os
import time

import torch
from torch import nn

MEAN = (0.45, 0.45, 0.4)
STD = (0.25, 0.2, 0.3)


def label_colour(label: int) -> tuple[float, float, float]:
    """The base colour make_imagenet_tree gives an image of ``label``, in [0, 1]."""
    return ((label * 37) % 256 / 255, (label * 91) % 256 / 255, (label * 53) % 256 / 255)


class ColourNet(nn.Module):
    """logits_k = −τ·‖mean colour − proto_k‖² + (random linear read-out of the pixels)_k."""

    label_space = "imagenet-1k"

    def __init__(self, prototypes: dict[int, tuple[float, float, float]], noise: float, seed: int):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        protos = torch.rand(1000, 3, generator=generator) * 4 - 1.5  # far from every image
        for label, colour in prototypes.items():
            protos[label] = (torch.tensor(colour) - torch.tensor(MEAN)) / torch.tensor(STD)
        self.prototypes = nn.Parameter(protos)
        self.readout = nn.Conv2d(3, 1000, kernel_size=16, bias=True)
        with torch.no_grad():
            self.readout.weight.normal_(0, noise, generator=generator)
            self.readout.bias.zero_()
        self.temperature = 8.0

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        colour = u.mean(dim=(2, 3))
        distance = ((colour[:, None, :] - self.prototypes[None]) ** 2).sum(-1)
        return -self.temperature * distance + self.readout(u).flatten(1)


# the labels the end-to-end tree uses (see _eval_support.make_tree) and where they point
CLASSES = (100, 300, 500, 700)
CATEGORIES = ("elephant", "knife", "oven")  # category indices 11, 13, 14
CATEGORY_CLASS = {11: 385, 13: 499, 14: 766}  # one ImageNet class of each category
OBJECT_CLASS = {0: 151, 4: 269, 8: 0}  # IN-9 index -> an ImageNet class (dog, carnivore, fish)


def colour_model(pretrained: bool = True):
    from quba.data.labels import imagenet_label_space

    space = imagenet_label_space()
    prototypes = {c: label_colour(c) for c in CLASSES}
    rendition = [space.rendition_classes[i] for i in (0, 66, 133, 199)]
    prototypes.update({c: label_colour(c) for c in rendition})
    prototypes.update({cls: label_colour(k) for k, cls in CATEGORY_CLASS.items()})
    prototypes.update({cls: label_colour(k) for k, cls in OBJECT_CLASS.items()})
    module = ColourNet(prototypes, noise=0.006, seed=0)
    return module, {"resize": 16, "crop": 16, "mean": MEAN, "std": STD}


def wrong_width():
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(10)), {"resize": 16, "crop": 16}


class _Slow(nn.Module):
    """Sleeps ``delay`` seconds per forward pass, so a test can interrupt a run half-way."""

    label_space = "imagenet-1k"

    def __init__(self, inner: nn.Module, delay: float) -> None:
        super().__init__()
        self.inner = inner
        self.delay = delay

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if self.delay:
            time.sleep(self.delay)
        return self.inner(u)


def slow_colour_model():
    """colour_model's weights (so the same cache key), slowed by ``$QUBA_TEST_DELAY`` seconds."""
    module, preprocessing = colour_model()
    return _Slow(module, float(os.environ.get("QUBA_TEST_DELAY", "0"))), preprocessing
