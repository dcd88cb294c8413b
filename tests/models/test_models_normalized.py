"""The Normalized wrapper: pixels in [0, 1] in, normalization inside."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from quba.models import Normalized, count_parameters


def test_normalized_applies_mean_and_std_per_channel_before_the_network():
    inner = nn.Conv2d(3, 2, 1)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    module = Normalized(inner, mean, std)
    x = torch.rand(4, 3, 5, 5)
    expected_input = torch.stack([(x[:, c] - mean[c]) / std[c] for c in range(3)], dim=1)
    torch.testing.assert_close(module(x), inner(expected_input))
    torch.testing.assert_close(module.normalize(x), expected_input)
    assert module.model is inner and module.mean == mean and module.std == std


def test_normalized_without_statistics_passes_pixels_through():
    inner = nn.Linear(3, 2)
    module = Normalized(inner)
    x = torch.rand(2, 3)
    assert module.mean is None and module.std is None
    torch.testing.assert_close(module(x), inner(x))


def test_normalized_adds_no_parameters_and_keeps_the_inner_state_dict():
    inner = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    module = Normalized(inner, (0.5,) * 3, (0.5,) * 3)
    assert count_parameters(module) == sum(p.numel() for p in inner.parameters())
    assert set(module.state_dict()) == {f"model.{k}" for k in inner.state_dict()}


def test_normalized_needs_both_statistics():
    with pytest.raises(ValueError, match="both mean and std"):
        Normalized(nn.Identity(), mean=(0.5, 0.5, 0.5))


def test_count_parameters_counts_a_shared_tensor_once():
    layer = nn.Linear(4, 4)
    shared = nn.Sequential(layer, layer)
    assert count_parameters(shared) == 4 * 4 + 4
