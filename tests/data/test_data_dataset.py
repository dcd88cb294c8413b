"""ImageDataset: items, metadata, splitting, pickling for workers, fingerprints, bad images."""

from __future__ import annotations

import hashlib
import pickle
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from quba.data import dataset as dataset_module
from quba.data.dataset import collate, open_dataset, shard_ranges
from quba.data.suites import IMAGENET_SUITE
from quba.data.testing import make_imagenet_tree
from quba.errors import DataError
from quba.models.preprocessing import Preprocessing


def test_items_are_image_target_and_index(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "imagenet_val", tiny_tree.root)
    image, target, index = ds[3]
    expected = np.asarray(Image.open(tiny_tree.root / "imagenet/val" / ds.files[3]).convert("RGB"))
    assert isinstance(image, Image.Image) and np.array_equal(np.asarray(image), expected)
    assert (target, index) == (tiny_tree.targets["imagenet_val"][3], 3)
    sample = ds.samples[3]
    assert sample.path == tiny_tree.root / "imagenet/val" / ds.files[3]
    assert sample.target == target and sample.metadata == {"file": ds.files[3]}
    assert [s.target for s in ds.samples] == ds.targets.tolist()
    assert ds.targets.dtype == np.int64


def test_transform_is_applied(tiny_tree):
    transform = Preprocessing(resize=20, crop=12).transform()
    ds = open_dataset(IMAGENET_SUITE, "edge", tiny_tree.root, transform=transform)
    image, _, _ = ds[0]
    assert isinstance(image, torch.Tensor) and tuple(image.shape) == (3, 12, 12)


def test_imagenet_c_sample_metadata(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "imagenet_c", tiny_tree.root)
    sample = ds.samples[-1]
    corruption, severity, wnid, _ = sample.metadata["file"].split("/")
    assert sample.metadata["corruption"] == corruption == "gaussian_noise"
    assert sample.metadata["severity"] == int(severity) == 5
    assert IMAGENET_SUITE.label_space.classes[sample.target] == wnid
    assert set(ds.metadata()) == {"file", "corruption", "severity"}


