"""Realistic fake results in the store's long format, for the report's tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

KEYS = [
    "accuracy",
    "adv_robustness",
    "c_robustness",
    "ood_robustness",
    "calibration_error",
    "class_balance",
    "object_focus",
    "shape_bias",
    "params",
]
# PROTOCOL.md's reference statistics, written out here independently of quba's code.
MU = dict(
    zip(
        KEYS,
        [
            0.7990557251908397,
            0.18583778826016084,
            0.5298791080592711,
            0.5664841617855405,
            0.004479927389289115,
            0.783356376851669,
            0.9286352601551336,
            0.30548520497464765,
            55.28778625954198,
        ],
        strict=True,
    )
)
SIGMA = dict(
    zip(
        KEYS,
        [
            0.034685710545946026,
            0.11083062192390095,
            0.23383978329969085,
            0.14548627504237352,
            0.0026752085291489288,
            0.024047971612660052,
            0.017724144886557092,
            0.08354531823072534,
            42.8890536095964,
        ],
        strict=True,
    )
)
WEIGHTS = dict(zip(KEYS, [1, 1 / 3, 1 / 3, 1 / 3, 1, 1, 1 / 2, 1 / 2, 1], strict=True))
SIGN = {k: -1.0 if k in ("calibration_error", "params") else 1.0 for k in KEYS}

# Specs of the paper's zoo (so quba.models.zoo_metadata knows them) with their parameters.
MODELS = [
    ("timm:resnet50.a1_in1k", 25.6),
    ("torchvision:convnext_small:IMAGENET1K_V1", 50.2),
    ("timm:vit_base_patch16_224.augreg_in21k_ft_in1k", 86.6),
    ("torchvision:shufflenet_v2_x0_5:IMAGENET1K_V1", 1.4),
    ("timm:deit_small_patch16_224.fb_in1k", 22.1),
    ("open_clip:ViT-B-32/openai", 151.3),
]
# A larger zoo for the README's screenshot.
SCREENSHOT_MODELS = [
    *MODELS,
    ("timm:resnet101.a2_in1k", 44.5),
    ("torchvision:regnet_y_3_2gf:IMAGENET1K_V1", 19.4),
    ("timm:swinv2_tiny_window16_256.ms_in1k", 28.3),
    ("timm:deit3_base_patch16_224.fb_in1k", 86.6),
    ("timm:hiera_tiny_224.mae_in1k_ft_in1k", 27.9),
    ("timm:levit_128.fb_dist_in1k", 9.2),
]
CORRUPTIONS = ["gaussian_noise", "shot_noise", "defocus_blur", "fog", "contrast"]


def expected_quba(values: dict[str, float], weights: dict[str, float] = WEIGHTS) -> float:
    """QUBA from PROTOCOL.md, computed here with plain Python."""
    num = sum(weights[k] * SIGN[k] * (values[k] - MU[k]) / SIGMA[k] for k in KEYS)
    return num / sum(weights[k] for k in KEYS)


def expected_self_quba(
    values: dict[str, dict[str, float]], weights: dict[str, float] = WEIGHTS
) -> dict[str, float]:
    """QUBA of every model against these models, computed here with plain Python: μ = mean,
    σ = sample standard deviation (n − 1) per dimension; a dimension whose values are all equal
    gets weight 0. ``values``: model -> key -> value (every model has every key)."""
    mu, sigma, used = {}, {}, {}
    for key in KEYS:
        column = [v[key] for v in values.values()]
        mu[key] = sum(column) / len(column)
        sigma[key] = (sum((x - mu[key]) ** 2 for x in column) / (len(column) - 1)) ** 0.5
        used[key] = 0.0 if len(set(column)) < 2 else weights[key]
    return {
        spec: sum(used[k] * SIGN[k] * (v[k] - mu[k]) / sigma[k] for k in KEYS if used[k])
        / sum(used.values())
        for spec, v in values.items()
    }


def fake_results(
    models: list[tuple[str, float]] = MODELS,
    *,
    protocol: str = "paper",
    seed: int = 0,
    missing: dict[str, dict[str, str]] | None = None,
    subset: bool = False,
) -> pd.DataFrame:
    """One row per model x dimension: values near the paper's μ, intervals and breakdowns."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for spec, params in models:
        for key in KEYS:
            if key == "params":
                value = params
            else:
                value = float(MU[key] + SIGMA[key] * rng.normal(0, 1))
                value = float(np.clip(value, 1e-4, 0.999))
            reason = (missing or {}).get(spec, {}).get(key)
            half = 0 if key == "params" else abs(value) * 0.01 + 1e-4
            rows.append(
                {
                    "model": spec,
                    "protocol": protocol,
                    "protocol_version": "1",
                    "dimension": key,
                    "value": np.nan if reason else value,
                    "ci_low": np.nan if reason or key == "params" else value - half,
                    "ci_high": np.nan if reason or key == "params" else value + half,
                    "num_samples": 0 if key == "params" else 50_000,
                    "missing_reason": reason,
                    "breakdown": _breakdown(key, value, rng),
                    "provenance": {
                        "versions": {"torch": "2.5.1", "timm": "1.0.11", "quba": "0.1.0"},
                        "device": "cuda:0",
                        "seed": 0,
                        "data": {"imagenet_val": "sha256:4f2c…"},
                        "time": "2026-12-01T10:00:00Z",
                    },
                    "subset": subset,
                }
            )
    return pd.DataFrame(rows)


def _breakdown(key: str, value: float, rng: np.random.Generator) -> dict[str, Any]:
    """Breakdowns shaped like those of quba.dimensions (src/quba/dimensions/builtin.py)."""
    clean = 0.8
    if key == "accuracy":
        return {"num_correct": int(value * 50_000), "num_images": 50_000}
    if key == "adv_robustness":
        return {
            name: {
                "clean_accuracy": clean,
                "attacked_accuracy": round(clean * value * f, 4),
                "num_images": 50_000,
            }
            for name, f in (("pgd", 0.8), ("fgsm", 1.2))
        }
    if key == "c_robustness":
        accuracy = {
            c: {str(s): round(float(0.75 - 0.1 * s * rng.uniform(0.5, 1)), 4) for s in range(1, 6)}
            for c in CORRUPTIONS
        }
        return {"accuracy": accuracy, "clean_accuracy": clean, "num_groups": 25}
    if key == "ood_robustness":
        names = ["edge", "silhouette", "sketch", "stylized", "imagenet_r"]
        accuracy = {n: round(float(rng.uniform(0.2, 0.8)), 4) for n in names}
        return {"accuracy": accuracy, "clean_accuracy": clean}
    if key == "calibration_error":
        return {"ece": value * 1.2, "ace": value / 1.2, "ece_interval": [0.0, 1.0], "bins": 15}
    if key == "class_balance":
        return {"accuracy_term": 0.8, "probability_term": 0.75, "num_classes": 1000}
    if key == "object_focus":
        return {"mixed_same_accuracy": 0.8, "mixed_rand_accuracy": 0.7, "clean_accuracy": clean}
    if key == "shape_bias":
        shape, texture = int(rng.integers(100, 400)), int(rng.integers(300, 800))
        return {
            "shape_decisions": shape,
            "texture_decisions": texture,
            "images_used": 1200,
            "other_decisions": 1200 - shape - texture,
        }
    return {"num_params": int(value * 1e6)}
