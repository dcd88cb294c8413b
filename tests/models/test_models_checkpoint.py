"""Local checkpoints loaded with weights_only=True into any architecture."""

from __future__ import annotations

import hashlib

import pytest
import torch
from torch import nn

from quba.errors import ModelError
from quba.models import create_classifier

FACTORY = """
from torch import nn


class Tiny(nn.Module):
    num_classes = 6

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 6)

    def forward(self, x):
        return self.head(self.norm(self.conv(x)).mean(dim=(2, 3)))


def tiny():
    return Tiny()
"""


@pytest.fixture()
def tiny_spec(tmp_path):
    path = tmp_path / "tiny_arch.py"
    path.write_text(FACTORY)
    return f"python:{path}:tiny"


def _trained_state(spec: str) -> dict:
    reference = create_classifier(spec).module.model
    return {k: torch.randn_like(v.float()).to(v.dtype) for k, v in reference.state_dict().items()}


def _sha256(path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("layout", ["plain", "state_dict", "model", "module_prefix"])
def test_checkpoint_layouts_load_exactly(tmp_path, tiny_spec, layout):
    state = _trained_state(tiny_spec)
    content = {
        "plain": state,
        "state_dict": {"state_dict": state, "epoch": 3},
        "model": {"model": state},
        "module_prefix": {f"module.{k}": v for k, v in state.items()},
    }[layout]
    path = tmp_path / "weights.pt"
    torch.save(content, path)
    classifier = create_classifier(tiny_spec, checkpoint=path)
    loaded = classifier.module.model.state_dict()
    assert set(loaded) == set(state)
    for key, value in state.items():
        torch.testing.assert_close(loaded[key], value)
    assert classifier.weights_id == _sha256(path)
    assert classifier.checkpoint == str(path) and classifier.pretrained is False


def test_checkpoint_for_a_named_architecture(tmp_path):
    reference = create_classifier("torchvision:squeezenet1_1", pretrained=False)
    path = tmp_path / "squeezenet.pt"
    torch.save(reference.module.model.state_dict(), path)
    classifier = create_classifier("torchvision:squeezenet1_1", checkpoint=path)
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(classifier.module(x), reference.module(x))
    assert classifier.weights_id == _sha256(path)


def test_mismatching_checkpoint_lists_missing_and_unexpected_keys(tmp_path, tiny_spec):
    state = _trained_state(tiny_spec)
    state["extra.weight"] = torch.zeros(2)
    del state["head.bias"]
    path = tmp_path / "other.pt"
    torch.save(state, path)
    with pytest.raises(ModelError, match=r"1 missing: head.bias; 1 unexpected: extra.weight"):
        create_classifier(tiny_spec, checkpoint=path)


def test_checkpoint_with_wrong_shapes_is_refused(tmp_path, tiny_spec):
    state = _trained_state(tiny_spec)
    state["head.weight"] = torch.zeros(5, 4)
    path = tmp_path / "shape.pt"
    torch.save(state, path)
    with pytest.raises(ModelError, match=r"wrong shape: head.weight \(checkpoint \(5, 4\)"):
        create_classifier(tiny_spec, checkpoint=path)


def test_unreadable_or_non_state_dict_checkpoints(tmp_path, tiny_spec):
    pickled_module = tmp_path / "module.pt"
    torch.save(nn.Linear(2, 2), pickled_module)
    with pytest.raises(ModelError, match="Cannot read checkpoint") as error:
        create_classifier(tiny_spec, checkpoint=pickled_module)
    assert "weights_only=True" in str(error.value)
    not_a_state = tmp_path / "list.pt"
    torch.save({"epoch": 3, "lr": 0.1}, not_a_state)
    with pytest.raises(ModelError, match="to hold a state dict"):
        create_classifier(tiny_spec, checkpoint=not_a_state)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="Cannot read checkpoint"):
        create_classifier(tiny_spec, checkpoint=garbage)
