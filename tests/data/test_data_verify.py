"""verify: every dataset's status against the full count, and every defect with its path."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from quba.data.suites import IMAGENET_SUITE
from quba.data.testing import make_imagenet_tree
from quba.data.verify import dataset_problems, require_datasets, verify
from quba.errors import DataError


def kinds(report, key):
    return {(p.kind, p.path) for p in report[key].problems}


def test_complete_tree_is_present_everywhere(tiny_tree):
    report = verify(tiny_tree.suite, tiny_tree.root, deep=True)
    assert report.ok
    assert [d.status for d in report.datasets] == ["present"] * 10
    assert {d.key: d.found for d in report.datasets} == tiny_tree.counts
    assert all(d.found == d.expected for d in report.datasets)


def test_against_the_full_suite_a_tiny_tree_is_partial_with_counts(tiny_tree):
    report = verify(IMAGENET_SUITE, tiny_tree.root, ["imagenet_val", "imagenet_c", "edge"])
    assert not report.ok
    val = report["imagenet_val"]
    assert (val.status, val.found, val.expected) == ("partial", 6, 50_000)
    corruptions = report["imagenet_c"]
    assert (corruptions.found, corruptions.expected) == (60, 3_750_000)
    missing = [p for p in corruptions.problems if p.path == tiny_tree.root / "imagenet-c"]
    assert len(missing) == 1 and "missing 13 of 15 corruption folders" in missing[0].message
    assert report["edge"].expected == 160


def test_missing_dataset(tmp_path):
    report = verify(IMAGENET_SUITE, tmp_path, ["stylized"])
    assert report["stylized"].status == "missing"
    assert kinds(report, "stylized") == {("missing_dataset", tmp_path / "modelvshuman/stylized")}


def test_every_defect_is_reported_with_its_path(tmp_path):
    tree = make_imagenet_tree(tmp_path, broken=["imagenet_r"])
    root = tree.root
    shutil.rmtree(root / "imagenet-c/fog/3")
    (root / "imagenet-c/gaussian_noise/2/n99999999").mkdir()
    (root / "imagenet-c/blurry").mkdir()
    (root / "imagenet/val/n01440764/labels.txt").write_text("x")
    session = root / "modelvshuman/sketch/dnn/session-1"
    shutil.copy(next(session.iterdir()), session / "bad_name.png")
    cue = root / "modelvshuman/cue-conflict/airplane"
    shutil.copy(next(cue.iterdir()), cue / "airplane1-zebra2.png")
    shutil.copy(next(cue.iterdir()), cue / "airplane_knife.png")
    (root / "bg_challenge/mixed_same/val/09_robot").mkdir()

    report = verify(tree.suite, root, deep=True)
    statuses = {d.key: d.status for d in report.datasets}
    assert statuses == {
        "imagenet_val": "broken",
        "imagenet_c": "broken",
        "imagenet_r": "broken",
        "cue_conflict": "broken",
        "edge": "present",
        "silhouette": "present",
        "sketch": "broken",
        "stylized": "present",
        "mixed_same": "broken",
        "mixed_rand": "present",
    }
    c = kinds(report, "imagenet_c")
    assert ("missing_folder", root / "imagenet-c/fog") in c
    assert ("unknown_folder", root / "imagenet-c/gaussian_noise/2/n99999999") in c
    assert ("unknown_folder", root / "imagenet-c/blurry") in c
    assert ("not_an_image", root / "imagenet/val/n01440764/labels.txt") in kinds(
        report, "imagenet_val"
    )
    assert ("unreadable", tree.broken[0]) in kinds(report, "imagenet_r")
    assert ("bad_name", session / "bad_name.png") in kinds(report, "sketch")
    assert ("bad_name", cue / "airplane1-zebra2.png") in kinds(report, "cue_conflict")
    assert ("bad_name", cue / "airplane_knife.png") in kinds(report, "cue_conflict")
    assert ("unknown_folder", root / "bg_challenge/mixed_same/val/09_robot") in kinds(
        report, "mixed_same"
    )
    missing_severity = next(
        p for p in report["imagenet_c"].problems if p.path == root / "imagenet-c/fog"
    )
    assert "missing 1 of 5 severity folders: 3" in missing_severity.message


def test_shallow_verify_does_not_decode_deep_does(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["edge"], broken=["edge"])
    assert verify(tree.suite, tree.root, ["edge"]).ok
    deep = verify(tree.suite, tree.root, ["edge"], deep=True)
    assert deep["edge"].status == "broken"
    assert [(p.kind, p.path) for p in deep["edge"].errors] == [("unreadable", tree.broken[0])]


def test_extra_corruptions_and_readme_are_notes_not_defects(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_c", "imagenet_r"])
    shutil.copytree(tree.root / "imagenet-c/fog", tree.root / "imagenet-c/saturate")
    (tree.root / "imagenet-r/README.txt").write_text("ImageNet-R")
    report = verify(tree.suite, tree.root, ["imagenet_c", "imagenet_r"])
    assert report.ok
    assert {p.severity for p in report.problems} == {"note"}
    assert ("ignored", tree.root / "imagenet-c/saturate") in kinds(report, "imagenet_c")
    assert ("ignored", tree.root / "imagenet-r/README.txt") in kinds(report, "imagenet_r")


def test_more_images_than_the_full_dataset_is_broken(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["edge"])
    suite = dataclasses.replace(
        tree.suite,
        datasets={
            **tree.suite.datasets,
            "edge": dataclasses.replace(tree.suite.datasets["edge"], num_images=5),
        },
    )
    report = verify(suite, tree.root, ["edge"])
    assert report["edge"].status == "broken"
    (error,) = report["edge"].errors
    assert error.kind == "too_many_images"
    assert error.message == "found 6 images, but the full dataset has 5"


def test_dataset_problems_block_partial_data_unless_allowed(tiny_tree, tmp_path):
    assert dataset_problems(tiny_tree.suite, tiny_tree.root, ["edge", "imagenet_c"]) == []
    partial = dataset_problems(IMAGENET_SUITE, tiny_tree.root, ["edge"])
    assert [p.kind for p in partial] == ["missing_folder"]
    assert dataset_problems(IMAGENET_SUITE, tiny_tree.root, ["edge"], allow_partial=True) == []
    missing = dataset_problems(IMAGENET_SUITE, tmp_path, ["edge"], allow_partial=True)
    assert [p.kind for p in missing] == ["missing_dataset"]
    with pytest.raises(DataError, match=r"edge: .*modelvshuman/edge: dataset folder does not"):
        require_datasets(IMAGENET_SUITE, tmp_path, ["edge"], allow_partial=True)
    require_datasets(tiny_tree.suite, tiny_tree.root, ["edge"])
