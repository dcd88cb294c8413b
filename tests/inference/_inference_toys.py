"""Small picklable datasets and models for the inference tests (also used by subprocesses)."""

from __future__ import annotations

import time

import torch
from torch import nn

from quba.errors import DataError


class TensorImages(torch.utils.data.Dataset):
    """``n`` seeded random images (3, 8, 8) with targets ``i % classes``; ``broken`` indices are
    unreadable: they raise DataError, or return None when ``skip_unreadable``."""

    def __init__(self, n=40, classes=4, seed=0, broken=(), skip_unreadable=False):
        generator = torch.Generator().manual_seed(seed)
        self.images = torch.rand(n, 3, 8, 8, generator=generator)
        self.targets = torch.arange(n) % classes
        self.broken = set(broken)
        self.skip_unreadable = skip_unreadable

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        if i in self.broken:
            if self.skip_unreadable:
                return None
            raise DataError(f"Cannot read image /data/img{i}.png: broken file")
        return self.images[i], int(self.targets[i]), i


class Normalized(nn.Module):
    def __init__(self, model, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3)):
        super().__init__()
        self.model, self.mean, self.std = model, mean, std

    def forward(self, x):
        mean = torch.tensor(self.mean, device=x.device).reshape(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).reshape(1, 3, 1, 1)
        return self.model((x - mean) / std)


class CountingNet(nn.Module):
    """A tiny CNN that counts the images it forwards and can sleep per batch."""

    def __init__(self, classes=4, seed=0, delay=0.0):
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4, classes),
        )
        self.delay = delay
        self.seen = 0

    def forward(self, x):
        self.seen += len(x)
        if self.delay:
            time.sleep(self.delay)
        return self.body(x)


def classifier(seed=0, delay=0.0):
    return Normalized(CountingNet(seed=seed, delay=delay)).eval()
