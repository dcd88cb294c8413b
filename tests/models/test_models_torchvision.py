"""torchvision:NAME[:WEIGHTS] — random weights; preprocessing from the weights' transforms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.models import get_model_weights

from quba.errors import ModelError
from quba.models import create_classifier


def _photo() -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 256, (280, 330, 3), dtype=np.uint8))


def test_torchvision_default_weights_resolve_to_their_name():
    classifier = create_classifier("torchvision:resnet50", pretrained=False, device="meta")
    assert classifier.spec == f"torchvision:resnet50:{get_model_weights('resnet50').DEFAULT.name}"
    explicit = create_classifier(
        "torchvision:resnet50:IMAGENET1K_V1", pretrained=False, device="meta"
    )
    assert explicit.spec == "torchvision:resnet50:IMAGENET1K_V1"


@pytest.mark.parametrize(
    "spec",
    [
        "torchvision:resnet50:IMAGENET1K_V2",
        "torchvision:vit_b_16:IMAGENET1K_V1",
        "torchvision:efficientnet_b1:IMAGENET1K_V2",
        "torchvision:inception_v3:IMAGENET1K_V1",
    ],
)
def test_torchvision_preprocessing_reproduces_the_weights_transform(spec):
    classifier = create_classifier(spec, pretrained=False, device="meta")
    _, name, weights_name = spec.split(":")
    reference = get_model_weights(name)[weights_name].transforms()(_photo())
    pre = classifier.preprocessing
    ours = pre.transform()(_photo())
    mean = torch.tensor(pre.mean).view(3, 1, 1)
    std = torch.tensor(pre.std).view(3, 1, 1)
    assert ours.shape == reference.shape
    torch.testing.assert_close((ours - mean) / std, reference, atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "spec",
    [
        "torchvision:resnet18:IMAGENET1K_V1",
        "torchvision:googlenet:IMAGENET1K_V1",
        "torchvision:inception_v3:IMAGENET1K_V1",
        "torchvision:regnet_y_400mf:IMAGENET1K_V1",
    ],
)
def test_random_weights_have_the_parameter_count_the_weights_document(spec):
    _, name, weights_name = spec.split(":")
    documented = get_model_weights(name)[weights_name].meta["num_params"]
    assert create_classifier(spec, pretrained=False, device="meta").num_params == documented


def test_torchvision_forward_shape_and_normalization_inside():
    classifier = create_classifier("torchvision:mobilenet_v3_small", pretrained=False)
    module = classifier.module
    assert not module.training
    x = torch.rand(2, 3, 224, 224)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = module(x)
        torch.testing.assert_close(logits, module.model((x - mean) / std))
    assert logits.shape == (2, 1000)


def test_torchvision_unknown_model_and_weights_are_model_errors():
    with pytest.raises(ModelError, match="no classification model 'resnet51'") as error:
        create_classifier("torchvision:resnet51", pretrained=False)
    assert "resnet50" in str(error.value)
    with pytest.raises(ModelError, match=r"has no weights 'IMAGENET1K_V9'.*IMAGENET1K_V1"):
        create_classifier("torchvision:resnet18:IMAGENET1K_V9", pretrained=False)
    with pytest.raises(ModelError, match="no classification model 'fasterrcnn_resnet50_fpn'"):
        create_classifier("torchvision:fasterrcnn_resnet50_fpn", pretrained=False)
