"""The tiny zoo: small classifiers of the synthetic world, each trained with a different habit.

| factory (``python:quba.synthetic.zoo:<name>``) | training | habit |
|---|---|---|
| ``plain_cnn`` | the training split as it is | uses shape, texture and background |
| ``texture_cnn`` | object textures replaced by another class's (p = 0.9) | higher shape bias |
| ``background_cnn`` | backgrounds replaced by another class's (p = 0.9) | higher object focus |
| ``adversarial_cnn`` | PGD training, L-inf 8/255 (2 steps of 5/255) | higher adv. robustness |
| ``tiny_vit`` | the training split as it is | a small vision transformer |
| ``background_only_cnn`` | objects removed, background only | low object focus (a test model) |

Each factory returns ``(module, preprocessing)``: the module takes (N, 3, 32, 32) pixels in
[0, 1] (no normalization; the ``paper`` and ``pixel`` attack geometries coincide) and returns
logits over the 8 synthetic classes; ``module.label_space == "synthetic"``. The weights ship in
``quba/synthetic/weights/<name>.pt`` and are reproduced by ``quba synthetic train``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from quba.errors import ConfigError, ModelError
from quba.synthetic.world import IMAGE_SIZE, NUM_CLASSES, Scenes, render

logger = logging.getLogger(__name__)

WEIGHTS_SCHEMA_VERSION = 1
PREPROCESSING: dict[str, Any] = {
    "resize": IMAGE_SIZE,
    "crop": IMAGE_SIZE,
    "interpolation": "bilinear",
}

Habit = Literal["plain", "texture", "background", "adversarial", "background_only"]
Architecture = Literal["cnn", "vit"]


@dataclass(frozen=True)
class ZooEntry:
    """One model of the tiny zoo: its architecture, training habit and schedule."""

    name: str
    architecture: Architecture
    habit: Habit
    epochs: int
    lr: float
    description: str


ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("plain_cnn", "cnn", "plain", 6, 3e-3, "plain CNN"),
        ZooEntry("texture_cnn", "cnn", "texture", 8, 3e-3, "CNN trained with randomised textures"),
        ZooEntry(
            "background_cnn",
            "cnn",
            "background",
            8,
            3e-3,
            "CNN trained with randomised backgrounds",
        ),
        ZooEntry(
            "adversarial_cnn",
            "cnn",
            "adversarial",
            6,
            3e-3,
            "CNN adversarially trained (PGD, 8/255, 2 steps of 5/255)",
        ),
        ZooEntry("tiny_vit", "vit", "plain", 10, 1e-3, "small vision transformer"),
        ZooEntry(
            "background_only_cnn",
            "cnn",
            "background_only",
            3,
            3e-3,
            "CNN that only ever saw backgrounds (a test model)",
        ),
    )
}
"""The zoo, in training order; the demo uses all but ``background_only_cnn``."""

DEMO_MODELS: tuple[str, ...] = (
    "plain_cnn",
    "texture_cnn",
    "background_cnn",
    "adversarial_cnn",
    "tiny_vit",
)


# ----------------------------------------------------------------------------- architectures


def build(architecture: Architecture, num_classes: int = NUM_CLASSES):
    """An untrained classifier of the given architecture (torch ``nn.Module``)."""
    import torch
    from torch import nn

    class SmallCNN(nn.Module):
        """Four 3x3 conv-BN-ReLU blocks (24, 32, 64, 64 channels), two max-pools, GAP, linear."""

        def __init__(self) -> None:
            super().__init__()

            def block(cin: int, cout: int) -> list[nn.Module]:
                return [
                    nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                    nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True),
                ]

            self.features = nn.Sequential(
                *block(3, 24),
                *block(24, 32),
                nn.MaxPool2d(2),
                *block(32, 64),
                nn.MaxPool2d(2),
                *block(64, 64),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
            )
            self.head = nn.Linear(64, num_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x))

    class TinyViT(nn.Module):
        """4x4 patches (64 tokens), width 64, depth 3, 4 heads, a class token, pre-norm."""

        def __init__(self, dim: int = 64, depth: int = 3, heads: int = 4) -> None:
            super().__init__()
            self.patch = nn.Conv2d(3, dim, 4, stride=4)
            tokens = (IMAGE_SIZE // 4) ** 2
            self.cls = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
            layer = nn.TransformerEncoderLayer(
                dim,
                heads,
                dim * 2,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, num_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            tokens = self.patch(x).flatten(2).transpose(1, 2)
            tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1) + self.pos
            return self.head(self.norm(self.encoder(tokens)[:, 0]))

    if architecture == "cnn":
        return SmallCNN()
    if architecture == "vit":
        return TinyViT()
    raise ConfigError(f"Unknown architecture {architecture!r}; expected cnn or vit")


# ----------------------------------------------------------------------------- factories


def weights_dir() -> Path:
    """The folder of the shipped weights (``quba/synthetic/weights``)."""
    return Path(str(resources.files("quba.synthetic") / "weights"))


def load_model(name: str, weights: str | Path | None = None):
    """The trained zoo model ``name`` in eval mode, from ``weights`` (a .pt file or a folder)."""
    import torch

    if name not in ZOO:
        raise ModelError(f"Unknown tiny-zoo model {name!r}; expected one of {', '.join(ZOO)}")
    path = Path(weights) if weights is not None else weights_dir()
    if path.is_dir():
        path = path / f"{name}.pt"
    if not path.is_file():
        raise ModelError(
            f"Expected the weights of {name!r} at {path}, found none",
            hint="Train them with `quba synthetic train --output DIR`.",
        )
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("schema_version") != WEIGHTS_SCHEMA_VERSION or checkpoint.get("name") != name:
        raise ModelError(
            f"{path} is not a tiny-zoo checkpoint of {name!r} (schema version "
            f"{WEIGHTS_SCHEMA_VERSION}); it holds name={checkpoint.get('name')!r}, "
            f"schema_version={checkpoint.get('schema_version')!r}"
        )
    module = build(ZOO[name].architecture)
    module.load_state_dict(checkpoint["state_dict"])
    module.eval()
    module.label_space = "synthetic"
    module.num_classes = NUM_CLASSES
    return module


def _factory(name: str) -> Callable[..., tuple[Any, dict[str, Any]]]:
    def factory(weights: str | Path | None = None) -> tuple[Any, dict[str, Any]]:
        return load_model(name, weights), dict(PREPROCESSING)

    factory.__name__ = name
    factory.__doc__ = f"The tiny zoo's {ZOO[name].description}: ``(module, preprocessing)``."
    return factory


plain_cnn = _factory("plain_cnn")
texture_cnn = _factory("texture_cnn")
background_cnn = _factory("background_cnn")
adversarial_cnn = _factory("adversarial_cnn")
tiny_vit = _factory("tiny_vit")
background_only_cnn = _factory("background_only_cnn")


# ----------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainReport:
    """What training one model produced: its file, seconds, and accuracy on the training split."""

    name: str
    path: Path
    seconds: float
    train_accuracy: float
    num_parameters: int


def _variant(entry: ZooEntry, scenes: Scenes, images: np.ndarray, rng: np.random.Generator):
    """The training images of one epoch for a habit (uint8, N x 32 x 32 x 3)."""
    n = len(scenes)
    if entry.habit == "texture":
        swap = rng.random(n) < 0.9
        other = np.where(swap, rng.integers(0, NUM_CLASSES, n), scenes.texture)
        return render(scenes.with_(texture=other, tex_phase=rng.uniform(0, 2 * np.pi, (n, 2))))
    if entry.habit == "background":
        swap = rng.random(n) < 0.9
        other = np.where(swap, rng.integers(0, NUM_CLASSES, n), scenes.background)
        return render(scenes.with_(background=other, bg_phase=rng.uniform(0, 1, (n, 2))))
    if entry.habit == "background_only":
        return render(scenes.with_(visible=np.zeros(n, dtype=bool)))
    return images


def pgd(model, x, y, eps: float = 8 / 255, step: float = 2 / 255, steps: int = 10, generator=None):
    """L-inf PGD in pixel space from a uniform random start; clips to [0, 1]; returns x_adv."""
    import torch
    import torch.nn.functional as F

    start = (torch.rand(x.shape, generator=generator) * 2 - 1) * eps
    x_adv = (x + start).clamp(0, 1).detach()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv), y)
        (grad,) = torch.autograd.grad(loss, x_adv)
        x_adv = x_adv.detach() + step * grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1).detach()
    return x_adv


def train_model(
    name: str,
    scenes: Scenes,
    images: np.ndarray,
    output: str | Path,
    *,
    seed: int = 0,
    batch_size: int = 64,
    epochs: int | None = None,
) -> TrainReport:
    """Train zoo model ``name`` on the training split and save ``<output>/<name>.pt``.

    ``epochs`` overrides the zoo's schedule (for tests); the shipped weights use the default.

    Deterministic given ``seed``: torch's deterministic algorithms on one thread, seeded
    shuffling, seeded randomisation; bit-identical for the same torch version and CPU kind.
    """
    import torch
    import torch.nn.functional as F

    if name not in ZOO:
        raise ConfigError(f"Unknown tiny-zoo model {name!r}; expected one of {', '.join(ZOO)}")
    entry = ZOO[name]
    if epochs is not None:
        entry = dataclasses.replace(entry, epochs=epochs)
    start = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng([seed, list(ZOO).index(name)])
    model = build(entry.architecture)
    optimizer = torch.optim.AdamW(model.parameters(), lr=entry.lr, weight_decay=5e-4)
    steps_per_epoch = int(np.ceil(len(images) / batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=entry.lr, total_steps=entry.epochs * steps_per_epoch, pct_start=0.2
    )
    targets = torch.as_tensor(scenes.shape, dtype=torch.long)
    # One thread and deterministic kernels: the same floating-point reductions on any machine.
    previous = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    try:
        for epoch in range(entry.epochs):
            data = _as_tensor(_variant(entry, scenes, images, rng))
            order = torch.randperm(len(data), generator=generator)
            model.train()
            correct = 0
            for i in range(0, len(order), batch_size):
                index = order[i : i + batch_size]
                x, y = data[index], targets[index]
                if entry.habit == "adversarial":
                    model.eval()  # attack the current model without touching BN statistics
                    x = pgd(model, x, y, steps=2, step=5 / 255, generator=generator)
                    model.train()
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                correct += int((logits.argmax(1) == y).sum())
            logger.info(
                "%s epoch %d/%d: train accuracy %.3f",
                name,
                epoch + 1,
                entry.epochs,
                correct / len(data),
            )
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.set_num_threads(threads)
    model.eval()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{name}.pt"
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.save(
        {
            "schema_version": WEIGHTS_SCHEMA_VERSION,
            "name": name,
            "seed": seed,
            "epochs": entry.epochs,
            "state_dict": state,
        },
        path,
    )
    return TrainReport(
        name,
        path,
        time.perf_counter() - start,
        correct / len(data),
        sum(p.numel() for p in model.parameters()),
    )


def _as_tensor(images: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def read_images(files: Sequence[Path]) -> np.ndarray:
    """Decode image files to uint8 (N, H, W, 3); :class:`DataError` names an unreadable one."""
    from quba.data.dataset import decode_image

    return np.stack([np.asarray(decode_image(f)) for f in files])


def check_zoo_names(names: Sequence[str]) -> None:
    """Raise :class:`ConfigError` naming every entry of ``names`` that is not a zoo model."""
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        raise ConfigError(f"Unknown tiny-zoo models {unknown}; expected some of {', '.join(ZOO)}")


def train_zoo(
    root: str | Path, output: str | Path, names: Sequence[str] | None = None, *, seed: int = 0
) -> list[TrainReport]:
    """Train the zoo (or ``names`` of it) from the training split generated under ``root``."""
    from quba.synthetic.generate import load_train_scenes

    names = list(ZOO) if not names else list(names)
    check_zoo_names(names)
    scenes, files = load_train_scenes(root)
    images = read_images(files)
    return [train_model(n, scenes, images, output, seed=seed) for n in names]


# ----------------------------------------------------------------------------- habits


@dataclass(frozen=True)
class Habits:
    """Direct measurements of one model on a generated suite (independent of quba.metrics).

    Attributes:
        accuracy: top-1 on the clean validation images.
        shape_decisions: #shape / (#shape + #texture) over cue-conflict images whose shape and
            texture differ (decision = argmax over the 8 classes).
        mixed_same, mixed_rand: top-1 on the Backgrounds Challenge variants.
        background_gap: (mixed_same - mixed_rand) / accuracy (object focus = 1 - gap).
        pgd_accuracy: top-1 under L-inf PGD (8/255, step 2/255, 10 steps, pixel space).
    """

    name: str
    accuracy: float
    shape_decisions: float
    mixed_same: float
    mixed_rand: float
    background_gap: float
    pgd_accuracy: float


def _folder_images(root: Path, pattern: str) -> tuple[np.ndarray, list[Path]]:
    files = sorted(root.glob(pattern))
    if not files:
        raise ConfigError(f"Expected images matching {pattern} under {root}, found none")
    return read_images(files), files


def measure_habits(
    root: str | Path, names: Sequence[str], weights: str | Path | None = None, *, seed: int = 0
) -> list[Habits]:
    """Measure accuracy, cue-conflict shape decisions, the background gap and PGD accuracy.

    Reads the generated files under ``root`` directly (its own small readers, not quba.data).
    """
    import torch

    from quba.synthetic.suite import CLASS_IDS
    from quba.synthetic.world import SHAPES

    root = Path(root)
    val, val_files = _folder_images(root / "imagenet" / "val", "*/*.JPEG")
    val_y = np.array([CLASS_IDS.index(f.parent.name) for f in val_files])
    cue, cue_files = _folder_images(root / "modelvshuman" / "cue-conflict", "*/*.png")
    labels = [f.stem.split("-") for f in cue_files]
    cue_shape = np.array([SHAPES.index(a.rstrip("0123456789")) for a, _ in labels])
    cue_texture = np.array([SHAPES.index(b.rstrip("0123456789")) for _, b in labels])
    bg = {}
    for variant in ("mixed_same", "mixed_rand"):
        images, files = _folder_images(root / "bg_challenge" / variant / "val", "*/*.JPEG")
        bg[variant] = (images, np.array([int(f.parent.name[:2]) for f in files]))

    def predict(model, images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(_as_tensor(images)).argmax(1).numpy()

    results = []
    for name in names:
        model = load_model(name, weights)
        accuracy = float(np.mean(predict(model, val) == val_y))
        decision = predict(model, cue)
        differ = cue_shape != cue_texture
        n_shape = np.sum(decision[differ] == cue_shape[differ])
        n_texture = np.sum(decision[differ] == cue_texture[differ])
        same = float(np.mean(predict(model, bg["mixed_same"][0]) == bg["mixed_same"][1]))
        rand = float(np.mean(predict(model, bg["mixed_rand"][0]) == bg["mixed_rand"][1]))
        x, y = _as_tensor(val), torch.as_tensor(val_y)
        x_adv = pgd(model, x, y, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            robust = float((model(x_adv).argmax(1) == y).float().mean())
        results.append(
            Habits(
                name,
                accuracy,
                float(n_shape / max(n_shape + n_texture, 1)),
                same,
                rand,
                (same - rand) / accuracy if accuracy > 0 else float("nan"),
                robust,
            )
        )
    return results
