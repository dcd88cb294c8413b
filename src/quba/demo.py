"""The demo: the whole QUBA pipeline on the embedded synthetic benchmark, on a laptop CPU.

:func:`run_demo` generates the synthetic suite (or reuses it), takes the tiny zoo of models
trained on it (shipped with quba), evaluates all nine dimensions of each model through the same
:func:`quba.evaluate` path as real models, and writes an HTML report when the ``report`` extra
is installed. The QUBA score of the demo is normalised against the zoo itself: the paper's
reference statistics describe ImageNet models and mean nothing for 32x32 synthetic images.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quba.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from quba.evaluation import Evaluation
    from quba.inference.runner import ProgressCallback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoRun:
    """What the demo made: the evaluation, where things were written, and how long it took."""

    evaluation: Evaluation
    data_root: Path
    store: Path
    report: Path | None
    report_skipped_reason: str | None
    seconds: float


def default_demo_root(size: str = "small", seed: int = 0) -> Path:
    """Where the demo keeps its generated suite: ``~/.cache/quba/synthetic/<size>-seed<seed>``."""
    from quba.store import default_cache_home

    return default_cache_home() / "synthetic" / f"{size}-seed{seed}"


def demo_model_specs(names: Sequence[str] | None = None) -> list[str]:
    """The ``python:`` specs of the tiny zoo's demo models (or of the named zoo models)."""
    from quba.synthetic.zoo import DEMO_MODELS, ZOO

    chosen = list(names) if names else list(DEMO_MODELS)
    unknown = [n for n in chosen if n not in ZOO]
    if unknown:
        raise ConfigError(
            f"Unknown synthetic zoo model(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(ZOO)}"
        )
    return [f"python:quba.synthetic.zoo:{name}" for name in chosen]


def run_demo(
    output_dir: str | Path = "quba-demo",
    *,
    data_root: str | Path | None = None,
    models: Sequence[str] | None = None,
    size: str = "small",
    seed: int = 0,
    device: str = "auto",
    cache_dir: str | Path | None = None,
    report: bool = True,
    progress: ProgressCallback | None = None,
) -> DemoRun:
    """Generate (or reuse) the synthetic suite, evaluate the tiny zoo, store and report.

    Args:
        output_dir: receives ``results.sqlite`` (the store) and ``report.html``.
        data_root: the synthetic suite's folder (default :func:`default_demo_root`).
        models: names of the synthetic zoo (default: the five demo models).
        size, seed: of the generated suite (``small`` is the demo's; ``medium`` is larger).
        device: ``auto``, ``cpu``, ``cuda[:N]`` or ``mps``.
        cache_dir: the prediction cache (default: quba's).
        report: write ``report.html`` when plotly and matplotlib are installed.
    """
    from quba.evaluation import evaluate
    from quba.synthetic import generate

    start = time.perf_counter()
    specs = demo_model_specs(models)
    root = Path(data_root).expanduser() if data_root else default_demo_root(size, seed)
    output = Path(output_dir).expanduser()
    output.mkdir(parents=True, exist_ok=True)
    store = output / "results.sqlite"

    manifest = generate(root, size=size, seed=seed)
    logger.info("synthetic suite ready under %s (%d datasets)", root, len(manifest.counts))
    suite = "synthetic" if size == "small" else f"synthetic-{size}"
    evaluation = evaluate(
        specs,
        root,
        suite=suite,
        device=device,
        store=store,
        cache_dir=cache_dir,
        pretrained=True,
        progress=progress,
    )

    report_path, skipped = None, None
    if report:
        report_path, skipped = _write_report(store, output / "report.html", evaluation)
    return DemoRun(
        evaluation=evaluation,
        data_root=root,
        store=store,
        report=report_path,
        report_skipped_reason=skipped,
        seconds=time.perf_counter() - start,
    )


def _write_report(
    store: Path, path: Path, evaluation: Evaluation
) -> tuple[Path | None, str | None]:
    try:
        from quba.report import build_report
        from quba.report._store import load_results

        results = load_results(
            store, models=[m.spec for m in evaluation], suite=evaluation[0].suite
        )
        return build_report(results, output=path, title="quba demo: the synthetic zoo"), None
    except MissingExtraError as missing:
        logger.warning("no report: %s", missing.message)
        return None, f"{missing.message} {missing.hint}"
