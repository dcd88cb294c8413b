"""``torchvision:NAME[:WEIGHTS]``: torchvision classifiers, preprocessing from their weights."""

from __future__ import annotations

import difflib
import logging

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

# Builders whose architecture depends on whether weights are given: with weights, torchvision
# turns on ``transform_input`` and (for GoogLeNet) drops the auxiliary classifiers after loading.
# Random-weight builds use the same architecture, so that --no-pretrained counts the same
# parameters as the published model.
_PRETRAINED_ARCHITECTURE = {
    "googlenet": {"transform_input": True, "aux_logits": False, "init_weights": True},
    "inception_v3": {"transform_input": True, "aux_logits": True, "init_weights": True},
}


def torchvision_preprocessing(weights) -> Preprocessing:
    """Resize, crop, interpolation, mean and std of ``weights.transforms()``."""
    transform = weights.transforms()
    resize, crop = transform.resize_size, transform.crop_size
    resize = resize[0] if isinstance(resize, list | tuple) else resize
    crop = crop[0] if isinstance(crop, list | tuple) else crop
    return Preprocessing(
        resize=int(resize),
        crop=int(crop),
        interpolation=transform.interpolation.value,
        mean=tuple(float(m) for m in transform.mean),
        std=tuple(float(s) for s in transform.std),
    )


def _classification_models() -> list[str]:
    import torchvision.models as models

    return sorted(models.list_models(module=models))


def resolve_weights(name: str, weights_name: str | None):
    """The weights enum member for ``torchvision:NAME[:WEIGHTS]`` (``DEFAULT`` when omitted)."""
    from torchvision.models import get_model_weights

    architectures = _classification_models()
    if name not in architectures:
        close = difflib.get_close_matches(name, architectures, n=5)
        raise ModelError(
            f"torchvision has no classification model {name!r}",
            hint=f"Did you mean: {', '.join(close)}?"
            if close
            else "See torchvision.models.list_models(module=torchvision.models).",
        )
    enum = get_model_weights(name)
    weights_name = weights_name or "DEFAULT"
    try:
        return enum[weights_name] if weights_name != "DEFAULT" else enum.DEFAULT
    except KeyError:
        names = ", ".join(["DEFAULT", *(w.name for w in enum)])
        raise ModelError(
            f"torchvision model {name!r} has no weights {weights_name!r}; expected one of {names}"
        ) from None


def _build(spec: ModelSpec, options: BuildOptions):
    from torchvision.models import get_model

    name, _, weights_name = spec.name.partition(":")
    weights = resolve_weights(name, weights_name or None)
    canonical = f"torchvision:{name}:{weights.name}"
    num_classes = len(weights.meta["categories"])
    if options.pretrained and not options.on_meta:
        network = get_model(name, weights=weights)
    else:
        kwargs = {"num_classes": num_classes, **_PRETRAINED_ARCHITECTURE.get(name, {})}
        if options.on_meta:
            network = build_on_meta(lambda: get_model(name, weights=None, **kwargs))
        else:
            network = get_model(name, weights=None, **kwargs)
    return finish_classifier(
        canonical,
        network,
        torchvision_preprocessing(weights),
        options,
        num_classes=num_classes,
    )


register_source(
    ModelSource(
        name="torchvision",
        build=_build,
        syntax="torchvision:NAME[:WEIGHTS]",
        description="a torchvision classifier; preprocessing from its weights' transforms "
        "(WEIGHTS defaults to DEFAULT)",
    )
)
