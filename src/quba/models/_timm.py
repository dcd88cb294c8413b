"""``timm:NAME``: any timm model, with its preprocessing from timm's data config."""

from __future__ import annotations

import difflib
import logging
import math

from quba.errors import ModelError
from quba.models._registry import (
    BuildOptions,
    ModelSource,
    build_on_meta,
    finish_classifier,
    register_source,
)
from quba.models._spec import ModelSpec
from quba.models.preprocessing import Preprocessing

logger = logging.getLogger(__name__)

_IMAGENET_CLASSES = 1000


def timm_preprocessing(config: dict, spec: str) -> Preprocessing:
    """Preprocessing from a resolved timm data config (``timm.data.resolve_data_config``).

    Like timm's eval transform: crop = the input size, resize = floor(crop / crop_pct);
    ``crop_mode="squash"`` resizes both sides.
    """
    _, height, width = config["input_size"]
    if height != width:
        raise ModelError(
            f"{spec} expects a non-square input {height}x{width}; quba's preprocessing "
            "centre-crops squares only"
        )
    crop_pct = config.get("crop_pct") or 0.875
    crop_mode = config.get("crop_mode") or "center"
    if crop_mode not in ("center", "squash"):
        raise ModelError(
            f"{spec} uses timm's crop_mode={crop_mode!r}, which quba does not implement "
            "(supported: center, squash)"
        )
    return Preprocessing(
        resize=math.floor(height / crop_pct),
        crop=height,
        interpolation=config.get("interpolation") or "bicubic",
        mean=tuple(float(m) for m in config["mean"]),
        std=tuple(float(s) for s in config["std"]),
        resize_mode="squash" if crop_mode == "squash" else "shortest",
    )


def _build(spec: ModelSpec, options: BuildOptions):
    import timm
    from timm.data import resolve_data_config

    name = spec.name
    architecture = name.split(".", 1)[0]
    if not timm.is_model(architecture):
        close = difflib.get_close_matches(architecture, timm.list_models(), n=5)
        raise ModelError(
            f"timm has no model {architecture!r} (spec timm:{name})",
            hint=f"Did you mean: {', '.join(close)}?" if close else "See timm.list_models().",
        )
    if "." in name and options.pretrained and name not in timm.list_models(pretrained=True):
        tags = timm.list_pretrained(f"{architecture}.*")
        raise ModelError(
            f"timm has no pretrained weights {name!r}",
            hint=f"Available: {', '.join(tags)}" if tags else "See timm.list_pretrained().",
        )
    try:
        if options.on_meta:
            network = build_on_meta(lambda: timm.create_model(name, pretrained=False))
        else:
            network = timm.create_model(name, pretrained=options.pretrained)
    except RuntimeError as error:
        raise ModelError(f"timm could not build {name!r}: {error}") from None

    tag = network.pretrained_cfg.get("tag")
    canonical = f"timm:{architecture}.{tag}" if tag else f"timm:{architecture}"
    num_classes = network.num_classes
    if num_classes != _IMAGENET_CLASSES:
        raise ModelError(
            f"{canonical} predicts {num_classes} classes, not the 1000 of ImageNet-1k",
            hint="Choose weights fine-tuned on ImageNet-1k (a tag ending in in1k), or wrap the "
            "model in a python: factory that declares its label_space.",
        )
    config = resolve_data_config(model=network)
    preprocessing = timm_preprocessing(config, canonical)
    return finish_classifier(canonical, network, preprocessing, options, num_classes=num_classes)


register_source(
    ModelSource(
        name="timm",
        build=_build,
        syntax="timm:NAME[.TAG]",
        description="a timm model; preprocessing from timm's pretrained config",
    )
)
