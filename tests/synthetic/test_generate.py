"""The generated synthetic suite: layouts, names, counts, labels, determinism, the suite."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from quba.data.labels import validate_label_space
from quba.data.suites import CORRUPTIONS, IMAGENET_SUITE, get_suite, list_suites
from quba.errors import ConfigError, DataError
from quba.synthetic import generate, load_train_scenes, read_manifest
from quba.synthetic.suite import (
    CLASS_IDS,
    SIZES,
    SizeSpec,
    dataset_infos,
    synthetic_label_space,
    train_info,
)
from quba.synthetic.world import NUM_CLASSES, SHAPES, render

TINY = SizeSpec(
    train_per_class=2,
    val_per_class=2,
    rendition_per_class=2,
    edge_per_class=1,
    session_per_class=2,
    cue_conflict_per_pair=1,
    cue_conflict_same=1,
    mixed_per_class=2,
)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    generate(root, TINY, seed=3)
    return root


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_suite_is_registered_with_the_imagenet_keys_and_paths():
    suite = get_suite("synthetic")
    assert "synthetic" in list_suites() and "synthetic-medium" in list_suites()
    assert list(suite.datasets) == list(IMAGENET_SUITE.datasets)
    for key, info in suite.datasets.items():
        real = IMAGENET_SUITE.datasets[key]
        assert (info.path, info.layout, info.label_kind) == (
            real.path,
            real.layout,
            real.label_kind,
        )
        assert info.num_images == SIZES["small"].counts()[key]
    assert suite.label_space is synthetic_label_space()
    assert train_info().path == "imagenet/train"


def test_label_space():
    space = synthetic_label_space()
    validate_label_space(space)
    assert space.name == "synthetic" and space.num_classes == NUM_CLASSES == len(CLASS_IDS)
    assert space.category_names == SHAPES
    assert [space.categories[name] for name in SHAPES] == [(k,) for k in range(NUM_CLASSES)]
    assert space.object_class_folders[0] == "00_disc"
    assert set(space.rendition_classes) < set(range(NUM_CLASSES))  # a strict subset
    assert list(space.rendition_classes) == sorted(space.rendition_classes)
    for name in SHAPES:  # names survive the cue-conflict and session-file name conventions
        assert name.isalpha()


def test_counts_match_the_suite_and_the_manifest(root):
    manifest = json.loads((root / "synthetic.json").read_text())
    counts = TINY.counts()
    assert manifest["counts"] == counts and manifest["schema_version"] == 1
    infos = dataset_infos("small")
    for key, info in infos.items():
        assert len(_files(root / info.path)) == counts[key], key
    assert len(list((root / "imagenet/train").glob("*/*.png"))) == counts["train"]


def test_class_folder_layouts(root):
    for path in ("imagenet/val", "imagenet/train"):
        folders = Counter(p.parent.name for p in (root / path).glob("*/*.*"))
        assert set(folders) == set(CLASS_IDS)
    r_folders = {p.parent.name for p in (root / "imagenet-r").glob("*/*.jpg")}
    assert r_folders == {CLASS_IDS[k] for k in synthetic_label_space().rendition_classes}
    corruptions = sorted(p.name for p in (root / "imagenet-c").iterdir())
    assert corruptions == sorted(CORRUPTIONS)
    for corruption in CORRUPTIONS:
        severities = sorted(p.name for p in (root / "imagenet-c" / corruption).iterdir())
        assert severities == ["1", "2", "3", "4", "5"]
        names = {
            p.relative_to(root / "imagenet-c" / corruption / "3")
            for p in (root / "imagenet-c" / corruption / "3").glob("*/*.JPEG")
        }
        assert names == {
            p.relative_to(root / "imagenet/val") for p in (root / "imagenet/val").glob("*/*.JPEG")
        }


def test_images_are_32px_rgb(root):
    for path in (root / "imagenet/val").glob("*/*.JPEG"):
        with Image.open(path) as image:
            assert image.size == (32, 32) and image.mode == "RGB"


def test_cue_conflict_names(root):
    files = _files(root / "modelvshuman/cue-conflict")
    pairs = []
    for path in files:
        shape, texture = (part.rstrip("0123456789") for part in path.stem.split("-"))
        assert path.parent.name == shape and path.suffix == ".png"
        pairs.append((shape, texture))
    assert len(set(files)) == len(files)
    differ = [(a, b) for a, b in pairs if a != b]
    assert len(differ) == NUM_CLASSES * (NUM_CLASSES - 1) * TINY.cue_conflict_per_pair
    assert set(differ) == {(a, b) for a in SHAPES for b in SHAPES if a != b}
    assert sum(a == b for a, b in pairs) == NUM_CLASSES * TINY.cue_conflict_same


def test_session_file_names_carry_the_category_fifth(root):
    for name in ("sketch", "stylized"):
        files = _files(root / "modelvshuman" / name / "dnn" / "session-1")
        categories = Counter(p.name.split("_")[4] for p in files)
        assert categories == Counter({s: TINY.session_per_class for s in SHAPES})


def test_category_folders_and_backgrounds(root):
    for name in ("edge", "silhouette"):
        assert {p.parent.name for p in _files(root / "modelvshuman" / name)} == set(SHAPES)
    folders = synthetic_label_space().object_class_folders
    for variant in ("mixed_same", "mixed_rand"):
        present = {p.parent.name for p in _files(root / "bg_challenge" / variant / "val")}
        assert present == set(folders)


def test_silhouettes_are_black_on_white(root):
    image = np.asarray(Image.open(_files(root / "modelvshuman/silhouette")[0]))
    values = set(np.unique(image))
    assert 0 in values and 255 in values and (image[0, 0] == 255).all()


def test_mixed_variants_share_the_object_and_differ_in_background(root):
    same = _files(root / "bg_challenge/mixed_same/val")
    rand = _files(root / "bg_challenge/mixed_rand/val")
    assert [p.relative_to(p.parents[1]) for p in same] == [
        p.relative_to(p.parents[1]) for p in rand
    ]
    a = np.stack([np.asarray(Image.open(p)) for p in same]).astype(int)
    b = np.stack([np.asarray(Image.open(p)) for p in rand]).astype(int)
    assert np.abs(a - b).mean() > 5


def test_train_scenes_reproduce_the_train_files(root):
    scenes, files = load_train_scenes(root)
    images = np.stack([np.asarray(Image.open(f)) for f in files])
    np.testing.assert_array_equal(render(scenes), images)
    assert [CLASS_IDS.index(f.parent.name) for f in files] == scenes.shape.tolist()


@pytest.mark.slow
def test_generation_is_deterministic(root, tmp_path):
    generate(tmp_path, TINY, seed=3)
    for ours, theirs in zip(_files(root), _files(tmp_path), strict=True):
        assert ours.relative_to(root) == theirs.relative_to(tmp_path)
        if ours.name != "synthetic.json":
            assert ours.read_bytes() == theirs.read_bytes(), ours


def test_refuses_to_overwrite(root, tmp_path):
    with pytest.raises(DataError, match="holds a synthetic suite of size 'custom' and seed 3"):
        generate(root, "small", seed=0)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match=r"is not empty and holds no synthetic\.json"):
        generate(tmp_path, TINY)
    with pytest.raises(ConfigError, match="size to be one of small, medium, but got 'huge'"):
        generate(tmp_path / "new", "huge")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="Expected the synthetic training split"):
        load_train_scenes(tmp_path)


def test_reuses_an_identical_suite(tmp_path):
    manifest = {
        "schema_version": 1,
        "suite": "synthetic",
        "size": "small",
        "seed": 5,
        "counts": {},
        "seconds": 1.0,
    }
    (tmp_path / "synthetic.json").write_text(json.dumps(manifest))
    assert generate(tmp_path, "small", seed=5).seconds == 1.0  # nothing was written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic.json"]
    manifest["schema_version"] = 99
    (tmp_path / "synthetic.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="schema version 99"):
        read_manifest(tmp_path)


@pytest.mark.slow
def test_small_size_matches_the_registered_suite(tmp_path):
    # Takes about 15 s on an idle 2-core machine (the budget is 60 s); not asserted, since a
    # shared CI machine may be slower.
    manifest = generate(tmp_path, "small")
    for key, info in dataset_infos("small").items():
        assert len(_files(tmp_path / info.path)) == info.num_images == manifest.counts[key]


def test_synthetic_medium_resolves_in_a_fresh_process():
    # The synthetic suites register on import of quba.synthetic; get_suite must trigger that
    # import for each of them, not only for "synthetic".
    import subprocess
    import sys

    code = (
        "from quba.data.suites import get_suite; "
        "print(get_suite('synthetic-medium').datasets['imagenet_val'].num_images)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == SIZES["medium"].counts()["imagenet_val"]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("{not json", "cannot read the synthetic suite's manifest"),
        ("[1, 2]", "schema version None"),
        ('{"schema_version": 1, "size": "small"}', "expected the fields size, seed, counts"),
    ],
)
def test_a_damaged_manifest_is_a_data_error(tmp_path, text, pattern):
    (tmp_path / "synthetic.json").write_text(text)
    with pytest.raises(DataError, match=pattern):
        read_manifest(tmp_path)
