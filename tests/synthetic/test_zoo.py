"""The tiny zoo: factories, shipped weights, reproducible training, and each model's habit.

The habit checks here are quick direct computations on freshly rendered images (not through
quba.metrics); the same effects are later measured through the real evaluate path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from quba.errors import ConfigError, ModelError
from quba.models.preprocessing import Preprocessing
from quba.synthetic import zoo
from quba.synthetic.world import NEUTRAL, NUM_CLASSES, balanced_classes, render, sample_scenes

FACTORIES = [
    "plain_cnn",
    "texture_cnn",
    "background_cnn",
    "adversarial_cnn",
    "tiny_vit",
    "background_only_cnn",
]


def _tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255


def _predict(model, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(_tensor(images)).argmax(1).numpy()


@pytest.fixture(scope="module")
def models():
    return {name: getattr(zoo, name)()[0] for name in FACTORIES}


@pytest.mark.parametrize("name", FACTORIES)
def test_factory_returns_a_synthetic_classifier(name):
    module, preprocessing = getattr(zoo, name)()
    assert Preprocessing.from_dict(preprocessing) == Preprocessing(resize=32, crop=32)
    assert module.label_space == "synthetic" and not module.training
    logits = module(torch.rand(3, 3, 32, 32))
    assert logits.shape == (3, NUM_CLASSES)


def test_shipped_weights_are_small_and_complete():
    files = {p.stem: p.stat().st_size for p in zoo.weights_dir().glob("*.pt")}
    assert set(files) == set(zoo.ZOO) == set(FACTORIES)
    assert sum(files.values()) < 5 * 2**20


def test_clean_accuracy(models):
    scenes = sample_scenes(np.random.default_rng(101), balanced_classes(10))
    images = render(scenes)
    for name in zoo.DEMO_MODELS:
        assert np.mean(_predict(models[name], images) == scenes.shape) > 0.9, name


def _shape_decisions(model, per_pair: int = 2) -> float:
    rng = np.random.default_rng(102)
    shape, texture = zip(
        *[
            (a, b)
            for a in range(NUM_CLASSES)
            for b in range(NUM_CLASSES)
            if a != b
            for _ in range(per_pair)
        ],
        strict=True,
    )
    shape, texture = np.array(shape), np.array(texture)
    scenes = sample_scenes(rng, shape).with_(
        texture=texture, background=np.full(len(shape), NEUTRAL)
    )
    decision = _predict(model, render(scenes))
    n_shape, n_texture = np.sum(decision == shape), np.sum(decision == texture)
    return n_shape / (n_shape + n_texture)


def test_texture_randomised_model_decides_by_shape_more(models):
    plain = _shape_decisions(models["plain_cnn"])
    texture = _shape_decisions(models["texture_cnn"])
    assert texture > plain + 0.15, (plain, texture)


def _background_gap(model) -> float:
    """(A_mixed_same - A_mixed_rand) / A_clean, on rendered scenes (1 - object focus)."""
    rng = np.random.default_rng(103)
    classes = balanced_classes(15)
    objects = sample_scenes(rng, classes)
    same = sample_scenes(rng, classes)
    rand = sample_scenes(rng, (classes + rng.integers(1, NUM_CLASSES, len(classes))) % NUM_CLASSES)

    def accuracy(donor) -> float:
        scenes = objects.with_(
            background=donor.background, bg_phase=donor.bg_phase, bg_jitter=donor.bg_jitter
        )
        return float(np.mean(_predict(model, render(scenes)) == classes))

    return (accuracy(same) - accuracy(rand)) / accuracy(objects)


def test_background_randomised_model_has_the_smaller_background_gap(models):
    plain = _background_gap(models["plain_cnn"])
    background = _background_gap(models["background_cnn"])
    assert background < plain - 0.15, (plain, background)


def test_background_only_model_has_low_object_focus(models):
    assert 1 - _background_gap(models["background_only_cnn"]) < 0.3


def test_adversarially_trained_model_withstands_pgd(models):
    scenes = sample_scenes(np.random.default_rng(104), balanced_classes(8))
    x, y = _tensor(render(scenes)), torch.as_tensor(scenes.shape)
    robust = {}
    for name in ("plain_cnn", "adversarial_cnn"):
        model = models[name]
        x_adv = zoo.pgd(model, x, y, generator=torch.Generator().manual_seed(0))
        assert (x_adv - x).abs().max() <= 8 / 255 + 1e-6
        with torch.no_grad():
            robust[name] = float((model(x_adv).argmax(1) == y).float().mean())
    assert robust["adversarial_cnn"] > robust["plain_cnn"] + 0.2, robust


def test_pgd_agrees_with_torchattacks(models):
    import torchattacks

    model = models["plain_cnn"]
    scenes = sample_scenes(np.random.default_rng(105), balanced_classes(4))
    x, y = _tensor(render(scenes)), torch.as_tensor(scenes.shape)
    ours = zoo.pgd(model, x, y, generator=torch.Generator().manual_seed(0))
    theirs = torchattacks.PGD(model, eps=8 / 255, alpha=2 / 255, steps=10)(x, y)
    with torch.no_grad():
        a = float((model(ours).argmax(1) == y).float().mean())
        b = float((model(theirs).argmax(1) == y).float().mean())
    assert abs(a - b) <= 0.1, (a, b)


def test_training_is_reproducible(tmp_path):
    scenes = sample_scenes(np.random.default_rng(106), balanced_classes(3))
    images = render(scenes)
    states = []
    for folder in ("a", "b"):
        report = zoo.train_model("texture_cnn", scenes, images, tmp_path / folder, epochs=1)
        assert report.path == tmp_path / folder / "texture_cnn.pt"
        states.append(torch.load(report.path, weights_only=True)["state_dict"])
    for key in states[0]:
        torch.testing.assert_close(states[0][key], states[1][key], rtol=0, atol=0)
    other = zoo.train_model("texture_cnn", scenes, images, tmp_path / "c", epochs=1, seed=1)
    changed = torch.load(other.path, weights_only=True)["state_dict"]
    assert not torch.equal(changed["head.weight"], states[0]["head.weight"])


def test_bad_names_and_checkpoints(tmp_path):
    with pytest.raises(ModelError, match="Unknown tiny-zoo model 'resnet'"):
        zoo.load_model("resnet")
    with pytest.raises(ModelError, match="Expected the weights of 'plain_cnn' at"):
        zoo.load_model("plain_cnn", tmp_path)
    torch.save(
        {"schema_version": 1, "name": "tiny_vit", "state_dict": {}}, tmp_path / "plain_cnn.pt"
    )
    with pytest.raises(ModelError, match="not a tiny-zoo checkpoint of 'plain_cnn'"):
        zoo.load_model("plain_cnn", tmp_path)
    with pytest.raises(ConfigError, match="Unknown tiny-zoo model 'resnet'"):
        zoo.train_model("resnet", None, None, tmp_path)  # type: ignore[arg-type]


def test_reachable_as_python_model_specs():
    from quba.models import create_classifier

    classifier = create_classifier("python:quba.synthetic.zoo:texture_cnn")
    assert classifier.label_space == "synthetic" and classifier.num_classes == NUM_CLASSES
    assert classifier.preprocessing.crop == 32 and classifier.preprocessing.mean is None
