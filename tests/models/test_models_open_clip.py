"""open_clip:ARCH/PRETRAINED — the zero-shot head against an independent computation."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from quba.errors import MissingExtraError, ModelError
from quba.models import create_classifier

open_clip = pytest.importorskip("open_clip")
from open_clip.zero_shot_metadata import (  # noqa: E402
    IMAGENET_CLASSNAMES,
    OPENAI_IMAGENET_TEMPLATES,
)

from quba.models._open_clip import zero_shot_classifier  # noqa: E402


def _class_embedding(model, tokenizer, classname: str) -> torch.Tensor:
    """The CLIP paper's recipe, one class at a time, written out separately."""
    texts = [template(classname) for template in OPENAI_IMAGENET_TEMPLATES]
    with torch.no_grad():
        embeddings = model.encode_text(tokenizer(texts))
    embeddings = embeddings / embeddings.norm(dim=-1, keepdim=True)
    mean = embeddings.mean(dim=0)
    return mean / mean.norm()


def _reference_logits(model, head_rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        features = model.encode_image((pixels - mean) / std)
    features = features / features.norm(dim=-1, keepdim=True)
    return model.logit_scale.exp() * features @ head_rows.T


def test_zero_shot_head_and_logits_match_an_independent_computation(tiny_clip):
    torch.manual_seed(0)
    model = open_clip.create_model(tiny_clip).eval()
    tokenizer = open_clip.get_tokenizer(tiny_clip)
    classnames = IMAGENET_CLASSNAMES[:40]
    templates = OPENAI_IMAGENET_TEMPLATES[:3]

    network = zero_shot_classifier(model, tokenizer, classnames, templates)

    expected = []
    for name in classnames:
        with torch.no_grad():
            rows = model.encode_text(tokenizer([t(name) for t in templates]))
        rows = rows / rows.norm(dim=-1, keepdim=True)
        expected.append(rows.mean(0) / rows.mean(0).norm())
    expected = torch.stack(expected)
    torch.testing.assert_close(network.head, expected, atol=1e-5, rtol=1e-5)

    pixels = torch.rand(3, 3, 32, 32)
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = network((pixels - mean) / std)
    torch.testing.assert_close(
        logits, _reference_logits(model, expected, pixels), atol=1e-4, rtol=1e-4
    )
    assert network.head.requires_grad is False


@pytest.mark.slow
def test_open_clip_classifier_uses_the_1000_classes_and_80_templates(tiny_clip):
    assert len(IMAGENET_CLASSNAMES) == 1000 and len(OPENAI_IMAGENET_TEMPLATES) == 80
    torch.manual_seed(0)
    classifier = create_classifier(f"open_clip:{tiny_clip}", pretrained=False)
    torch.manual_seed(0)
    model = open_clip.create_model(tiny_clip).eval()  # the same random weights
    tokenizer = open_clip.get_tokenizer(tiny_clip)

    picked = [0, 1, 417, 999]
    rows = torch.stack([_class_embedding(model, tokenizer, IMAGENET_CLASSNAMES[i]) for i in picked])
    head = classifier.module.model.head
    assert head.shape == (1000, 16)
    torch.testing.assert_close(head[picked], rows, atol=1e-5, rtol=1e-5)

    pixels = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        logits = classifier.module(pixels)
    assert logits.shape == (2, 1000)
    torch.testing.assert_close(
        logits[:, picked], _reference_logits(model, rows, pixels), atol=1e-4, rtol=1e-4
    )
    # logits, not probabilities
    assert not torch.allclose(logits.sum(dim=1), torch.ones(2))


def test_open_clip_parameters_are_image_tower_plus_head(tiny_clip):
    classifier = create_classifier(f"open_clip:{tiny_clip}", pretrained=False, device="meta")
    model = open_clip.create_model(tiny_clip)
    visual = sum(p.numel() for p in model.visual.parameters())
    assert classifier.num_params == visual + 1000 * 16
    assert classifier.num_classes == 1000


def test_open_clip_preprocessing_reproduces_open_clips_eval_transform(tiny_clip):
    classifier = create_classifier(f"open_clip:{tiny_clip}", pretrained=False, device="meta")
    _, _, transform = open_clip.create_model_and_transforms(tiny_clip)
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (50, 70, 3), np.uint8))
    pre = classifier.preprocessing
    ours = pre.transform()(image)
    mean = torch.tensor(pre.mean).view(3, 1, 1)
    std = torch.tensor(pre.std).view(3, 1, 1)
    torch.testing.assert_close((ours - mean) / std, transform(image), atol=1e-4, rtol=0)
    assert (pre.resize, pre.crop, pre.interpolation) == (32, 32, "bicubic")


