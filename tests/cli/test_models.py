"""quba models list / show / sources."""

from __future__ import annotations

import pytest

from quba.cli.app import main
from quba.models import list_zoo


def _run(args, capsys):
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def test_models_list_prints_every_zoo_model(capsys):
    code, out, _ = _run(["models", "list"], capsys)
    assert code == 0
    assert "326 models" in out
    assert "ResNet50-A1" in out and "timm:resnet50.a1_in1k" in out


def test_models_list_filters_by_group_and_availability(capsys):
    code, out, _ = _run(["models", "list", "--group", "bcos"], capsys)
    expected = list_zoo(["bcos"])
    assert code == 0 and f"{len(expected)} models" in out and "unavailable" in out
    code, out, _ = _run(["models", "list", "-g", "cnn", "-g", "in21k", "--available"], capsys)
    expected = list_zoo(["cnn", "in21k"], available=True)
    assert code == 0 and f"{len(expected)} models" in out
    assert all(e.name in out for e in expected) and "unavailable" not in out


def test_models_list_unknown_group_exits_2(capsys):
    code, _, err = _run(["models", "list", "--group", "resnets"], capsys)
    assert code == 2 and "Unknown zoo group 'resnets'" in err


def test_models_show_zoo_model(capsys):
    code, out, _ = _run(["models", "show", "ResNet50"], capsys)
    assert code == 0
    assert "torchvision:resnet50:IMAGENET1K_V1" in out
    assert "resize 256 (shortest, bilinear), crop 224" in out
    assert "25.6 M (25,557,032)" in out and "Supervised learning" in out


def test_models_show_clip_explains_the_parameter_difference(capsys):
    code, out, _ = _run(["models", "show", "clip-vit-b-32", "--no-pretrained"], capsys)
    assert code == 0 and "random initialisation" in out
    assert "151.3 M" in out and "both towers" in out


def test_models_show_unavailable_prints_the_reason(capsys):
    code, out, _ = _run(["models", "show", "Hiera-S-LP"], capsys)
    assert code == 0 and "no: the paper authors' checkpoint is not public" in out


def test_models_show_any_spec_and_unknown_names(capsys):
    code, out, _ = _run(["models", "show", "torchvision:resnet18"], capsys)
    assert code == 0 and "torchvision:resnet18:IMAGENET1K_V1" in out and "11.7 M" in out
    code, _, err = _run(["models", "show", "ResNet5"], capsys)
    assert code == 2 and "no model 'ResNet5'" in err and "ResNet50" in err
    code, _, err = _run(["models", "show", "timm:resnet_18"], capsys)
    assert code == 2 and "timm has no model" in err


def test_models_sources_lists_the_syntax(capsys):
    code, out, _ = _run(["models", "sources"], capsys)
    assert code == 0
    for syntax in ("timm:NAME", "torchvision:NAME[:WEIGHTS]", "open_clip:ARCH/PRETRAINED"):
        assert syntax in out
    assert "quba[clip]" in out
