"""End to end: every dimension from quba.evaluate equals an independent computation from the
same model's logits on a tiny data tree in the real layouts."""

from __future__ import annotations

import re
from pathlib import Path

import _eval_models
import numpy as np
import pytest
import torch
from _eval_support import MODEL
from PIL import Image
from torch import nn
from torchmetrics.classification import MulticlassCalibrationError

from quba.data.labels import CATEGORIES_16, IMAGENET_9, imagenet_label_space
from quba.data.suites import IMAGENET_SUITE
from quba.evaluation import evaluate
from quba.inference.runner import batch_seed
from quba.models.preprocessing import Preprocessing

EPS, STEP, STEPS = 8 / 255, 2 / 255, 10
BATCH = 8


# -- the reference: the model, its logits and the metrics, written from PROTOCOL.md ----------


class Reference:
    def __init__(self, tree) -> None:
        from quba.data import open_dataset

        self.tree = tree
        net, preprocessing = _eval_models.colour_model()
        self.net = net.eval()
        self.pre = Preprocessing.from_dict(preprocessing)
        self.mean = torch.tensor(self.pre.mean).reshape(1, 3, 1, 1)
        self.std = torch.tensor(self.pre.std).reshape(1, 3, 1, 1)
        # the readers' order (sorted relative paths) fixes the attack batches
        self.order = {k: open_dataset(tree.suite, k, tree.root).files for k in tree.files}
        truth = {k: dict(zip(tree.files[k], tree.targets[k], strict=True)) for k in tree.files}
        self.targets = {k: np.array([truth[k][f] for f in self.order[k]]) for k in truth}

    def images(self, key: str) -> torch.Tensor:
        base = self.tree.root / IMAGENET_SUITE.dataset(key).path
        transform = self.pre.transform()
        return torch.stack([transform(Image.open(base / f)) for f in self.order[key]])

    def logits(self, key: str) -> np.ndarray:
        with torch.no_grad():
            return self.net((self.images(key) - self.mean) / self.std).numpy()

    def attacked_logits(self, attack: str) -> np.ndarray:
        """The paper geometry by hand: the inner network on the normalized tensor, ε, steps and
        the clip to [0, 1] applied there; one seeded random start per batch of 8."""
        u_all = (self.images("imagenet_val") - self.mean) / self.std
        y_all = torch.as_tensor(self.targets["imagenet_val"])
        out = []
        for start in range(0, len(u_all), BATCH):
            u, y = u_all[start : start + BATCH], y_all[start : start + BATCH]
            if attack == "pgd":
                torch.manual_seed(batch_seed(0, "imagenet_val:pgd", start))
                adv = (u + torch.empty_like(u).uniform_(-EPS, EPS)).clamp(0, 1)
                for _ in range(STEPS):
                    adv = adv.detach().requires_grad_(True)
                    (grad,) = torch.autograd.grad(
                        nn.functional.cross_entropy(self.net(adv), y), adv
                    )
                    adv = (u + (adv.detach() + STEP * grad.sign() - u).clamp(-EPS, EPS)).clamp(0, 1)
            else:
                x = u.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(nn.functional.cross_entropy(self.net(x), y), x)
                adv = (u + EPS * grad.sign()).clamp(0, 1)
            with torch.no_grad():
                out.append(self.net(adv.detach()).numpy())
        return np.concatenate(out)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def accuracy(logits, targets) -> float:
    return float((logits.argmax(1) == targets).mean())


def ece(probs, targets) -> float:
    metric = MulticlassCalibrationError(num_classes=probs.shape[1], n_bins=15, norm="l1")
    return float(metric(torch.as_tensor(probs), torch.as_tensor(targets)))


def ace(probs, targets, bins=15) -> float:
    errors = []
    for k in range(probs.shape[1]):
        q = probs[:, k]
        keep = q > 0
        q, t = np.sort(q[keep]), (targets[keep] == k).astype(float)[np.argsort(q[keep])]
        n = len(q)
        if n == 0:
            errors.append(0.0)
            continue
        lower = [min(round(j * n / bins), n - 1) for j in range(bins)]
        upper = [q[p] for p in lower[1:]] + [1.0]
        which = np.searchsorted(np.array(upper), q, side="right")  # upper[b-1] <= q < upper[b]
        error = 0.0
        for b in range(bins + 1):
            members = which == b
            if members.any():
                error += members.sum() / n * abs(t[members].mean() - q[members].mean())
        errors.append(error)
    return float(np.mean(errors))


def class_balance(probs, targets) -> float:
    classes = np.unique(targets)
    acc = [float((probs[targets == c].argmax(1) == c).mean()) for c in classes]
    spread = [float(np.std(probs[targets == c, c])) for c in classes]
    return float(np.sqrt((1 - np.std(acc, ddof=1)) * (1 - np.mean(spread))))


def category_accuracy(logits, targets) -> float:
    probs = softmax(logits)
    means = np.stack([probs[:, list(ix)].mean(1) for ix in CATEGORIES_16.values()], axis=1)
    return float((means.argmax(1) == targets).mean())


def object_accuracy(logits, targets) -> float:
    table = {i: k for k, ix in enumerate(IMAGENET_9.values()) for i in ix}
    mapped = np.array([table.get(int(p), -1) for p in logits.argmax(1)])
    return float((mapped == targets).mean())


# -- the test -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(tree, tmp_path_factory):
    places = tmp_path_factory.mktemp("run")
    result = evaluate(
        [MODEL],
        tree.root,
        suite=tree.suite,
        device="cpu",
        store=places / "results.sqlite",
        cache_dir=places / "cache",
        batch_size=BATCH,
        shard_size=16,
        replicates=30,
    )
    return result, places


