"""The label tables of PROTOCOL.md, checked against the protocol's counts and timm's own files."""

from __future__ import annotations

import pkgutil

import numpy as np
import pytest

from quba.data.labels import (
    CATEGORIES_16,
    IMAGENET_9,
    LabelSpace,
    imagenet_label_space,
    imagenet_wnids,
    parse_indices,
    validate_label_space,
)


def test_parse_indices_expands_inclusive_ranges_with_either_dash():
    assert parse_indices("8, 10–12, 14-15") == (8, 10, 11, 12, 14, 15)


def test_sixteen_categories_hold_207_imagenet_indices_without_overlap():
    all_indices = [i for indices in CATEGORIES_16.values() for i in indices]
    assert len(CATEGORIES_16) == 16
    assert len(all_indices) == 207
    assert len(set(all_indices)) == 207
    assert list(CATEGORIES_16) == sorted(CATEGORIES_16)


def test_imagenet_9_holds_370_indices_and_leaves_630_classes_unmapped():
    space = imagenet_label_space()
    all_indices = [i for indices in IMAGENET_9.values() for i in indices]
    assert len(all_indices) == 370 == len(set(all_indices))
    assert (space.object_class_of == -1).sum() == 630
    assert space.object_class_of[0] == 8  # tench is a fish
    assert space.object_class_of[151] == 0  # Chihuahua is a dog
    assert space.object_class_folders[2] == "02_wheeled vehicle"


def test_imagenet_wnids_are_sorted_and_match_known_first_and_last():
    wnids = imagenet_wnids()
    assert wnids[0] == "n01440764" and wnids[-1] == "n15075141"
    assert imagenet_label_space().class_index["n01443537"] == 1


def test_rendition_classes_match_timms_imagenet_r_indices():
    text = pkgutil.get_data("timm.data", "_info/imagenet_r_indices.txt").decode()
    expected = sorted(int(x) for x in text.split())
    assert list(imagenet_label_space().rendition_classes) == expected
    assert len(expected) == 200


def test_validate_label_space_rejects_out_of_range_indices():
    space = LabelSpace(
        name="bad",
        classes=("a", "b"),
        categories={"x": (0, 2)},
        object_classes={"y": (1,)},
        rendition_classes=(0,),
    )
    with pytest.raises(ValueError, match=r"categories\['x'\] holds invalid indices \[2\]"):
        validate_label_space(space)
    validate_label_space(imagenet_label_space())
    assert np.all(imagenet_label_space().object_class_of >= -1)
