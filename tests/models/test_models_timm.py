"""timm:NAME — random weights; shape, normalization inside, preprocessing, parameter count."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from timm.data import create_transform, resolve_data_config

from quba.errors import ModelError
from quba.models import Normalized, create_classifier


def _photo(width: int = 300, height: int = 260) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_timm_classifier_shape_eval_mode_and_frozen_parameters():
    classifier = create_classifier("timm:resnet18", pretrained=False)
    module = classifier.module
    assert isinstance(module, Normalized) and not module.training
    assert not any(p.requires_grad for p in module.parameters())
    with torch.no_grad():
        logits = module(torch.rand(2, 3, 224, 224))
    assert logits.shape == (2, 1000) and classifier.num_classes == 1000
    assert classifier.label_space == "imagenet-1k"
    assert classifier.pretrained is False
    default_tag = timm.create_model("resnet18").pretrained_cfg["tag"]
    assert classifier.spec == f"timm:resnet18.{default_tag}"


def test_timm_normalization_happens_inside_with_timms_statistics():
    classifier = create_classifier("timm:resnet18.a1_in1k", pretrained=False)
    config = resolve_data_config(model=timm.create_model("resnet18.a1_in1k"))
    mean = torch.tensor(config["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(config["std"]).view(1, 3, 1, 1)
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(classifier.module(x), classifier.module.model((x - mean) / std))
    assert classifier.module.mean == pytest.approx(config["mean"])


@pytest.mark.parametrize(
    "name",
    ["resnet18.a1_in1k", "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "levit_128.fb_dist_in1k"],
)
def test_timm_preprocessing_reproduces_timms_eval_transform(name):
    classifier = create_classifier(f"timm:{name}", pretrained=False, device="meta")
    config = resolve_data_config(model=timm.create_model(name, pretrained=False))
    reference = create_transform(**config)(_photo())
    pre = classifier.preprocessing
    ours = pre.transform()(_photo())
    mean = torch.tensor(pre.mean).view(3, 1, 1)
    std = torch.tensor(pre.std).view(3, 1, 1)
    assert ours.shape == reference.shape
    torch.testing.assert_close((ours - mean) / std, reference, atol=1e-4, rtol=0)
    assert pre.interpolation == config["interpolation"]


def test_timm_parameter_count_matches_timm():
    classifier = create_classifier("timm:levit_128.fb_dist_in1k", pretrained=False)
    reference = timm.create_model("levit_128.fb_dist_in1k", pretrained=False)
    assert classifier.num_params == sum(p.numel() for p in reference.parameters())
    assert classifier.weights_id.startswith("sha256:")


def test_timm_unknown_names_and_tags_are_model_errors():
    with pytest.raises(ModelError, match="timm has no model 'resnet_18'") as error:
        create_classifier("timm:resnet_18", pretrained=False)
    assert "resnet18" in str(error.value)
    with pytest.raises(ModelError, match=r"no pretrained weights 'resnet18.nope'"):
        create_classifier("timm:resnet18.nope")


def test_timm_model_without_1000_classes_is_refused():
    with pytest.raises(ModelError, match="21843 classes, not the 1000"):
        create_classifier("timm:vit_tiny_patch16_224.augreg_in21k", pretrained=False, device="meta")