def test_every_dimension_equals_an_independent_computation(tree, evaluated):
    result, _ = evaluated
    got = {k: r.value for k, r in result[0].results.items()}
    ref = Reference(tree)
    y = ref.targets
    clean = ref.logits("imagenet_val")
    a = accuracy(clean, y["imagenet_val"])
    assert 0 < a < 1  # the model is right on some images and wrong on others
    assert got["accuracy"] == pytest.approx(a, abs=1e-12)

    pgd = accuracy(ref.attacked_logits("pgd"), y["imagenet_val"])
    fgsm = accuracy(ref.attacked_logits("fgsm"), y["imagenet_val"])
    assert got["adv_robustness"] == pytest.approx(np.sqrt(pgd / a * fgsm / a), abs=1e-12)
    assert result[0]["adv_robustness"].breakdown["pgd"]["attacked_accuracy"] == pytest.approx(pgd)

    c_logits = ref.logits("imagenet_c")
    groups = [tuple(Path(f).parts[:2]) for f in ref.order["imagenet_c"]]
    per_group = [
        accuracy(
            c_logits[[g == group for g in groups]], y["imagenet_c"][[g == group for g in groups]]
        )
        for group in sorted(set(groups))
    ]
    assert len(per_group) == 10
    assert got["c_robustness"] == pytest.approx(np.mean(per_group) / a, abs=1e-12)

    ratios = [category_accuracy(ref.logits(k), y[k]) / a for k in ("edge", "silhouette", "sketch")]
    ratios.append(category_accuracy(ref.logits("stylized"), y["stylized"]) / a)
    kept = np.array(imagenet_label_space().rendition_classes)
    r_logits = ref.logits("imagenet_r")
    ratios.append(float((kept[r_logits[:, kept].argmax(1)] == y["imagenet_r"]).mean()) / a)
    assert got["ood_robustness"] == pytest.approx(float(np.prod(ratios) ** (1 / 5)), abs=1e-12)

    probs = softmax(clean)
    calibration = np.sqrt(ece(probs, y["imagenet_val"]) * ace(probs, y["imagenet_val"]))
    assert got["calibration_error"] == pytest.approx(calibration, abs=1e-6)
    assert got["class_balance"] == pytest.approx(class_balance(probs, y["imagenet_val"]), abs=1e-9)

    same = object_accuracy(ref.logits("mixed_same"), y["mixed_same"])
    rand = object_accuracy(ref.logits("mixed_rand"), y["mixed_rand"])
    assert got["object_focus"] == pytest.approx(1 - (same - rand) / a, abs=1e-12)

    names = list(CATEGORIES_16)
    probs_cc = softmax(ref.logits("cue_conflict"))
    decisions = np.stack([probs_cc[:, list(ix)].mean(1) for ix in CATEGORIES_16.values()], 1)
    shape_count = texture_count = 0
    for file, decision in zip(ref.order["cue_conflict"], decisions.argmax(1), strict=True):
        shape, texture = re.fullmatch(r"(\D+)\d+-(\D+)\d+\.png", Path(file).name).groups()
        if shape == texture:
            continue
        shape_count += names[decision] == shape
        texture_count += names[decision] == texture
    assert got["shape_bias"] == pytest.approx(shape_count / (shape_count + texture_count))

    params = sum(p.numel() for p in ref.net.parameters()) / 1e6
    assert got["params"] == pytest.approx(params, abs=1e-12)


def test_results_carry_intervals_sample_counts_and_are_stored(evaluated, tree):
    from quba.store import ResultStore

    result, places = evaluated
    model = result[0]
    for key, r in model.results.items():
        assert r.value is not None, (key, r.missing_reason)
        if key != "params":
            assert r.ci_low <= r.value + 1e-12 and r.value <= r.ci_high + 1e-12, key
    assert model["accuracy"].num_samples == tree.counts["imagenet_val"]
    assert model.forwarded["imagenet_c"] == tree.counts["imagenet_c"]
    rows = ResultStore(places / "results.sqlite").query(model=model.spec)
    assert {r.dimension: r.value for r in rows} == {k: r.value for k, r in model.results.items()}
    provenance = rows[0].provenance
    assert provenance["device"] == "cpu" and provenance["seed"] == 0
    assert provenance["data"]["imagenet_val"]["num_images"] == tree.counts["imagenet_val"]
    assert {"torch", "timm", "torchattacks", "quba"} <= set(provenance["versions"])
    assert provenance["protocol"]["name"] == "paper" and rows[0].subset == 0


def test_a_second_run_forwards_nothing_and_gives_the_same_numbers(tree, evaluated):
    first, places = evaluated
    again = evaluate(
        [MODEL],
        tree.root,
        suite=tree.suite,
        device="cpu",
        store=places / "results.sqlite",
        cache_dir=places / "cache",
        batch_size=BATCH,
        shard_size=16,
        replicates=30,
    )
    assert again.forwarded == 0
    for key, r in first[0].results.items():
        assert again[0][key] == r


def test_pixel_protocol_reuses_the_clean_predictions(tree, evaluated):
    _, places = evaluated
    pixel = evaluate(
        [MODEL],
        tree.root,
        suite=tree.suite,
        dims="accuracy,adv_robustness",
        protocol="pixel",
        device="cpu",
        store=False,
        cache_dir=places / "cache",
        batch_size=BATCH,
        shard_size=16,
        replicates=0,
    )
    n = tree.counts["imagenet_val"]
    assert pixel[0].forwarded == {"imagenet_val:pgd": n, "imagenet_val:fgsm": n}
    assert pixel[0]["accuracy"].ci_low is None  # replicates=0: no interval
