"""python:package.module:factory — the user's own model, and every way it can go wrong."""

from __future__ import annotations

import hashlib
import textwrap

import pytest
import torch

from quba.errors import ModelError
from quba.models import Normalized, Preprocessing, create_classifier

FACTORIES = """
import torch
from torch import nn
from quba.models.preprocessing import Preprocessing


class Tiny(nn.Module):
    def __init__(self, classes=7):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4, classes)

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=(2, 3)))


def plain():
    return Tiny()


def with_dict():
    return Tiny(), {"resize": 40, "crop": 32, "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.3, 0.4]}


def with_preprocessing():
    return Tiny(), Preprocessing(resize=36, crop=32, interpolation="bicubic")


def with_label_space():
    model = Tiny(classes=5)
    model.label_space = "synthetic"
    model.num_classes = 5
    return model


def takes_pretrained(pretrained=True):
    model = Tiny()
    model.got_pretrained = pretrained
    return model


def raises():
    raise RuntimeError("weights file is corrupt")


def returns_string():
    return "not a module"


def returns_triple():
    return Tiny(), {}, None


def bad_preprocessing():
    return Tiny(), {"size": 3}


def bad_preprocessing_type():
    return Tiny(), [256, 224]


def bad_label_space():
    model = Tiny()
    model.label_space = 3
    return model


def bad_output():
    return nn.Conv2d(3, 2, 1)


NOT_CALLABLE = 3
"""


@pytest.fixture()
def factories(tmp_path):
    path = tmp_path / "my_models.py"
    path.write_text(textwrap.dedent(FACTORIES))
    return path


def test_module_factory_gets_the_default_preprocessing_and_no_normalization(factories):
    classifier = create_classifier(f"python:{factories}:plain")
    assert classifier.preprocessing == Preprocessing(256, 224, "bilinear", None, None)
    module = classifier.module
    assert isinstance(module, Normalized) and module.mean is None and not module.training
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(module(x), module.model(x))
    assert classifier.num_classes == 7  # found by a forward pass
    assert classifier.label_space == "imagenet-1k"
    expected = sum(p.numel() for p in module.model.parameters())
    assert classifier.num_params == expected == 4 * 3 * 3 * 3 + 4 + 4 * 7 + 7


def test_dict_preprocessing_is_applied_inside(factories):
    classifier = create_classifier(f"python:{factories}:with_dict")
    pre = classifier.preprocessing
    assert (pre.resize, pre.crop, pre.interpolation) == (40, 32, "bilinear")
    assert pre.mean == (0.5, 0.4, 0.3) and pre.std == (0.2, 0.3, 0.4)
    x = torch.rand(2, 3, 32, 32)
    mean = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)
    std = torch.tensor([0.2, 0.3, 0.4]).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(classifier.module(x), classifier.module.model((x - mean) / std))


def test_preprocessing_object_and_label_space_attribute(factories):
    pre = create_classifier(f"python:{factories}:with_preprocessing").preprocessing
    assert pre == Preprocessing(resize=36, crop=32, interpolation="bicubic")
    classifier = create_classifier(f"python:{factories}:with_label_space")
    assert classifier.label_space == "synthetic" and classifier.num_classes == 5


def test_factory_receives_pretrained_when_it_takes_it(factories):
    random = create_classifier(f"python:{factories}:takes_pretrained", pretrained=False)
    published = create_classifier(f"python:{factories}:takes_pretrained")
    assert random.module.model.got_pretrained is False and random.pretrained is False
    assert published.module.model.got_pretrained is True and published.pretrained is True


def test_weights_id_is_the_hash_of_the_tensors(factories):
    first = create_classifier(f"python:{factories}:plain")
    second = create_classifier(f"python:{factories}:plain")
    assert first.weights_id == second.weights_id
    digest = hashlib.sha256()
    for name, tensor in first.module.state_dict().items():
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    assert first.weights_id == f"sha256:{digest.hexdigest()}"
    with torch.no_grad():
        second.module.model.head.bias.add_(1.0)
    from quba.models._classifier import tensors_sha256

    assert tensors_sha256(second.module) != first.weights_id


def test_importable_module_path():
    classifier = create_classifier("python:torchvision.models:resnet18")
    assert classifier.num_classes == 1000
    assert classifier.spec == "python:torchvision.models:resnet18"


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        ("raises", "raised RuntimeError: weights file is corrupt"),
        ("returns_string", "to return a torch.nn.Module .* but got str"),
        ("returns_triple", "got a tuple of 3"),
        ("bad_preprocessing", "Unknown preprocessing keys \\['size'\\]"),
        ("bad_preprocessing_type", "Preprocessing or a dict, but got list"),
        ("bad_label_space", "label_space .* non-empty string, but got 3"),
        ("bad_output", "logits of shape \\(N, classes\\), but got \\(1, 2, 224, 224\\)"),
        ("missing", "has no attribute 'missing'"),
        ("NOT_CALLABLE", "to be a callable .* but got int"),
    ],
)
def test_factory_errors_name_the_spec(factories, factory, message):
    spec = f"python:{factories}:{factory}"
    with pytest.raises(ModelError, match=message) as error:
        create_classifier(spec)
    assert str(factories) in str(error.value) or spec in str(error.value)


def test_unimportable_module_and_bad_syntax(tmp_path):
    with pytest.raises(ModelError, match="Cannot import module 'quba_no_such_module'") as error:
        create_classifier("python:quba_no_such_module:build")
    assert "python:quba_no_such_module:build" in str(error.value)
    with pytest.raises(ModelError, match="Python file not found"):
        create_classifier(f"python:{tmp_path / 'absent.py'}:build")
    with pytest.raises(ModelError, match=r"Expected python:package.module:factory"):
        create_classifier("python:just_a_module")
    broken = tmp_path / "broken.py"
    broken.write_text("raise ValueError('boom')\n")
    with pytest.raises(ModelError, match=r"Importing .*broken.py.* ValueError: boom"):
        create_classifier(f"python:{broken}:build")


def test_module_in_the_working_directory_is_importable(tmp_path, monkeypatch):
    import sys

    source = "from torch import nn\n\n\ndef build():\n"
    source += "    return nn.Sequential(nn.Conv2d(3, 3, 224), nn.Flatten())\n"
    (tmp_path / "quba_cwd_model.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    classifier = create_classifier("python:quba_cwd_model:build")
    assert classifier.num_classes == 3
    assert str(tmp_path) not in sys.path
