"""Readers of every layout: labels looked up in the label space, never numbered by folder order."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from timm.data import ImageNetInfo

from quba.data.dataset import open_dataset
from quba.data.labels import CATEGORIES_16, IMAGENET_9
from quba.data.layouts import parse_cue_conflict_name, parse_session_name, scan_dataset
from quba.data.suites import IMAGENET_SUITE
from quba.data.testing import make_imagenet_tree
from quba.errors import DataError

# An independent source of the class index of a wnid: timm's own list, read here directly.
TIMM_WNIDS = list(ImageNetInfo("imagenet-1k").label_names())
CATEGORY_NAMES = sorted(CATEGORIES_16)  # model-vs-human's categories are alphabetical


def test_class_folders_label_each_wnid_by_its_sorted_imagenet_index(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "imagenet_val", tiny_tree.root)
    wnids = [file.split("/")[0] for file in ds.files]
    assert ds.layout == "class_folders"
    assert ds.targets.tolist() == [TIMM_WNIDS.index(w) for w in wnids]
    assert sorted(set(ds.targets.tolist())) == [5, 281, 999]
    assert ds.files == sorted(ds.files) and len(ds) == 6


@pytest.mark.parametrize("val_layout", ["loc_csv", "devkit"])
def test_flat_imagenet_val_is_labelled_like_the_folder_layout(tmp_path, tiny_tree, val_layout):
    tree = make_imagenet_tree(
        tmp_path, datasets=["imagenet_val"], classes=[5, 281, 999], val_layout=val_layout
    )
    flat = open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root)
    folders = open_dataset(IMAGENET_SUITE, "imagenet_val", tiny_tree.root)
    by_name = {f.split("/")[1]: t for f, t in zip(folders.files, folders.targets, strict=True)}
    assert flat.layout == "imagenet_flat"
    assert flat.files == sorted(by_name)
    assert flat.targets.tolist() == [by_name[f] for f in flat.files]


def test_devkit_ids_are_converted_through_meta_mat_not_read_as_sorted_indices(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"], classes=[0], val_layout="devkit")
    truth = tree.root / "imagenet/ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt"
    ids = {int(x) for x in truth.read_text().split()}
    assert ids != {1}  # the shuffled devkit order gives class 0 another ID
    ds = open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root)
    assert ds.targets.tolist() == [0, 0]


def test_devkit_folder_inside_the_flat_val_folder_is_found_and_left_aside(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"], val_layout="devkit")
    val = tree.root / "imagenet/val"
    shutil.move(tree.root / "imagenet/ILSVRC2012_devkit_t12", val / "ILSVRC2012_devkit_t12")
    ds = open_dataset(tree.suite, "imagenet_val", tree.root)
    assert ds.layout == "imagenet_flat"
    assert ds.targets.tolist() == tree.targets["imagenet_val"]
    scan = scan_dataset(tree.suite, "imagenet_val", val)
    assert [(p.kind, p.path.name) for p in scan.problems] == [("ignored", "ILSVRC2012_devkit_t12")]


def test_a_stray_folder_among_flat_val_images_is_an_error(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"], val_layout="loc_csv")
    (tree.root / "imagenet/val/backup").mkdir()
    with pytest.raises(DataError, match=r"val/backup: unexpected folder among flat image files"):
        open_dataset(tree.suite, "imagenet_val", tree.root)


def test_flat_val_without_label_file_names_what_is_expected(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"], val_layout="loc_csv")
    (tree.root / "imagenet" / "LOC_val_solution.csv").unlink()
    with pytest.raises(DataError, match=r"LOC_val_solution\.csv.*ILSVRC2012_validation"):
        open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root)


def test_loc_csv_file_without_a_row_is_an_error(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"], val_layout="loc_csv")
    shutil.copy(
        tree.root / "imagenet/val/ILSVRC2012_val_00000001.JPEG",
        tree.root / "imagenet/val/ILSVRC2012_val_00012345.JPEG",
    )
    with pytest.raises(DataError, match=r"ILSVRC2012_val_00012345\.JPEG: file not listed"):
        open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root)


def test_imagenet_c_subset_of_corruptions_and_severities(tmp_path):
    tree = make_imagenet_tree(
        tmp_path,
        datasets=["imagenet_c"],
        classes=[7, 400],
        corruptions=["fog", "pixelate"],
        severities=[2, 5],
    )
    ds = open_dataset(IMAGENET_SUITE, "imagenet_c", tree.root)
    meta = ds.metadata()
    parts = [f.split("/") for f in ds.files]
    assert len(ds) == 2 * 2 * 2 * 2
    assert meta["corruption"].tolist() == [p[0] for p in parts]
    assert meta["severity"].tolist() == [int(p[1]) for p in parts]
    assert meta["severity"].dtype == np.int64
    assert ds.targets.tolist() == [TIMM_WNIDS.index(p[2]) for p in parts]
    assert set(meta["corruption"]) == {"fog", "pixelate"}


def test_imagenet_c_extra_corruptions_are_left_aside(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_c"], corruptions=["fog"])
    shutil.copytree(tree.root / "imagenet-c/fog", tree.root / "imagenet-c/spatter")
    ds = open_dataset(IMAGENET_SUITE, "imagenet_c", tree.root)
    assert set(ds.metadata()["corruption"]) == {"fog"}


def test_imagenet_r_reads_only_its_200_classes(tiny_tree, tmp_path):
    ds = open_dataset(IMAGENET_SUITE, "imagenet_r", tiny_tree.root)
    wnids = [f.split("/")[0] for f in ds.files]
    assert ds.targets.tolist() == [TIMM_WNIDS.index(w) for w in wnids]
    assert set(ds.targets.tolist()) <= set(IMAGENET_SUITE.label_space.rendition_classes)
    shutil.copytree(tiny_tree.root / "imagenet-r", tmp_path / "r")
    rendition = set(IMAGENET_SUITE.label_space.rendition_classes)
    other = next(w for i, w in enumerate(TIMM_WNIDS) if i not in rendition)
    (tmp_path / "r" / other).mkdir()  # a valid ImageNet wnid, but not an ImageNet-R class
    with pytest.raises(DataError, match=rf"unknown class folder '{other}'"):
        open_dataset(IMAGENET_SUITE, "imagenet_r", path=tmp_path / "r")


@pytest.mark.parametrize("key", ["edge", "silhouette"])
def test_category_folders_label_by_category_name(tiny_tree, key):
    ds = open_dataset(IMAGENET_SUITE, key, tiny_tree.root)
    names = [f.split("/")[0] for f in ds.files]
    assert ds.targets.tolist() == [CATEGORY_NAMES.index(n) for n in names]
    assert len(set(names)) == 3


def test_cue_conflict_shape_is_the_target_and_texture_the_metadata(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "cue_conflict", tiny_tree.root)
    meta = ds.metadata()
    for file, target, texture in zip(ds.files, ds.targets, meta["texture"], strict=True):
        folder, name = file.split("/")
        stem = name.removesuffix(".png")
        shape_part, texture_part = stem.split("-")
        assert CATEGORY_NAMES[target] == folder == shape_part.rstrip("0123456789")
        assert CATEGORY_NAMES[texture] == texture_part.rstrip("0123456789")
    assert (meta["texture"] == ds.targets).sum() == 3  # one same-class image per shape


def test_parse_cue_conflict_name():
    assert parse_cue_conflict_name("cat3-knife1.png") == ("cat", "knife")
    assert parse_cue_conflict_name("airplane10-bicycle2.png") == ("airplane", "bicycle")
    assert parse_cue_conflict_name("cue-conflict/cat/cat-knife.png") == ("cat", "knife")
    for bad in ("cat3.png", "cat3-knife1-dog2.png", "3cat-knife1.png", "cat3_knife1.png"):
        with pytest.raises(ValueError, match="cue-conflict file name"):
            parse_cue_conflict_name(bad)


def test_cue_conflict_names_that_do_not_parse_or_disagree_with_the_folder(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["cue_conflict"])
    folder = tree.root / "modelvshuman/cue-conflict/airplane"
    source = next(folder.iterdir())
    shutil.copy(source, folder / "airplane1.png")
    with pytest.raises(DataError, match=r"airplane1\.png.*cue-conflict file name"):
        open_dataset(IMAGENET_SUITE, "cue_conflict", tree.root)
    (folder / "airplane1.png").rename(folder / "bear1-cat2.png")
    with pytest.raises(DataError, match=r"bear1-cat2\.png.*folder 'airplane'"):
        open_dataset(IMAGENET_SUITE, "cue_conflict", tree.root)


@pytest.mark.parametrize("key", ["sketch", "stylized"])
def test_session_files_take_the_category_from_the_fifth_field(tiny_tree, key):
    ds = open_dataset(IMAGENET_SUITE, key, tiny_tree.root)
    fifth = [f.split("/")[-1].split("_")[4] for f in ds.files]
    assert all(f.startswith("dnn/session-1/") for f in ds.files)
    assert ds.targets.tolist() == [CATEGORY_NAMES.index(c) for c in fifth]


def test_parse_session_name():
    assert parse_session_name("0001_sk_dnn_0_boat_00_boat-x_y.png") == "boat"
    with pytest.raises(ValueError, match="at least six"):
        parse_session_name("0001_sk_dnn_0_boat.png")


def test_session_file_with_unknown_category_is_a_layout_error(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["sketch"])
    session = tree.root / "modelvshuman/sketch/dnn/session-1"
    shutil.copy(next(session.iterdir()), session / "0099_sk_dnn_0_zebra_00_x.png")
    with pytest.raises(DataError, match=r"0099_sk_dnn_0_zebra_00_x\.png.*fifth field 'zebra'"):
        open_dataset(IMAGENET_SUITE, "sketch", tree.root)


def test_backgrounds_challenge_folders_map_to_imagenet9_indices(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["mixed_rand"], object_classes=9)
    ds = open_dataset(IMAGENET_SUITE, "mixed_rand", tree.root)
    folders = [f.split("/")[0] for f in ds.files]
    assert "02_wheeled vehicle" in folders and "06_musical instrument" in folders
    names = list(IMAGENET_9)
    assert ds.targets.tolist() == [names.index(f[3:]) for f in folders]
    assert ds.targets.tolist() == [int(f[:2]) for f in folders]


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda d: shutil.rmtree(d), r"has no images .*does not exist"),
        (lambda d: (d / "n99999999").mkdir(), r"n99999999: unknown class folder 'n99999999'"),
        (lambda d: (next(d.iterdir()) / "notes.txt").write_text("x"), r"notes\.txt: not an image"),
        (lambda d: (next(d.iterdir()) / "sub").mkdir(), r"sub: unexpected sub-folder"),
        (lambda d: [shutil.rmtree(c) for c in d.iterdir()], r"has no images"),
    ],
    ids=["missing-folder", "unknown-wnid", "not-an-image", "nested-folder", "empty"],
)
def test_layout_errors_name_the_path(tmp_path, mutate, pattern):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"])
    mutate(tree.root / "imagenet" / "val")
    with pytest.raises(DataError, match=pattern):
        open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root)


def test_path_argument_and_environment_override_the_location(tiny_tree, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere"
    shutil.copytree(tiny_tree.root / "modelvshuman/edge", moved)
    assert len(open_dataset(IMAGENET_SUITE, "edge", tmp_path / "empty-root", path=moved)) == 6
    monkeypatch.setenv("QUBA_DATA_EDGE", str(moved))
    assert len(open_dataset(IMAGENET_SUITE, "edge", tmp_path / "empty-root")) == 6
