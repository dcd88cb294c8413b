"""The nine dimensions of PROTOCOL.md, registered in its order.

Every value comes with a percentile bootstrap interval (except ``params``). Replicate ``r`` of
every dimension uses the same draw of clean ImageNet images; datasets whose sample ids are clean
sample ids (attacked and corrupted copies of the clean images) are resampled jointly with it, other
datasets independently (one seeded stream per dataset).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from quba.data.suites import EXTRA_CORRUPTIONS
from quba.dimensions.registry import CLEAN, DimensionInputs, Direction, register_dimension
from quba.dimensions.registry import Dimension as _Dimension
from quba.dimensions.result import DimensionResult
from quba.errors import DataError
from quba.inference.predictions import PredictionNeed, Predictions
from quba.metrics import bootstrap
from quba.metrics._arrays import softmax
from quba.metrics.balance import class_balance_terms, make_class_balance
from quba.metrics.calibration import AceReplicates, ece_bin_index
from quba.metrics.classification import category_decisions, rendition_predictions

PGD = "imagenet_val:pgd"
FGSM = "imagenet_val:fgsm"
OOD_CATEGORY_DATASETS = ("edge", "silhouette", "sketch", "stylized")
OOD_DATASETS = (*OOD_CATEGORY_DATASETS, "imagenet_r")


# ---------------------------------------------------------------------------------------------
# helpers


def _result(
    inputs: DimensionInputs,
    key: str,
    value: float | None,
    replicates: np.ndarray | None,
    num_samples: int,
    breakdown: dict,
    missing_reason: str = "clean ImageNet accuracy is zero",
) -> DimensionResult:
    if value is None or not math.isfinite(value):
        return DimensionResult(
            key=key,
            value=None,
            num_samples=num_samples,
            breakdown=breakdown,
            missing_reason=missing_reason,
        )
    low, high = (None, None) if replicates is None else inputs.interval(replicates)
    return DimensionResult(
        key=key,
        value=float(value),
        ci_low=low,
        ci_high=high,
        num_samples=num_samples,
        breakdown=breakdown,
    )


def _ratio(numerator: np.ndarray | float, denominator: np.ndarray | float) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _clean_accuracy(inputs: DimensionInputs) -> tuple[float, np.ndarray]:
    """A and its replicates (R,)."""
    correct = inputs.clean.correct
    reps = bootstrap.weighted_mean(inputs.clean_weights(), correct)
    return float(correct.mean()), reps


def _weights(inputs: DimensionInputs, key: str, ids: np.ndarray) -> np.ndarray:
    """(R, N) replicate counts for the images ``ids`` of dataset ``key``: joint with the clean set
    when the ids are clean sample ids, else an independent seeded draw over this dataset."""
    joint_candidate = key in (PGD, FGSM) or key.startswith("imagenet_c")
    if joint_candidate and inputs.shares_clean_images(ids):
        return inputs.clean_weights(ids)
    universe = np.unique(ids)
    rng = bootstrap.stream(inputs.base_seed, key)
    return bootstrap.counts_for(
        ids, universe, bootstrap.draw_counts(len(universe), inputs.num_replicates, rng)
    )


def _clean_positions(inputs: DimensionInputs, ids: np.ndarray, key: str) -> np.ndarray:
    clean_ids = inputs.clean.sample_ids
    order = np.argsort(clean_ids, kind="stable")
    pos = np.searchsorted(clean_ids, ids, sorter=order)
    pos = np.minimum(pos, len(order) - 1)
    found = clean_ids[order[pos]] == ids
    if not np.all(found):
        missing = ids[~found][:5].tolist()
        raise DataError(
            f"Expected every sample id of {key} among the {CLEAN} sample ids, but "
            f"{int((~found).sum())} are not (e.g. {missing})"
        )
    return order[pos]


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(names, codes)`` with ``names`` the sorted distinct strings of ``values`` and
    ``names[codes] == values``, as ``np.unique(values, return_inverse=True)`` gives, but found
    from the runs of equal neighbours: ImageNet-C's 3.75 M corruption names come in 75 runs, so
    no sorted copy of the strings is made."""
    values = np.asarray(values)
    if len(values) == 0:
        return np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    names, run_codes = np.unique(values[starts].astype(str), return_inverse=True)
    lengths = np.diff(np.append(starts, len(values)))
    return names, np.repeat(run_codes.reshape(-1), lengths)


def _correct(predictions: Predictions) -> np.ndarray:
    """1.0 where the top-1 class (first maximum on ties) is the target; reads only ``.top1``."""
    return (predictions.top1 == predictions.targets).astype(np.float64)


