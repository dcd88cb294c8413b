"""Time the clean-data dimensions with bootstrap intervals at ImageNet scale on one CPU core.

Usage: python benchmarks/bench_metrics.py [--images 50000] [--classes 1000] [--replicates 200]

Random logits stand in for a model's ImageNet-val predictions (the cost does not depend on the
values). Prints one line per step with its wall time and the CPU time of this process (on a
shared, loaded machine the CPU time is the better estimate of an idle core). Not a test.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from quba.data.labels import LabelSpace  # noqa: E402
from quba.dimensions import PAPER, DimensionInputs, get_dimension  # noqa: E402
from quba.inference.predictions import Predictions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--replicates", type=int, default=PAPER.bootstrap_replicates)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n, c = args.images, args.classes
    target = np.arange(n) % c
    logits = rng.normal(size=(n, c)).astype(np.float32) * 2
    logits[np.arange(n), target] += rng.normal(4, 2, n).astype(np.float32)
    space = LabelSpace("bench", tuple(f"c{i}" for i in range(c)), {}, {}, ())
    preds = Predictions(logits, target, np.arange(n))
    inputs = DimensionInputs({"imagenet_val": preds}, space, PAPER, replicates=args.replicates)
    print(f"{n} images x {c} classes, {args.replicates} bootstrap replicates, one thread")

    total, total_cpu = time.perf_counter(), time.process_time()
    for step, run in (
        ("per-image quantities", lambda: inputs.clean),
        ("replicate draws", lambda: inputs.clean_counts),
        ("accuracy", lambda: get_dimension("accuracy").compute(inputs)),
        ("class_balance", lambda: get_dimension("class_balance").compute(inputs)),
        (
            "calibration_error (ECE + ACE)",
            lambda: get_dimension("calibration_error").compute(inputs),
        ),
    ):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        took, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        detail = ""
        if getattr(result, "ci_low", None) is not None:
            detail = f"value {result.value:.5f} [{result.ci_low:.5f}, {result.ci_high:.5f}]"
        print(f"{step:32s} {took:8.2f} s wall {cpu:8.2f} s cpu  {detail}")
    took, cpu = time.perf_counter() - total, time.process_time() - total_cpu
    print(f"{'all clean-data dimensions':32s} {took:8.2f} s wall {cpu:8.2f} s cpu")


if __name__ == "__main__":
    main()
