"""The paper's zoo: its table, specs, groups, availability and parameter counts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from quba.errors import ModelError
from quba.models import create_classifier, find_zoo_entry, get_zoo_entry, list_zoo, zoo_metadata
from quba.models.zoo import GROUPS, PARAMS_NOTES, canonical_group, load_zoo

# The steering repository's shared/ folder lies beside the checkout (in CI as here).
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "zoo.csv"
PAPER_COLUMNS = (
    "name", "display_name", "source", "family", "training_data", "paradigm", "params_m",
    "source_paper",
)  # fmt: skip

ARCHITECTURE = {
    "CNN": "cnn",
    "Transformer": "transformer",
    "Bcos models": "bcos",
    "Vision-language models": "vision-language",
}
DATA = {"ImageNet-1k": "in1k", "ImageNet-21k": "in21k"}
PARADIGM = {
    "Supervised learning": "supervised",
    "Self-supervised learning": "self-supervised",
    "Semi-supervised learning": "semi-supervised",
    "Adversarial training": "adversarial",
    "A[1,2,3]": "supervised",
}


def test_zoo_has_the_326_models_with_unique_names():
    entries = load_zoo()
    assert len(entries) == 326
    names = [e.name.casefold() for e in entries]
    assert len(set(names)) == len(names)
    specs = [e.spec for e in entries if e.spec]
    assert len(set(specs)) == len(specs)


@pytest.mark.skipif(not REFERENCE.is_file(), reason="the paper's reference table is not here")
def test_zoo_reproduces_the_papers_table_row_by_row():
    with REFERENCE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    entries = load_zoo()
    assert len(rows) == len(entries)
    for row, entry in zip(rows, entries, strict=True):
        metadata = entry.metadata()
        for column in PAPER_COLUMNS:
            expected = row[column]
            if column == "params_m":
                assert entry.params_m == (float(expected) if expected else None), entry.name
            else:
                assert metadata[column] == expected, (entry.name, column)


def test_every_entry_is_in_one_group_of_each_kind():
    for entry in load_zoo():
        assert set(entry.groups) <= set(GROUPS), entry.name
        assert ARCHITECTURE[entry.family] in entry.groups
        assert DATA.get(entry.training_data, "large-data") in entry.groups
        assert PARADIGM[entry.paradigm] in entry.groups
        if entry.paradigm == "A[1,2,3]":
            recipe = entry.name.rsplit("-", 1)[1].lower()
            assert {"rsb", recipe} <= set(entry.groups)
        kinds = [
            set(entry.groups) & set(ARCHITECTURE.values()),
            set(entry.groups) & {"in1k", "in21k", "large-data"},
            set(entry.groups) & set(PARADIGM.values()),
        ]
        assert all(len(kind) == 1 for kind in kinds), entry.name


def test_available_entries_have_a_spec_and_unavailable_ones_a_reason():
    for entry in load_zoo():
        if entry.available:
            assert entry.spec and not entry.reason, entry.name
        else:
            assert entry.spec is None and len(entry.reason) > 20, entry.name
        assert entry.params_note in ("", *PARAMS_NOTES), entry.name
    assert len(list_zoo(available=True)) + len(list_zoo(available=False)) == 326


def test_every_spec_names_published_weights_of_its_library():
    import open_clip
    import timm
    import torchvision.models as tv
    from torchvision.models import get_model_weights

    timm_names = set(timm.list_models(pretrained=True))
    clip_names = {f"{arch}/{tag}" for arch, tag in open_clip.list_pretrained()}
    torchvision_names = set(tv.list_models(module=tv))
    for entry in list_zoo(available=True):
        source, name = entry.spec.split(":", 1)
        if source == "timm":
            assert name in timm_names, entry.spec
        elif source == "torchvision":
            model, weights = name.split(":")
            assert model in torchvision_names, entry.spec
            assert weights in get_model_weights(model).__members__, entry.spec
        else:
            assert source == "open_clip" and name in clip_names, entry.spec


def test_groups_filter_and_aliases():
    cnn_21k = list_zoo(["cnn", "IN-21k"])
    assert cnn_21k and all({"cnn", "in21k"} <= set(e.groups) for e in cnn_21k)
    assert {e.name for e in list_zoo(["a2"])} == {
        e.name for e in load_zoo() if e.name.endswith("-A2")
    }
    assert all(e.available for e in list_zoo(["B-cos"], available=True))
    assert canonical_group("Vision-Language") == "vision-language"
    with pytest.raises(ModelError, match="Unknown zoo group 'resnets'"):
        list_zoo(["resnets"])


def test_zoo_metadata_by_name_prefixed_name_or_spec():
    by_name = zoo_metadata("ResNet50")
    assert by_name == zoo_metadata("zoo:resnet50") == zoo_metadata(by_name["spec"])
    assert by_name["family"] == "CNN" and by_name["training_data"] == "ImageNet-1k"
    assert by_name["paradigm"] == "Supervised learning" and by_name["display_name"] == "ResNet50"
    assert zoo_metadata("timm:not_in_the_zoo") is None
    assert find_zoo_entry("CrossViT-9dagger").display_name == "CrossViT-9†"


def test_zoo_names_resolve_and_unavailable_ones_explain_why():
    classifier = create_classifier("zoo:ResNet50-A1", pretrained=False, device="meta")
    assert classifier.spec == "zoo:ResNet50-A1"
    assert classifier.source_spec == "timm:resnet50.a1_in1k"
    assert classifier.metadata["paradigm"] == "A[1,2,3]"
    with pytest.raises(ModelError, match=r"zoo:BagNet9 .* is not available: .*bagnets"):
        create_classifier("zoo:BagNet9", pretrained=False)
    with pytest.raises(ModelError, match="no model 'ResNet5'") as error:
        get_zoo_entry("zoo:ResNet5")
    assert "ResNet50" in str(error.value)


def _check_parameter_count(entry) -> None:
    classifier = create_classifier(f"zoo:{entry.name}", pretrained=False, device="meta")
    millions = classifier.num_params / 1e6
    if entry.params_note.startswith("clip-towers"):
        import open_clip

        arch = entry.spec.split(":", 1)[1].split("/")[0]
        import torch

        with torch.device("meta"):
            full = open_clip.create_model(arch, device="meta")
        towers = sum(p.numel() for p in full.parameters()) / 1e6
        tolerance = 0.15 if entry.params_note == "clip-towers-open-clip-build" else 0.1
        if entry.params_m is not None:
            assert towers == pytest.approx(entry.params_m, abs=tolerance), "paper: both towers"
        visual = sum(p.numel() for p in full.visual.parameters())
        embed_dim = open_clip.get_model_config(arch)["embed_dim"]
        assert classifier.num_params == visual + 1000 * embed_dim
    elif entry.params_m is not None:
        assert millions == pytest.approx(entry.params_m, abs=0.1)


FAST = ["ResNet50", "GoogLeNet", "DeiT-t", "ViT-l-32-21k", "clip-resnet50"]


@pytest.mark.parametrize("name", FAST)
def test_parameter_counts_of_one_model_per_source(name):
    _check_parameter_count(get_zoo_entry(name))


@pytest.mark.slow
@pytest.mark.parametrize("name", [e.name for e in list_zoo(available=True) if e.name not in FAST])
def test_every_available_zoo_model_has_the_papers_parameter_count(name):
    _check_parameter_count(get_zoo_entry(name))