def test_siglip_preprocessing_squashes_with_its_own_statistics():
    classifier = create_classifier(
        "open_clip:ViT-B-16-SigLIP/webli", pretrained=False, device="meta"
    )
    cfg = open_clip.get_pretrained_cfg("ViT-B-16-SigLIP", "webli")
    pre = classifier.preprocessing
    assert pre.resize_mode == "squash" and pre.mean == tuple(cfg["mean"])
    assert pre.std == tuple(cfg["std"]) and pre.interpolation == cfg["interpolation"]
    assert classifier.spec == "open_clip:ViT-B-16-SigLIP/webli"


def test_open_clip_errors(tiny_clip, monkeypatch):
    with pytest.raises(ModelError, match="no architecture 'ViT-B-33'"):
        create_classifier("open_clip:ViT-B-33/openai", pretrained=False)
    with pytest.raises(ModelError, match="no pretrained weights 'nope' for ViT-B-32"):
        create_classifier("open_clip:ViT-B-32/nope")
    with pytest.raises(ModelError, match="ARCH/PRETRAINED"):
        create_classifier("open_clip:ViT-B-32")
    monkeypatch.setitem(sys.modules, "open_clip", None)
    with pytest.raises(MissingExtraError, match="open_clip_torch") as error:
        create_classifier(f"open_clip:{tiny_clip}", pretrained=False)
    assert "pip install 'quba[clip]'" in str(error.value)


def test_openai_weights_get_the_quick_gelu_they_were_trained_with():
    from open_clip.transformer import QuickGELU

    classifier = create_classifier("open_clip:ViT-B-32/openai", pretrained=False, device="meta")
    activations = [m for m in classifier.module.modules() if isinstance(m, QuickGELU)]
    assert open_clip.get_pretrained_cfg("ViT-B-32", "openai")["quick_gelu"] is True
    assert len(activations) == 12  # one per residual block of the image tower
    laion = create_classifier(
        "open_clip:ViT-B-32/laion2b_s34b_b79k", pretrained=False, device="meta"
    )
    assert not any(isinstance(m, QuickGELU) for m in laion.module.modules())


def test_missing_tokenizer_package_is_a_model_error(tiny_clip, monkeypatch):
    def needs_transformers(name):
        raise ImportError("No module named 'transformers'")

    monkeypatch.setattr(open_clip, "get_tokenizer", needs_transformers)
    with pytest.raises(ModelError, match="tokenizer of open_clip:quba-test-tiny-clip") as error:
        create_classifier(f"open_clip:{tiny_clip}", pretrained=False)
    assert "pip install transformers sentencepiece" in str(error.value)


@pytest.mark.slow
def test_open_clip_checkpoint_loads_into_both_towers_before_the_head(tiny_clip, tmp_path):
    import hashlib

    torch.manual_seed(3)
    trained = open_clip.create_model(tiny_clip).eval()
    path = tmp_path / "clip.pt"
    torch.save({"state_dict": trained.state_dict()}, path)
    classifier = create_classifier(f"open_clip:{tiny_clip}", checkpoint=path)
    visual = classifier.module.model.visual.state_dict()
    for key, value in trained.visual.state_dict().items():
        torch.testing.assert_close(visual[key], value)
    tokenizer = open_clip.get_tokenizer(tiny_clip)
    row = _class_embedding(trained, tokenizer, IMAGENET_CLASSNAMES[7])
    torch.testing.assert_close(classifier.module.model.head[7], row, atol=1e-5, rtol=1e-5)
    assert classifier.weights_id == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert classifier.pretrained is False
