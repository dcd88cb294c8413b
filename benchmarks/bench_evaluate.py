"""Benchmark of ``quba.evaluate``: how close a full evaluation comes to bare forward passes.

It writes a small data tree in the real layouts (every dataset of the ImageNet suite, all 15
corruptions x 5 severities), evaluates a small ``python:`` model on all nine dimensions, and
compares the wall time with *bare forward passes*: decode, preprocess and forward every image of
the same datasets once, with the same batch size and workers — the floor any evaluation has.

Printed figures:

- images forwarded (clean) and attacked (PGD/FGSM) by the evaluation;
- wall time of the full evaluation, of the evaluation without the adversarial dimension, of a
  rerun (everything from the prediction cache), and of the bare forward passes;
- the ratios to the bare forward passes. PGD costs 10 forward + backward passes per image, so the
  full evaluation is necessarily above 1; without attacks the ratio is the overhead of the
  pipeline (dataset scan, cache writes, metrics with bootstrap intervals).

    python benchmarks/bench_evaluate.py [--classes 20] [--images-per-class 4] [--device cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

MODEL_SOURCE = '''
import torch
from torch import nn


def small_cnn():
    """A four-layer CNN on 64x64 images with 1000 outputs (about 0.3 M parameters)."""
    torch.manual_seed(0)
    layers = []
    width = 3
    for out in (16, 32, 64, 128):
        layers += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                   nn.MaxPool2d(2)]
        width = out
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 1000))
    return net.eval(), {"resize": 72, "crop": 64, "mean": [0.485, 0.456, 0.406],
                        "std": [0.229, 0.224, 0.225]}
'''


def bare_forward(module, datasets, transform, *, batch_size, workers, device) -> tuple[int, float]:
    """Decode, preprocess and forward every image of ``datasets`` once; (images, seconds)."""
    import torch
    from torch.utils.data import DataLoader

    from quba.data import collate

    images = 0
    start = time.perf_counter()
    for dataset in datasets:
        loader = DataLoader(
            dataset.with_transform(transform),
            batch_size=batch_size,
            num_workers=workers,
            collate_fn=collate,
        )
        with torch.inference_mode():
            for batch, _, _ in loader:
                module(batch.to(device))
                images += len(batch)
    return images, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--images-per-class", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--replicates", type=int, default=None)
    options = parser.parse_args()

    import torchattacks  # noqa: F401  (imported before timing: imports are not the pipeline)

    import quba.dimensions
    from quba.data import open_dataset
    from quba.data.suites import CORRUPTIONS
    from quba.data.testing import make_imagenet_tree
    from quba.evaluation import evaluate, prediction_keys
    from quba.inference.device import resolve_device
    from quba.models import create_classifier

    work = Path(tempfile.mkdtemp(prefix="quba-bench-"))
    (work / "bench_model.py").write_text(MODEL_SOURCE)
    spec = f"python:{work / 'bench_model.py'}:small_cnn"

    start = time.perf_counter()
    tree = make_imagenet_tree(
        work / "data",
        classes=options.classes,
        categories=min(16, options.classes),
        object_classes=min(9, options.classes),
        images_per_class=options.images_per_class,
        corruptions=CORRUPTIONS,
        image_size=options.image_size,
    )
    suite = dataclasses.replace(tree.suite, name="bench")
    generated = time.perf_counter() - start
    print(f"data: {sum(tree.counts.values())} images written in {generated:.1f} s under {work}")

    classifier = create_classifier(spec)
    device = resolve_device(options.device)
    module = classifier.module.to(device).eval()
    keys = {k.partition(":")[0] for k in prediction_keys(tuple(quba.dimensions.dimension_keys()))}
    datasets = [open_dataset(suite, key, tree.root) for key in sorted(keys)]

    def bare_run() -> tuple[int, float]:
        return bare_forward(
            module,
            datasets,
            classifier.preprocessing.transform(),
            batch_size=options.batch_size,
            workers=options.workers,
            device=device,
        )

    bare_images, bare_before = bare_run()

    common = dict(
        suite=suite,
        device=options.device,
        batch_size=options.batch_size,
        workers=options.workers,
        replicates=options.replicates,
    )
    timings = {}
    start = time.perf_counter()
    full = evaluate(
        [spec], tree.root, store=work / "full.sqlite", cache_dir=work / "cache-full", **common
    )
    timings["full evaluation (9 dimensions)"] = time.perf_counter() - start
    start = time.perf_counter()
    evaluate([spec], tree.root, store=work / "full.sqlite", cache_dir=work / "cache-full", **common)
    timings["rerun (all from the cache)"] = time.perf_counter() - start
    no_attacks = [d for d in full.dims if d != "adv_robustness"]
    start = time.perf_counter()
    clean_only = evaluate(
        [spec],
        tree.root,
        dims=no_attacks,
        store=work / "clean.sqlite",
        cache_dir=work / "cache-clean",
        **common,
    )
    timings["evaluation without adv_robustness"] = time.perf_counter() - start

    _, bare_after = bare_run()
    bare = min(bare_before, bare_after)  # the machine may be busy; the faster run is the floor
    timings["bare forward passes (faster of 2)"] = bare

    forwarded = full[0].forwarded
    attacked = sum(v for k, v in forwarded.items() if ":" in k)
    clean = sum(v for k, v in forwarded.items() if ":" not in k)
    print(f"model: {spec} ({classifier.num_params / 1e6:.2f} M parameters), device {device}")
    print(f"images forwarded: {clean} clean, {attacked} attacked (PGD + FGSM)")
    print(f"bare forward passes: {bare_images} images")
    assert clean == bare_images == sum(clean_only[0].forwarded.values())
    width = max(len(name) for name in timings)
    for name, seconds in timings.items():
        ratio = seconds / bare
        print(f"  {name:<{width}}  {seconds:8.2f} s   {ratio:6.2f} x bare forward")
    print(f"  images per second, bare: {bare_images / bare:.0f}")


if __name__ == "__main__":
    main()