def test_shard_ranges_cover_everything_once():
    assert shard_ranges(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert shard_ranges(2, 4) == [(0, 1), (1, 2), (2, 2), (2, 2)]
    with pytest.raises(ValueError, match="larger than 0"):
        shard_ranges(5, 0)


def test_subset_and_shards_keep_the_sample_ids_of_the_full_dataset(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "imagenet_c", tiny_tree.root)
    shards = [ds.shard(i, 4) for i in range(4)]
    ids = np.concatenate([s.sample_ids for s in shards])
    assert ids.tolist() == list(range(len(ds)))
    shard = shards[2]
    for position in range(len(shard)):
        _, target, sample_id = shard[position]
        assert target == ds.targets[sample_id]
        assert shard.files[position] == ds.files[sample_id]
    picked = ds.subset([7, 2])
    assert picked.sample_ids.tolist() == [7, 2]
    assert picked.metadata()["severity"].tolist() == ds.metadata()["severity"][[7, 2]].tolist()
    assert picked.subset([1]).sample_ids.tolist() == [2]
    with pytest.raises(IndexError):
        ds.subset([len(ds)])


def test_dataset_pickles_and_feeds_dataloader_workers(tiny_tree):
    transform = Preprocessing(resize=16, crop=16).transform()
    ds = open_dataset(IMAGENET_SUITE, "imagenet_c", tiny_tree.root, transform=transform)
    clone = pickle.loads(pickle.dumps(ds))
    assert clone.files == ds.files and np.array_equal(clone.targets, ds.targets)
    loader = DataLoader(ds, batch_size=16, num_workers=2, collate_fn=collate)
    seen_ids, seen_targets = [], []
    for images, targets, ids in loader:
        assert images.shape[1:] == (3, 16, 16) and images.dtype == torch.float32
        seen_ids += ids.tolist()
        seen_targets += targets.tolist()
    assert seen_ids == list(range(len(ds)))
    assert seen_targets == ds.targets.tolist()


def test_fingerprint_is_stable_location_free_and_sensitive_to_files(tiny_tree, tmp_path):
    first = open_dataset(IMAGENET_SUITE, "edge", tiny_tree.root)
    assert first.fingerprint() == open_dataset(IMAGENET_SUITE, "edge", tiny_tree.root).fingerprint()
    copy = tmp_path / "edge"
    shutil.copytree(tiny_tree.root / "modelvshuman/edge", copy)
    assert open_dataset(IMAGENET_SUITE, "edge", path=copy).fingerprint() == first.fingerprint()

    target = copy / first.files[0]
    target.write_bytes(target.read_bytes() + b"\0")  # same names, one size differs
    resized = open_dataset(IMAGENET_SUITE, "edge", path=copy).fingerprint()
    shutil.copy(copy / first.files[0], copy / "airplane" / "airplane9.png")
    added = open_dataset(IMAGENET_SUITE, "edge", path=copy).fingerprint()
    assert len({first.fingerprint(), resized, added}) == 3
    assert first.subset([0, 1]).fingerprint() != first.fingerprint()


def test_fingerprint_depends_on_the_layout_version(tiny_tree, monkeypatch):
    before = open_dataset(IMAGENET_SUITE, "edge", tiny_tree.root).fingerprint()
    monkeypatch.setattr(dataset_module, "LAYOUT_VERSION", dataset_module.LAYOUT_VERSION + 1)
    assert open_dataset(IMAGENET_SUITE, "edge", tiny_tree.root).fingerprint() != before


def test_fingerprint_of_flat_layout_covers_the_label_file(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val"], val_layout="loc_csv")
    before = open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root).fingerprint()
    csv = tree.root / "imagenet/LOC_val_solution.csv"
    csv.write_text(csv.read_text() + "ILSVRC2012_val_00049998,n01440764 0 0 1 1\n")
    assert open_dataset(IMAGENET_SUITE, "imagenet_val", tree.root).fingerprint() != before


def test_fingerprint_hashes_relative_paths_and_sizes(tiny_tree):
    """An independent recomputation of the documented recipe."""
    import json

    ds = open_dataset(IMAGENET_SUITE, "silhouette", tiny_tree.root)
    digest = hashlib.sha256()
    header = {
        "key": "silhouette",
        "label_space": "imagenet-1k",
        "layout": "category_folders",
        "layout_version": dataset_module.LAYOUT_VERSION,
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in ds.files:
        digest.update(f"{name}\0{(ds.directory / name).stat().st_size}\n".encode())
    digest.update(np.arange(len(ds), dtype=np.int64).tobytes())
    assert ds.fingerprint() == digest.hexdigest()


def test_unreadable_image_raises_naming_the_file_or_is_skipped(tmp_path):
    tree = make_imagenet_tree(tmp_path, datasets=["mixed_same"], broken=["mixed_same"])
    broken = tree.broken[0]
    ds = open_dataset(IMAGENET_SUITE, "mixed_same", tree.root)
    position = ds.files.index(broken.relative_to(ds.directory).as_posix())
    with pytest.raises(DataError, match=rf"{broken.name}: cannot decode"):
        ds[position]
    skipping = open_dataset(
        IMAGENET_SUITE,
        "mixed_same",
        tree.root,
        skip_unreadable=True,
        transform=Preprocessing(resize=16, crop=16).transform(),
    )
    assert skipping[position] is None
    images, targets, ids = collate([skipping[i] for i in range(len(skipping))])
    assert images.shape[0] == len(ds) - 1 and position not in ids.tolist()
    assert targets.tolist() == [t for i, t in enumerate(ds.targets.tolist()) if i != position]
    empty_images, empty_targets, empty_ids = collate([None, None])
    assert empty_images.numel() == 0 and empty_targets.numel() == 0 and empty_ids.numel() == 0


def test_collate_keeps_pil_images_as_a_list(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "edge", tiny_tree.root)
    images, targets, ids = collate([ds[0], ds[1]])
    assert isinstance(images, list) and all(isinstance(i, Image.Image) for i in images)
    assert ids.tolist() == [0, 1] and targets.dtype == torch.int64


def test_with_transform_keeps_samples_and_ids_and_leaves_the_original_alone(tiny_tree):
    ds = open_dataset(IMAGENET_SUITE, "imagenet_c", tiny_tree.root)
    shard = ds.shard(1, 3)
    fingerprint = shard.fingerprint()
    transform = Preprocessing(resize=20, crop=12).transform()
    tensors = shard.with_transform(transform)
    assert shard.transform is None and tensors.transform is transform
    assert tensors.files == shard.files and tensors.sample_ids.tolist() == shard.sample_ids.tolist()
    assert tensors.metadata(files=False)["severity"].tolist() == (
        shard.metadata(files=False)["severity"].tolist()
    )
    assert tensors.fingerprint() == fingerprint
    image, target, sample_id = tensors[0]
    assert tuple(image.shape) == (3, 12, 12)
    assert (target, sample_id) == (int(shard.targets[0]), int(shard.sample_ids[0]))
    assert isinstance(shard[0][0], Image.Image)
