"""Model specs and the registry of sources."""

from __future__ import annotations

import pytest

from quba.errors import ModelError
from quba.models import (
    ModelSource,
    ModelSpec,
    create_classifier,
    list_sources,
    parse_model_spec,
    register_source,
)


def test_builtin_sources_are_registered_in_order():
    assert [s.name for s in list_sources()] == ["timm", "torchvision", "open_clip", "python", "zoo"]
    assert all(s.syntax.startswith(f"{s.name}:") for s in list_sources())


@pytest.mark.parametrize(
    ("text", "source", "name"),
    [
        ("timm:convnext_tiny.fb_in1k", "timm", "convnext_tiny.fb_in1k"),
        ("torchvision:resnet50:IMAGENET1K_V2", "torchvision", "resnet50:IMAGENET1K_V2"),
        ("open_clip:ViT-B-32/laion2b_s34b_b79k", "open_clip", "ViT-B-32/laion2b_s34b_b79k"),
        ("python:my_pkg.models:build", "python", "my_pkg.models:build"),
        (" zoo:ResNet50 ", "zoo", "ResNet50"),
    ],
)
def test_parse_model_spec_splits_at_the_first_colon(text, source, name):
    spec = parse_model_spec(text)
    assert spec == ModelSpec(source, name)
    assert str(spec) == text.strip()
    assert parse_model_spec(spec) is spec


def test_parse_model_spec_rejects_unknown_sources_and_missing_names():
    with pytest.raises(ModelError, match="Unknown model source 'hub'"):
        parse_model_spec("hub:resnet50")
    with pytest.raises(ModelError, match="Expected a model spec SOURCE:NAME"):
        parse_model_spec("timm:")
    with pytest.raises(ModelError, match="Expected a model spec") as error:
        parse_model_spec("ResNet50")
    assert "zoo:ResNet50" in str(error.value)
    with pytest.raises(ModelError, match="Expected a model spec string"):
        parse_model_spec(42)  # type: ignore[arg-type]


def test_registering_a_source_twice_is_an_error():
    existing = list_sources()[0]
    with pytest.raises(ValueError, match="already registered"):
        register_source(ModelSource(existing.name, existing.build, "x", "y"))
    with pytest.raises(ValueError, match="identifier"):
        register_source(ModelSource("not a name", existing.build, "x", "y"))


def test_missing_checkpoint_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="Checkpoint file not found"):
        create_classifier("torchvision:resnet18", checkpoint=tmp_path / "nope.pt")
    with pytest.raises(ModelError, match="meta device"):
        create_classifier("torchvision:resnet18", checkpoint=tmp_path, device="meta")


def test_short_model_name_keeps_a_python_factory_and_any_other_spec_whole():
    from quba.models import short_model_name

    assert short_model_name("python:quba.synthetic.zoo:plain_cnn") == "plain_cnn"
    assert short_model_name("python:my_model.py:build") == "build"
    assert short_model_name("timm:resnet50.a1_in1k") == "timm:resnet50.a1_in1k"