def _category_correct(inputs: DimensionInputs, predictions: Predictions) -> np.ndarray:
    decisions = category_decisions(softmax(predictions.logits), inputs.label_space.categories)
    return (decisions == predictions.targets).astype(np.float64)


def _define(
    key: str,
    display_name: str,
    direction: Direction,
    weight: float,
    requires: tuple[str, ...],
    unit: str = "",
    description: str = "",
    needs: tuple[tuple[str, PredictionNeed], ...] = (),
) -> Callable[[Callable[[DimensionInputs], DimensionResult]], Callable]:
    def wrap(fn: Callable[[DimensionInputs], DimensionResult]) -> Callable:
        register_dimension(
            _Dimension(
                key=key,
                display_name=display_name,
                direction=direction,
                weight=weight,
                requires=requires,
                compute_fn=fn,
                unit=unit,
                description=description,
                needs=needs,
            )
        )
        return fn

    return wrap


# ---------------------------------------------------------------------------------------------
# the nine dimensions


@_define(
    "accuracy", "Accuracy", "higher", 1.0, (CLEAN,), description="top-1 accuracy on ImageNet-1k val"
)
def _accuracy(inputs: DimensionInputs) -> DimensionResult:
    value, reps = _clean_accuracy(inputs)
    n = len(inputs.clean.correct)
    breakdown = {"num_correct": int(inputs.clean.correct.sum()), "num_images": n}
    return _result(inputs, "accuracy", value, reps, n, breakdown)


@_define(
    "adv_robustness",
    "Adversarial Robustness",
    "higher",
    1 / 3,
    (CLEAN, PGD, FGSM),
    description="gmean(A_PGD / A_clean, A_FGSM / A_clean) on the attacked images",
    needs=((PGD, "top1"), (FGSM, "top1")),
)
def _adv_robustness(inputs: DimensionInputs) -> DimensionResult:
    ratios, rep_ratios, breakdown = [], [], {}
    n = 0
    for name, key in (("pgd", PGD), ("fgsm", FGSM)):
        attacked = inputs.predictions[key]
        ids = attacked.sample_ids.astype(np.int64)
        clean_correct = inputs.clean.correct[_clean_positions(inputs, ids, key)]
        attacked_correct = _correct(attacked)
        w = _weights(inputs, key, ids)
        clean_acc, attacked_acc = float(clean_correct.mean()), float(attacked_correct.mean())
        ratios.append(_ratio(attacked_acc, clean_acc))
        rep_ratios.append(
            _ratio(
                bootstrap.weighted_mean(w, attacked_correct),
                bootstrap.weighted_mean(w, clean_correct),
            )
        )
        breakdown[name] = {
            "clean_accuracy": clean_acc,
            "attacked_accuracy": attacked_acc,
            "num_images": len(ids),
        }
        n = max(n, len(ids))
    value = float(np.sqrt(ratios[0] * ratios[1]))
    reps = np.sqrt(rep_ratios[0] * rep_ratios[1]) if inputs.num_replicates else None
    return _result(
        inputs,
        "adv_robustness",
        value,
        reps,
        n,
        breakdown,
        "clean accuracy on the attacked images is zero",
    )


@_define(
    "c_robustness",
    "Corruption Robustness",
    "higher",
    1 / 3,
    (CLEAN, "imagenet_c"),
    description="mean over corruptions and severities of A_{c,s} / A",
    needs=(("imagenet_c", "top1"),),
)
def _c_robustness(inputs: DimensionInputs) -> DimensionResult:
    preds = inputs.predictions["imagenet_c"]
    for field in ("corruption", "severity"):
        if field not in preds.meta:
            raise DataError(
                f"Expected imagenet_c predictions with meta {field!r}, but it is absent"
            )
    correct = _correct(preds)
    names, name_code = _factorize(preds.meta["corruption"])
    severity = np.asarray(preds.meta["severity"]).astype(np.int64, copy=False)
    ids = preds.sample_ids.astype(np.int64, copy=False)
    clean, clean_reps = _clean_accuracy(inputs)

    accuracy: dict[str, dict[str, float]] = {}
    group_acc, group_reps = [], []
    num_scored = 0
    for code, name in enumerate(names.tolist()):
        if name in EXTRA_CORRUPTIONS:
            continue
        of_name = name_code == code
        for sev in np.unique(severity[of_name]).tolist():
            mask = of_name & (severity == sev)
            acc = float(correct[mask].mean())
            num_scored += int(mask.sum())
            accuracy.setdefault(name, {})[str(sev)] = acc
            group_acc.append(acc)
            if inputs.num_replicates:
                w = _weights(inputs, f"imagenet_c/{name}/{sev}", ids[mask])
                group_reps.append(bootstrap.weighted_mean(w, correct[mask]))
    if not group_acc:
        return DimensionResult(
            key="c_robustness",
            value=None,
            missing_reason="no imagenet_c predictions of a scored corruption",
        )
    breakdown = {"accuracy": accuracy, "clean_accuracy": clean, "num_groups": len(group_acc)}
    value = float(_ratio(np.mean(group_acc), clean))
    reps = _ratio(np.mean(group_reps, axis=0), clean_reps) if inputs.num_replicates else None
    return _result(inputs, "c_robustness", value, reps, num_scored, breakdown)


