"""``quba.evaluate``: models, data and a protocol in; the dimensions, stored, out.

The order of work (DESIGN.md, "Data flow"):

1. **Plan**, before any compute, so that a bad option fails at once and writes nothing: the
   protocol, the dimension keys, the suite, the device; every dataset the requested dimensions
   need must exist and be complete (one error lists every problem); every model spec must build,
   and its output size must match the suite's label space.
2. **Inference**, per model and dataset: one pass over the images (clean logits and the attacks
   of ``imagenet_val`` share it), shard by shard through the prediction cache. What is cached is
   read, never recomputed (unless ``force``).
3. **Dimensions**: pure functions of the predictions (:mod:`quba.dimensions`), with bootstrap
   intervals and breakdowns; unreadable images left out are counted in ``num_skipped``.
4. **Store**: one row per model x dimension x protocol (x suite x subset), written as soon as a
   model is done.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from quba.dimensions import DimensionInputs, Protocol, get_dimension, get_protocol
from quba.errors import ConfigError, ModelError
from quba.evaluation._plan import (
    attack_of,
    dataset_of,
    native_input,
    parse_dims,
    prediction_keys,
    prediction_needs,
    protocol_fields,
)
from quba.evaluation._results import Evaluation, ModelEvaluation
from quba.inference.cache import (
    PredictionCache,
    default_cache_dir,
    digest_indices,
    prediction_cache_key,
)
from quba.inference.device import resolve_device
from quba.inference.predictions import PredictionNeed, Predictions
from quba.inference.runner import (
    PredictionJob,
    ProgressCallback,
    RunStats,
    load_predictions,
    run_predictions,
    shard_slices,
)
from quba.inference.subset import grouped_stratified_subset
from quba.store import ResultStore, default_store_path

logger = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 1024
"""Images per cache shard: the unit of resumption (about 4 MB of logits for 1000 classes)."""

Device = Literal["auto", "cpu", "cuda", "mps"] | str


def evaluate(
    models: str | Any | Sequence[str | Any],
    data: str | os.PathLike[str] | None = None,
    *,
    dims: str | Sequence[str] = "all",
    protocol: str | Protocol = "paper",
    suite: str | Any = "imagenet",
    device: Device = "auto",
    batch_size: int = 64,
    workers: int = 0,
    store: str | os.PathLike[str] | ResultStore | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    pretrained: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    force: bool = False,
    skip_unreadable: bool = False,
    paths: Mapping[str, str | os.PathLike[str]] | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    replicates: int | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """Evaluate classifiers on the QUBA dimensions, store the results and return them.

    Args:
        models: model specs (``timm:resnet50.a1_in1k``, ``python:pkg.mod:factory``, …) or built
            :class:`~quba.models.Classifier` objects.
        data: the data root (default: ``$QUBA_DATA``, else ``~/.cache/quba/data``).
        dims: ``"all"``, ``"accuracy,calibration_error"`` or a list of dimension keys; only
            the predictions these need are computed.
        protocol: ``"paper"``, ``"pixel"`` or a :class:`~quba.dimensions.Protocol`.
        suite: ``"imagenet"``, ``"synthetic"`` or a :class:`~quba.data.suites.Suite`.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        batch_size, workers: images per forward pass; DataLoader worker processes.
        store: the results database (default :func:`~quba.store.default_store_path`), a
            :class:`~quba.store.ResultStore`, or ``False`` to store nothing.
        cache_dir: the prediction cache (default ``$QUBA_CACHE_DIR``, else
            ``~/.cache/quba/predictions``).
        limit: evaluate a seeded, class-stratified subset of ``limit`` images per dataset (per
            corruption and severity for ImageNet-C); results are marked ``subset=limit``.
        pretrained: load published weights (``False``: random weights, for smoke tests).
        checkpoint: a local weights file loaded into every model (one model only, usually).
        force: recompute predictions even when cached.
        skip_unreadable: leave unreadable images out (counted) instead of failing.
        paths: per-dataset folders overriding ``<data>/<dataset path>``.
        shard_size: images per cache shard.
        replicates: bootstrap replicates (default: the protocol's; 0: no intervals).
        progress: ``progress(task, completed, total)`` called as images are processed.

    Returns:
        An :class:`~quba.evaluation.Evaluation`: per model, dimension key ->
        :class:`~quba.dimensions.DimensionResult`.

    Raises:
        ConfigError: unknown protocol, dimension key, suite or device; impossible numbers.
        DataError: a dataset the dimensions need is missing, incomplete or broken (all listed).
        ModelError: a model spec does not build, or its outputs do not fit the suite.
        StoreError: the store cannot be opened.
    """
    from quba.data import require_datasets
    from quba.data.dataset import dataset_from_scan
    from quba.data.layouts import scan_dataset
    from quba.data.paths import dataset_path, resolve_data_root

    # 1. plan -------------------------------------------------------------------------------
    chosen = get_protocol(protocol) if isinstance(protocol, str) else protocol
    keys = parse_dims(dims)
    the_suite = _resolve_suite(suite)
    torch_device = resolve_device(device)
    _check_numbers(batch_size=batch_size, workers=workers, limit=limit, shard_size=shard_size)
    specs = [models] if isinstance(models, str) or not isinstance(models, Sequence) else models
    if not specs:
        raise ConfigError("Expected at least one model (--model SPEC), but got none")
    overrides = {k: Path(v).expanduser() for k, v in (paths or {}).items()}
    for key in overrides:
        the_suite.dataset(key)

    needed = prediction_keys(keys, tuple(the_suite.datasets))
    needs = prediction_needs(keys)
    dataset_keys = list(dict.fromkeys(dataset_of(k) for k in needed))
    root = resolve_data_root(data)
    # each folder is listed once (ImageNet-C: 3.75 M files): the check and the reader share it
    scans = {
        key: scan_dataset(the_suite, key, dataset_path(the_suite, key, root, overrides.get(key)))
        for key in dataset_keys
    }
    if dataset_keys:
        require_datasets(the_suite, root, dataset_keys, paths=overrides, scans=scans)
    space = the_suite.label_space
    classifiers = [
        _build(m, pretrained=pretrained, checkpoint=checkpoint, space=space) for m in specs
    ]
    results_store = _open_store(store)
    cache = PredictionCache(cache_dir if cache_dir is not None else default_cache_dir())
    logger.info(
        "evaluating %d model(s) on %s (%s, protocol %s) with %s",
        len(classifiers),
        ", ".join(needed) or "no dataset",
        the_suite.name,
        chosen.name,
        torch_device,
    )

    # 2. open every dataset once, from the scans of the plan ---------------------------------
    datasets = {}
    for key in dataset_keys:
        datasets[key] = dataset_from_scan(
            scans.pop(key), the_suite, skip_unreadable=skip_unreadable
        )
        logger.info(
            "%s: %d images from %s (%s)",
            key,
            len(datasets[key]),
            datasets[key].directory,
            datasets[key].layout,
        )
    subsets = {
        key: None if limit is None else _subset(ds, limit, chosen.seed)
        for key, ds in datasets.items()
    }

    # 3. per model: predictions, dimensions, store ------------------------------------------
    evaluations = []
    for classifier in classifiers:
        home = next(iter(classifier.module.parameters()), None)
        home_device = "cpu" if home is None else home.device
        module = classifier.module.to(torch_device).eval()
        stats = RunStats()
        predictions: dict[str, Predictions] = {}
        for key in dataset_keys:
            group = [k for k in needed if dataset_of(k) == key]
            found, run = _predict_dataset(
                classifier,
                module,
                datasets[key],
                group,
                subsets[key],
                protocol=chosen,
                cache=cache,
                device=torch_device,
                batch_size=batch_size,
                workers=workers,
                shard_size=shard_size,
                force=force,
                progress=progress,
                needs=needs,
            )
            predictions.update(found)
            stats.merge(run)
        classifier.module.to(home_device)  # back where it was built, freeing the accelerator

        inputs = DimensionInputs(
            predictions=predictions,
            label_space=space,
            protocol=chosen,
            num_params=classifier.num_params,
            replicates=replicates,
        )
        results = {}
        for key in keys:
            dimension = get_dimension(key)
            result = dimension.compute(inputs)
            # an unreadable image is missing from the clean and the attacked copies alike
            skipped = sum(
                max(predictions[k].num_skipped for k in dimension.requires if dataset_of(k) == d)
                for d in {dataset_of(k) for k in dimension.requires}
            )
            results[key] = dataclasses.replace(result, num_skipped=skipped)
        evaluation = ModelEvaluation(
            spec=classifier.spec,
            protocol=chosen.name,
            suite=the_suite.name,
            subset=int(limit or 0),
            results=results,
            num_params=classifier.num_params,
            weights_id=classifier.weights_id,
            provenance=_provenance(
                classifier, chosen, torch_device, datasets, subsets, limit, batch_size
            ),
            forwarded=dict(stats.forwarded),
        )
        if results_store is not None:
            results_store.put(evaluation.records(chosen))
        logger.info(
            "%s done: %d images forwarded, %d dimension(s)",
            classifier.spec,
            sum(stats.forwarded.values()),
            len(results),
        )
        evaluations.append(evaluation)
        del inputs, predictions  # this model's predictions go before the next model's load

    return Evaluation(
        models=evaluations,
        protocol=chosen,
        dims=keys,
        store_path=None if results_store is None else results_store.path,
        label_space=space.name,
    )


def _resolve_suite(suite: str | Any):
    from quba.data.suites import get_suite

    return get_suite(suite) if isinstance(suite, str) else suite


def _check_numbers(*, batch_size: int, workers: int, limit: int | None, shard_size: int) -> None:
    if batch_size < 1:
        raise ConfigError(f"Expected --batch-size to be at least 1, but got {batch_size}")
    if workers < 0:
        raise ConfigError(f"Expected --workers to be 0 or more, but got {workers}")
    if limit is not None and limit < 1:
        raise ConfigError(f"Expected --limit to be at least 1, but got {limit}")
    if shard_size < 1:
        raise ConfigError(f"Expected a shard size of at least 1, but got {shard_size}")


def _build(model: Any, *, pretrained: bool, checkpoint: Any, space: Any):
    """Build (or take) a classifier and check that its logits fit the suite's label space."""
    from quba.models import create_classifier

    classifier = (
        create_classifier(model, pretrained=pretrained, checkpoint=checkpoint)
        if isinstance(model, str)
        else model
    )
    if classifier.num_classes != space.num_classes:
        raise ModelError(
            f"Model {classifier.spec!r} outputs {classifier.num_classes} logits, but the suite's "
            f"label space {space.name!r} has {space.num_classes} classes",
            hint="Evaluate it on the suite it was trained for (--suite), or fix its output layer.",
        )
    if classifier.label_space != space.name:
        raise ModelError(
            f"Model {classifier.spec!r} predicts in the label space {classifier.label_space!r}, "
            f"but the suite's label space is {space.name!r}",
            hint="Set the module attribute `label_space` of a python: model, or pick the "
            "matching --suite.",
        )
    return classifier


def _open_store(store: Any) -> ResultStore | None:
    if store is False:
        return None
    if isinstance(store, ResultStore):
        return store
    return ResultStore(default_store_path() if store in (None, True) else store)


def _subset(dataset: Any, limit: int, seed: int):
    metadata = dataset.metadata(files=False)
    groups = {k: metadata[k] for k in ("corruption", "severity") if k in metadata}
    return grouped_stratified_subset(dataset.targets, groups, limit, seed=seed)


def _predict_dataset(
    classifier: Any,
    module: Any,
    dataset: Any,
    keys: Sequence[str],
    indices: Any,
    *,
    protocol: Protocol,
    cache: PredictionCache,
    device: Any,
    batch_size: int,
    workers: int,
    shard_size: int,
    force: bool,
    progress: ProgressCallback | None,
    needs: Mapping[str, PredictionNeed],
) -> tuple[dict[str, Predictions], RunStats]:
    """The predictions of one classifier on one dataset (clean and attacked keys together).

    The cache keeps the full logits; a key whose dimensions all need only the top-1 class
    (``needs[key] == "top1"``) is loaded shard by shard as top-1 classes, without its (N, C)
    logits ever being held in memory.
    """
    from quba.data import collate

    native = native_input(keys[0], protocol)
    transform = classifier.preprocessing.transform(native=native)
    images = dataset.with_transform(transform)
    preprocessing = {**classifier.preprocessing.as_dict(), "native": native}
    jobs = []
    for key in keys:
        fields = prediction_cache_key(
            spec=classifier.spec,
            weights_id=classifier.weights_id,
            preprocessing=preprocessing,
            dataset_fingerprint=dataset.fingerprint(),
            prediction_key=key,
            protocol_fields=protocol_fields(key, protocol, batch_size),
            indices_digest=digest_indices(indices),
            shard_size=shard_size,
        )
        jobs.append(PredictionJob(key, cache.entry(fields, label=key), attack_of(key, protocol)))

    count = len(dataset) if indices is None else len(indices)
    label = f"{_short_name(classifier.spec)} · {dataset.key}"
    stats = run_predictions(
        module,
        images,
        jobs,
        indices=indices,
        device=device,
        batch_size=batch_size,
        workers=workers,
        shard_size=shard_size,
        seed=protocol.seed,
        collate_fn=collate,
        progress=progress,
        label=label,
        force=force,
    )
    metadata = dataset.metadata(files=False)
    num_shards = len(shard_slices(count, shard_size))
    found = {
        job.key: load_predictions(
            job.entry, num_shards, metadata=metadata, need=needs.get(job.key, "logits")
        )
        for job in jobs
    }
    return found, stats


def _short_name(spec: str, width: int = 28) -> str:
    """A model's name for progress bars: the factory of a ``python:`` spec, else the spec, cut
    to ``width`` characters from the left (the end of a name is the informative part)."""
    from quba.models import short_model_name

    name = short_model_name(spec)
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def _provenance(
    classifier: Any,
    protocol: Protocol,
    device: Any,
    datasets: Mapping[str, Any],
    subsets: Mapping[str, Any],
    limit: int | None,
    batch_size: int,
) -> dict[str, Any]:
    """Package versions, device, seed, protocol, data fingerprints and time of one result."""
    import torch

    import quba
    from quba.inference.cache import _version

    versions = {"quba": quba.__version__, "python": platform.python_version()}
    for name in ("torch", "torchvision", "timm", "torchattacks", "torchmetrics", "numpy", "pillow"):
        versions[name] = _version(name)
    device_name = str(device)
    if device.type == "cuda":
        device_name = f"{device} ({torch.cuda.get_device_name(device)})"
    return {
        "versions": versions,
        "device": device_name,
        "seed": protocol.seed,
        "protocol": {
            "name": protocol.name,
            "version": protocol.version,
            "fingerprint": protocol.fingerprint(),
            "settings": dataclasses.asdict(protocol),
        },
        "model": {
            "spec": classifier.spec,
            "weights_id": classifier.weights_id,
            "pretrained": getattr(classifier, "pretrained", None),
            "num_params": classifier.num_params,
            "preprocessing": classifier.preprocessing.as_dict(),
        },
        "data": {
            key: {
                "fingerprint": ds.fingerprint(),
                "path": str(ds.directory),
                "num_images": len(ds),
                "evaluated": len(ds) if subsets.get(key) is None else len(subsets[key]),
            }
            for key, ds in datasets.items()
        },
        "limit": limit,
        "batch_size": batch_size,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
