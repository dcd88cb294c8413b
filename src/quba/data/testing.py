"""Tiny datasets in the exact on-disk layouts of the ImageNet suite, for tests and smoke runs.

:func:`make_imagenet_tree` writes a few classes with a few small real JPEG/PNG images each, for
every dataset key (or a chosen few), as the published datasets unpack: wnid folders, the flat
ImageNet val layout with ``LOC_val_solution.csv`` or the devkit files, ImageNet-C's
corruption/severity/wnid tree, model-vs-human's category folders and ``dnn/session-1`` names,
the Backgrounds Challenge's ``NN_name`` folders. It returns a :class:`TinyTree` whose ``suite``
expects exactly the images written, so ``verify`` calls it complete.

    >>> tree = make_imagenet_tree(tmp_path, datasets=["imagenet_val", "imagenet_c"])
    >>> ds = open_dataset(tree.suite, "imagenet_c", tree.root)
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from quba.data.layouts import DEVKIT_FOLDER, DEVKIT_GROUND_TRUTH, DEVKIT_META, LOC_SOLUTION
from quba.data.suites import IMAGENET_SUITE, Suite

ValLayout = Literal["folders", "loc_csv", "devkit"]

DEFAULT_CORRUPTIONS: tuple[str, ...] = ("gaussian_noise", "fog")


@dataclass(frozen=True)
class TinyTree:
    """What :func:`make_imagenet_tree` wrote.

    Attributes:
        root: the data root.
        suite: the ImageNet suite with ``num_images`` (and corruptions, severities) set to what
            was written, so that ``verify(tree.suite, tree.root)`` reports every dataset present.
        counts: images written per dataset key.
        files: relative paths written per dataset key, sorted.
        targets: the expected target of each file in ``files`` (independently of the readers).
        broken: absolute paths of the files written broken (not decodable).
    """

    root: Path
    suite: Suite
    counts: dict[str, int]
    files: dict[str, list[str]] = field(default_factory=dict)
    targets: dict[str, list[int]] = field(default_factory=dict)
    broken: tuple[Path, ...] = ()


def _spread(values: Sequence, count: int) -> list:
    """``count`` values evenly spread over ``values`` (all of them when count >= len)."""
    if count >= len(values):
        return list(values)
    positions = np.linspace(0, len(values) - 1, count).round().astype(int)
    return [values[p] for p in positions]


class _Writer:
    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)

    def image(self, path: Path, label: int) -> None:
        """A small image: a colour that depends on the label, plus noise."""
        path.parent.mkdir(parents=True, exist_ok=True)
        base = np.array([(label * 37) % 256, (label * 91) % 256, (label * 53) % 256])
        noise = self.rng.integers(-40, 40, size=(self.size, self.size, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        fmt = "PNG" if path.suffix.lower() == ".png" else "JPEG"
        Image.fromarray(pixels).save(buffer, format=fmt)
        path.write_bytes(buffer.getvalue())


def break_image(path: Path) -> None:
    """Make an image file undecodable: keep its first bytes (a valid header), drop the rest."""
    data = path.read_bytes()
    path.write_bytes(data[: max(8, len(data) // 8)])


def write_devkit_meta(path: Path, id_to_wnid: dict[int, str]) -> None:
    """Write a ``meta.mat`` in the devkit's structure: a ``synsets`` struct array with fields
    ILSVRC2012_ID, WNID, words, gloss, num_children, children, wordnet_height, num_train_images.

    Also writes one non-leaf synset (ID 1001, like the real file's internal nodes).
    """
    import scipy.io

    names = (
        "ILSVRC2012_ID",
        "WNID",
        "words",
        "gloss",
        "num_children",
        "children",
        "wordnet_height",
        "num_train_images",
    )
    entries = [
        (i, w, f"class {w}", "", 0, np.zeros((1, 0)), 0, 1300) for i, w in id_to_wnid.items()
    ]
    entries.append((1001, "n00001740", "entity", "", 1, np.array([[1]]), 18, 0))
    synsets = np.empty((len(entries), 1), dtype=[(n, object) for n in names])
    for row, values in enumerate(entries):
        for name, value in zip(names, values, strict=True):
            synsets[row, 0][name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(path), {"synsets": synsets})


def make_imagenet_tree(
    root: Path | str,
    *,
    datasets: Iterable[str] | None = None,
    classes: int | Sequence[int] = 3,
    categories: int | Sequence[str] = 3,
    object_classes: int = 3,
    images_per_class: int = 2,
    corruptions: Sequence[str] = DEFAULT_CORRUPTIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    val_layout: ValLayout = "folders",
    broken: Iterable[str] = (),
    image_size: int = 16,
    seed: int = 0,
) -> TinyTree:
    """Write tiny datasets of the ImageNet suite under ``root`` in their real layouts.

    Args:
        root: the data root to write into (created if needed).
        datasets: dataset keys to write; all ten by default.
        classes: ImageNet class indices for ``imagenet_val`` and ``imagenet_c``, or a count
            spread evenly over the 1000; ``imagenet_r`` takes as many of its 200 classes, spread.
        categories: 16-category names for the model-vs-human sets, or a count (spread).
        object_classes: how many of the nine Backgrounds Challenge folders to fill (spread).
        images_per_class: images per class, category or object class (per corruption and
            severity for ImageNet-C).
        corruptions, severities: the ImageNet-C folders to write.
        val_layout: ``folders`` (wnid folders), ``loc_csv`` (flat, with ``LOC_val_solution.csv``
            in the parent folder) or ``devkit`` (flat, with the devkit's ground truth and a
            ``meta.mat`` whose IDs are a shuffled order of the wnids).
        broken: dataset keys in which the first image is written undecodable.
        image_size: side of the square images, in pixels.
        seed: seeds the pixels and the devkit ID order.
    """
    root = Path(root)
    space = IMAGENET_SUITE.label_space
    keys = list(IMAGENET_SUITE.datasets) if datasets is None else list(datasets)
    for key in keys:
        IMAGENET_SUITE.dataset(key)
    class_ids = list(classes) if not isinstance(classes, int) else _spread(range(1000), classes)
    n_classes = len(class_ids)
    category_names = (
        list(categories)
        if not isinstance(categories, int)
        else _spread(space.category_names, categories)
    )
    writer = _Writer(image_size, seed)
    files: dict[str, list[str]] = {}
    targets: dict[str, list[int]] = {}

    def put(key: str, base: Path, relative: str, target: int, colour: int | None = None) -> None:
        writer.image(base / relative, target if colour is None else colour)
        files.setdefault(key, []).append(relative)
        targets.setdefault(key, []).append(target)

    val_names: dict[tuple[int, int], str] = {}
    number = 0
    for c in sorted(class_ids):
        for j in range(images_per_class):
            number += 1
            val_names[c, j] = f"ILSVRC2012_val_{number:08d}.JPEG"

    if "imagenet_val" in keys:
        base = root / IMAGENET_SUITE.dataset("imagenet_val").path
        for (c, _), name in val_names.items():
            wnid = space.classes[c]
            put("imagenet_val", base, name if val_layout != "folders" else f"{wnid}/{name}", c)
        if val_layout == "loc_csv":
            rows = ["ImageId,PredictionString"]
            rows += [f"{n[:-5]},{space.classes[c]} 1 2 30 40" for (c, _), n in val_names.items()]
            rows.append("ILSVRC2012_val_00049999,n01440764 0 0 10 10")  # a file not written
            (base.parent / LOC_SOLUTION).write_text("\n".join(rows) + "\n")
        elif val_layout == "devkit":
            order = np.random.default_rng(seed).permutation(1000)
            id_to_wnid = {i + 1: space.classes[int(order[i])] for i in range(1000)}
            wnid_to_id = {w: i for i, w in id_to_wnid.items()}
            by_number = sorted(val_names.items(), key=lambda item: item[1])
            lines = [str(wnid_to_id[space.classes[c]]) for (c, _), _ in by_number]
            devkit = base.parent / DEVKIT_FOLDER
            devkit.mkdir(parents=True, exist_ok=True)
            (devkit / DEVKIT_GROUND_TRUTH).write_text("\n".join(lines) + "\n")
            write_devkit_meta(devkit / DEVKIT_META, id_to_wnid)

    if "imagenet_c" in keys:
        base = root / IMAGENET_SUITE.dataset("imagenet_c").path
        for corruption in corruptions:
            for severity in severities:
                for (c, _), name in val_names.items():
                    wnid = space.classes[c]
                    put("imagenet_c", base, f"{corruption}/{severity}/{wnid}/{name}", c)

    if "imagenet_r" in keys:
        base = root / IMAGENET_SUITE.dataset("imagenet_r").path
        for c in _spread(space.rendition_classes, n_classes):
            for j in range(images_per_class):
                put("imagenet_r", base, f"{space.classes[c]}/art_{j}.jpg", c)

    category_index = {name: i for i, name in enumerate(space.category_names)}
    for key in ("edge", "silhouette"):
        if key in keys:
            base = root / IMAGENET_SUITE.dataset(key).path
            for name in category_names:
                for j in range(images_per_class):
                    put(key, base, f"{name}/{name}{j + 1}.png", category_index[name])

    if "cue_conflict" in keys:
        base = root / IMAGENET_SUITE.dataset("cue_conflict").path
        all_names = space.category_names
        for shape in category_names:
            for j in range(images_per_class):
                # the first image of each shape has its own texture (skipped by shape bias)
                texture = shape if j == 0 else all_names[(all_names.index(shape) + j) % 16]
                relative = f"{shape}/{shape}{j + 1}-{texture}{j + 1}.png"
                put("cue_conflict", base, relative, category_index[shape])

    for key, tag in (("sketch", "sk"), ("stylized", "st")):
        if key in keys:
            base = root / IMAGENET_SUITE.dataset(key).path
            count = 0
            for name in category_names:
                for j in range(images_per_class):
                    count += 1
                    relative = f"dnn/session-1/{count:04d}_{tag}_dnn_0_{name}_{j:02d}_{name}.png"
                    put(key, base, relative, category_index[name])

    folders = _spread(space.object_class_folders, object_classes)
    for key in ("mixed_same", "mixed_rand"):
        if key in keys:
            base = root / IMAGENET_SUITE.dataset(key).path
            for folder in folders:
                index = space.object_class_folders.index(folder)
                for j in range(images_per_class):
                    put(key, base, f"{folder}/img_{index}_{j:03d}.JPEG", index)

    broken_paths = []
    for key in broken:
        first = sorted(files[key])[0]
        path = root / IMAGENET_SUITE.dataset(key).path / first
        break_image(path)
        broken_paths.append(path)

    order = {key: np.argsort(np.asarray(files[key], dtype=str), kind="stable") for key in files}
    files = {key: [files[key][i] for i in order[key]] for key in files}
    targets = {key: [targets[key][i] for i in order[key]] for key in targets}
    counts = {key: len(files.get(key, [])) for key in keys}
    suite = dataclasses.replace(
        IMAGENET_SUITE,
        name="imagenet-tiny",
        datasets={
            key: dataclasses.replace(info, num_images=counts.get(key, info.num_images))
            for key, info in IMAGENET_SUITE.datasets.items()
        },
        corruptions=tuple(corruptions),
        severities=tuple(severities),
    )
    return TinyTree(root, suite, counts, files, targets, tuple(broken_paths))


# -- a local HTTP server for download tests ---------------------------------------------------


class FileServer:
    """Serves in-memory files over HTTP on 127.0.0.1, with ``Range`` support.

    Attributes:
        files: path (without the leading ``/``) -> bytes served.
        cut: path -> how many of the next responses to cut half-way through the body (the
            connection closes after half of the announced ``Content-Length``).
        ranges: whether ``Range: bytes=N-`` requests are honoured (206) or ignored (200).
        requests: ``(path, Range header or None)`` of every request received.
    """

    def __init__(self, files: dict[str, bytes], *, ranges: bool = True) -> None:
        import http.server
        import threading

        self.files = dict(files)
        self.cut: dict[str, int] = {}
        self.ranges = ranges
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def _answer(self, handler) -> None:
        import re

        name = handler.path.lstrip("/")
        header = handler.headers.get("Range")
        self.requests.append((name, header))
        data = self.files.get(name)
        if data is None:
            handler.send_error(404, "not found")
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", header or "")
        if match and self.ranges:
            start = int(match.group(1))
            if start >= len(data):
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(data)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            handler.send_response(200)
        body = data[start:]
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Content-Type", "application/octet-stream")
        handler.end_headers()
        if self.cut.get(name, 0) > 0:
            self.cut[name] -= 1
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(body)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def make_tar(source: Path, archive: Path, arcname: str | None = None) -> bytes:
    """Pack the folder ``source`` into a ``.tar.gz`` (or ``.tar``) as ``arcname``; return bytes."""
    import tarfile

    mode = "w:gz" if archive.name.endswith(".gz") else "w"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode) as tar:
        tar.add(source, arcname=arcname if arcname is not None else source.name)
    return archive.read_bytes()