@_define(
    "ood_robustness",
    "OOD Robustness",
    "higher",
    1 / 3,
    (CLEAN, *OOD_DATASETS),
    description="gmean of A_d / A over edge, silhouette, sketch, stylized and ImageNet-R",
)
def _ood_robustness(inputs: DimensionInputs) -> DimensionResult:
    clean, clean_reps = _clean_accuracy(inputs)
    accuracy: dict[str, float] = {}
    ratios, rep_ratios = [], []
    for key in OOD_DATASETS:
        preds = inputs.predictions[key]
        if key == "imagenet_r":
            kept = rendition_predictions(preds.logits, inputs.label_space.rendition_classes)
            correct = (kept == preds.targets).astype(np.float64)
        else:
            correct = _category_correct(inputs, preds)
        accuracy[key] = float(correct.mean())
        ratios.append(_ratio(accuracy[key], clean))
        if inputs.num_replicates:
            w = _weights(inputs, key, preds.sample_ids.astype(np.int64))
            rep_ratios.append(_ratio(bootstrap.weighted_mean(w, correct), clean_reps))
    breakdown = {"accuracy": accuracy, "clean_accuracy": clean}
    value = float(np.prod(ratios) ** (1 / len(ratios)))
    reps = np.prod(rep_ratios, axis=0) ** (1 / len(rep_ratios)) if inputs.num_replicates else None
    n = sum(len(inputs.predictions[k]) for k in OOD_DATASETS)
    return _result(inputs, "ood_robustness", value, reps, n, breakdown)


@_define(
    "calibration_error",
    "Calibration Error",
    "lower",
    1.0,
    (CLEAN,),
    description="gmean(ECE, ACE) on ImageNet val, 15 bins",
)
def _calibration_error(inputs: DimensionInputs) -> DimensionResult:
    clean = inputs.clean
    n_bins = inputs.protocol.calibration_bins
    bins = ece_bin_index(clean.confidence, n_bins)
    counts = np.vstack([np.ones((1, len(bins)), dtype=np.int32), inputs.clean_weights()])
    ece = np.empty(len(counts))
    for r, w in enumerate(counts.astype(np.float64)):
        acc = np.bincount(bins, weights=w * clean.correct, minlength=n_bins + 1)
        conf = np.bincount(bins, weights=w * clean.confidence, minlength=n_bins + 1)
        ece[r] = np.abs(acc - conf).sum() / w.sum()
    preds = inputs.predictions[CLEAN]
    ace = AceReplicates(preds.logits, preds.targets, n_bins).compute(counts)
    values = np.sqrt(ece * ace)
    breakdown = {
        "ece": float(ece[0]),
        "ace": float(ace[0]),
        "ece_interval": list(inputs.interval(ece[1:])),
        "ace_interval": list(inputs.interval(ace[1:])),
        "bins": n_bins,
    }
    reps = values[1:] if inputs.num_replicates else None
    return _result(inputs, "calibration_error", float(values[0]), reps, len(bins), breakdown)


@_define(
    "class_balance",
    "Class Balance",
    "higher",
    1.0,
    (CLEAN,),
    description="gmean(1 - std_k acc_k, 1 - mean_k std_k p[y]) on ImageNet val",
)
def _class_balance(inputs: DimensionInputs) -> DimensionResult:
    clean = inputs.clean
    num_classes = inputs.label_space.num_classes
    counts = np.vstack([np.ones((1, len(clean.target))), inputs.clean_weights()])
    acc_term, prob_term = class_balance_terms(
        clean.correct, clean.true_prob, clean.target, num_classes, counts
    )
    balance = make_class_balance(
        float(acc_term[0]), float(prob_term[0]), len(np.unique(clean.target))
    )
    breakdown = {
        "accuracy_term": balance.accuracy_term,
        "probability_term": balance.probability_term,
        "num_classes": balance.num_classes,
    }
    with np.errstate(invalid="ignore"):
        reps = np.sqrt(np.where((acc_term >= 0) & (prob_term >= 0), acc_term * prob_term, np.nan))
    return _result(
        inputs,
        "class_balance",
        balance.value,
        reps[1:] if inputs.num_replicates else None,
        len(clean.target),
        breakdown,
        "fewer than two classes have images",
    )


