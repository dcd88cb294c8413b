"""Label spaces: the classes a classifier predicts, and how each dataset reads a prediction.

The tables here are the facts of PROTOCOL.md ("Label mappings") and live nowhere else:

- the 1000 ImageNet classes, indexed by the *sorted* list of WordNet ids (timm ships it);
- the 16 categories of the model-vs-human datasets, each a set of ImageNet indices (207 in all);
- the nine ImageNet-9 classes of the Backgrounds Challenge (370 ImageNet indices in all);
- the 200 ImageNet-R classes, a fixed subset of the 1000 (timm ships the list).

A :class:`LabelSpace` bundles them so that a suite of other data (the embedded synthetic
benchmark) can describe its own counterparts and no metric needs to know which suite it reads.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def parse_indices(text: str) -> tuple[int, ...]:
    """Expand ``"8, 10–16, 18"`` (en dash or hyphen ranges, inclusive) into sorted indices."""
    indices: list[int] = []
    for part in text.split(","):
        part = part.strip().replace("–", "-")
        if "-" in part:
            low, high = (int(x) for x in part.split("-"))
            indices.extend(range(low, high + 1))
        else:
            indices.append(int(part))
    return tuple(sorted(indices))


# model-vs-human's 16 categories, alphabetical; the order is the category index.
_CATEGORIES_16 = {
    "airplane": "404",
    "bear": "294–297",
    "bicycle": "444, 671",
    "bird": "8, 10–16, 18–20, 22–24, 80–83, 87–96, 98–100, 127–133, 135–145",
    "boat": "472, 554, 625, 814, 914",
    "bottle": "440, 720, 737, 898, 899, 901, 907",
    "car": "436, 511, 817",
    "cat": "281–286",
    "chair": "423, 559, 765, 857",
    "clock": "409, 530, 892",
    "dog": "152–191, 193–203, 205–226, 228–241, 243–250, 252–257, 259, 261–263, 265–268",
    "elephant": "385, 386",
    "keyboard": "508, 878",
    "knife": "499",
    "oven": "766",
    "truck": "555, 569, 656, 675, 717, 734, 864, 867",
}

# ImageNet-9 (Backgrounds Challenge); the order is the IN-9 index and the folder prefix NN_.
_IMAGENET_9 = {
    "dog": "151–170, 173–268",
    "bird": "7–24, 87–100, 127–146",
    "wheeled vehicle": (
        "407, 408, 428, 436, 444, 468, 511, 547, 555, 561, 565, 569, 573, 586, 603, 609, 612, "
        "627, 656, 661, 665, 670, 671, 675, 690, 705, 717, 734, 751, 757, 791, 802, 803, 817, "
        "820, 829, 847, 864, 866, 867, 870, 880"
    ),
    "reptile": "33–68",
    "carnivore": "269–280, 286–299, 356–362, 387, 388",
    "insect": "300–326",
    "musical instrument": (
        "401, 402, 420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579, 593, 594, 641, 642, "
        "683, 684, 687, 699, 776, 822, 875, 881, 889"
    ),
    "primate": "365–384",
    "fish": "0–6, 389–397",
}

CATEGORIES_16: Mapping[str, tuple[int, ...]] = {
    name: parse_indices(text) for name, text in _CATEGORIES_16.items()
}
IMAGENET_9: Mapping[str, tuple[int, ...]] = {
    name: parse_indices(text) for name, text in _IMAGENET_9.items()
}


@functools.cache
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ImageNet-1k WordNet ids in sorted order; position = class index."""
    from timm.data import ImageNetInfo

    wnids = tuple(ImageNetInfo("imagenet-1k").label_names())
    if len(wnids) != 1000 or list(wnids) != sorted(wnids):
        raise RuntimeError("timm's ImageNet-1k synset list is not the 1000 sorted wnids")
    return wnids


@functools.cache
def imagenet_r_wnids() -> tuple[str, ...]:
    """The 200 ImageNet-R WordNet ids (its folder names), sorted."""
    import pkgutil

    data = pkgutil.get_data("timm.data", "_info/imagenet_r_synsets.txt")
    if data is None:
        raise RuntimeError("timm does not ship imagenet_r_synsets.txt")
    wnids = tuple(sorted(line.strip() for line in data.decode().splitlines() if line.strip()))
    if len(wnids) != 200:
        raise RuntimeError(f"timm's ImageNet-R synset list has {len(wnids)} entries, not 200")
    return wnids


@dataclass(frozen=True)
class LabelSpace:
    """The output space of a classifier and the label mappings its datasets need.

    Attributes:
        name: identifier stored with every result, e.g. ``"imagenet-1k"``.
        classes: folder ids (WordNet ids for ImageNet) in output-index order; a dataset folder
            named ``classes[i]`` holds images of class ``i``, whatever other folders exist.
        categories: the 16-category counterparts (name -> class indices), in category-index
            order. A category's probability is the mean of ``p`` over its indices.
        object_classes: the ImageNet-9 counterparts (name -> class indices), in IN-9 index order;
            Backgrounds Challenge folders are named ``f"{index:02d}_{name}"``.
        rendition_classes: the class indices kept by the ImageNet-R masked argmax, ascending.
    """

    name: str
    classes: tuple[str, ...]
    categories: Mapping[str, tuple[int, ...]]
    object_classes: Mapping[str, tuple[int, ...]]
    rendition_classes: tuple[int, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @functools.cached_property
    def class_index(self) -> Mapping[str, int]:
        """Folder id -> class index."""
        return {wnid: i for i, wnid in enumerate(self.classes)}

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(self.categories)

    @property
    def object_class_names(self) -> tuple[str, ...]:
        return tuple(self.object_classes)

    @property
    def object_class_folders(self) -> tuple[str, ...]:
        """Backgrounds Challenge folder names: ``00_dog``, ``01_bird``, …"""
        return tuple(f"{i:02d}_{name}" for i, name in enumerate(self.object_classes))

    @functools.cached_property
    def object_class_of(self) -> np.ndarray:
        """Class index -> object class (IN-9) index, or -1 for classes that map to none."""
        table = np.full(self.num_classes, -1, dtype=np.int64)
        for k, indices in enumerate(self.object_classes.values()):
            table[list(indices)] = k
        return table


@functools.cache
def imagenet_label_space() -> LabelSpace:
    """The label space of ImageNet-1k classifiers, with the tables of PROTOCOL.md."""
    wnids = imagenet_wnids()
    index = {w: i for i, w in enumerate(wnids)}
    return LabelSpace(
        name="imagenet-1k",
        classes=wnids,
        categories=CATEGORIES_16,
        object_classes=IMAGENET_9,
        rendition_classes=tuple(sorted(index[w] for w in imagenet_r_wnids())),
    )


def validate_label_space(space: LabelSpace) -> None:
    """Check that every index in a label space's mappings is a valid class index."""
    groups: Sequence[tuple[str, Mapping[str, tuple[int, ...]]]] = (
        ("categories", space.categories),
        ("object_classes", space.object_classes),
    )
    for field, mapping in groups:
        for name, indices in mapping.items():
            bad = [i for i in indices if not 0 <= i < space.num_classes]
            if bad:
                raise ValueError(f"{space.name}: {field}[{name!r}] holds invalid indices {bad}")
    if len(set(space.classes)) != space.num_classes:
        raise ValueError(f"{space.name}: class ids are not unique")