@_define(
    "object_focus",
    "Object Focus",
    "higher",
    1 / 2,
    (CLEAN, "mixed_same", "mixed_rand"),
    description="1 - (A_mixed_same - A_mixed_rand) / A on the Backgrounds Challenge",
    needs=(("mixed_same", "top1"), ("mixed_rand", "top1")),
)
def _object_focus(inputs: DimensionInputs) -> DimensionResult:
    clean, clean_reps = _clean_accuracy(inputs)
    table = inputs.label_space.object_class_of
    same, rand = inputs.predictions["mixed_same"], inputs.predictions["mixed_rand"]
    c_same = (table[same.top1] == same.targets).astype(np.float64)
    c_rand = (table[rand.top1] == rand.targets).astype(np.float64)
    a_same, a_rand = float(c_same.mean()), float(c_rand.mean())
    breakdown = {
        "mixed_same_accuracy": a_same,
        "mixed_rand_accuracy": a_rand,
        "clean_accuracy": clean,
    }
    value = None if clean <= 0 else 1.0 - (a_same - a_rand) / clean
    reps = None
    if inputs.num_replicates:
        if np.array_equal(np.sort(same.sample_ids), np.sort(rand.sample_ids)):
            # the same foregrounds on two kinds of background: resample them jointly
            universe = np.unique(same.sample_ids)
            rng = bootstrap.stream(inputs.base_seed, "mixed_same")
            draw = bootstrap.draw_counts(len(universe), inputs.num_replicates, rng)
            w_same = bootstrap.counts_for(same.sample_ids, universe, draw)
            w_rand = bootstrap.counts_for(rand.sample_ids, universe, draw)
        else:
            w_same = _weights(inputs, "mixed_same", same.sample_ids.astype(np.int64))
            w_rand = _weights(inputs, "mixed_rand", rand.sample_ids.astype(np.int64))
        gap = bootstrap.weighted_mean(w_same, c_same) - bootstrap.weighted_mean(w_rand, c_rand)
        reps = 1.0 - _ratio(gap, clean_reps)
    return _result(inputs, "object_focus", value, reps, len(same) + len(rand), breakdown)


@_define(
    "shape_bias",
    "Shape Bias",
    "higher",
    1 / 2,
    ("cue_conflict",),
    description="#shape / (#shape + #texture) on cue-conflict images with shape != texture",
)
def _shape_bias(inputs: DimensionInputs) -> DimensionResult:
    preds = inputs.predictions["cue_conflict"]
    if "texture" not in preds.meta:
        raise DataError("Expected cue_conflict predictions with meta 'texture', but it is absent")
    decisions = category_decisions(softmax(preds.logits), inputs.label_space.categories)
    shape = preds.targets.astype(np.int64)
    texture = np.asarray(preds.meta["texture"]).astype(np.int64)
    used = shape != texture
    is_shape = (used & (decisions == shape)).astype(np.float64)
    is_texture = (used & (decisions == texture)).astype(np.float64)
    n_shape, n_texture = int(is_shape.sum()), int(is_texture.sum())
    breakdown = {
        "shape_decisions": n_shape,
        "texture_decisions": n_texture,
        "images_used": int(used.sum()),
        "other_decisions": int(used.sum()) - n_shape - n_texture,
    }
    if n_shape + n_texture == 0:
        return DimensionResult(
            key="shape_bias",
            value=None,
            num_samples=int(used.sum()),
            breakdown=breakdown,
            missing_reason="no shape or texture decision on cue-conflict images",
        )
    reps = None
    if inputs.num_replicates:
        w = _weights(inputs, "cue_conflict", preds.sample_ids.astype(np.int64)).astype(np.float64)
        reps = _ratio(w @ is_shape, w @ (is_shape + is_texture))
    return _result(
        inputs, "shape_bias", n_shape / (n_shape + n_texture), reps, int(used.sum()), breakdown
    )


@_define(
    "params",
    "Parameters",
    "lower",
    1.0,
    (),
    unit="M",
    description="number of parameters, in millions",
)
def _params(inputs: DimensionInputs) -> DimensionResult:
    if inputs.num_params is None:
        return DimensionResult(key="params", value=None, missing_reason="parameter count not given")
    if inputs.num_params < 0:
        raise DataError(f"Expected a non-negative parameter count, but got {inputs.num_params}")
    return DimensionResult(
        key="params",
        value=inputs.num_params / 1e6,
        breakdown={"num_params": int(inputs.num_params)},
    )
