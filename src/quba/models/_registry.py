"""The registry of model sources and :func:`create_classifier`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quba.errors import ModelError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from quba.models._classifier import Classifier
    from quba.models._spec import ModelSpec
    from quba.models.preprocessing import Preprocessing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildOptions:
    """What every source receives besides the spec.

    ``device="meta"`` builds the architecture without allocating or initialising weights (for
    counting parameters); published weights cannot be loaded there.
    """

    pretrained: bool = True
    checkpoint: Path | None = None
    device: str = "cpu"

    @property
    def on_meta(self) -> bool:
        return self.device == "meta"


@dataclass(frozen=True)
class ModelSource:
    """A registered source of classifiers.

    Attributes:
        name: the prefix of its specs (``timm`` in ``timm:resnet50``).
        build: ``(spec, options) -> Classifier``.
        syntax: the spec grammar, for help texts.
        description: one sentence.
    """

    name: str
    build: Callable[[ModelSpec, BuildOptions], Classifier]
    syntax: str
    description: str


_SOURCES: dict[str, ModelSource] = {}
_BUILTIN = (
    "quba.models._timm",
    "quba.models._torchvision",
    "quba.models._open_clip",
    "quba.models._python",
    "quba.models.zoo",
)
_builtin_loaded = False


def _load_builtin_sources() -> None:
    """Import the built-in source modules once; importing one registers it."""
    global _builtin_loaded
    if _builtin_loaded:
        return
    _builtin_loaded = True
    import importlib

    for module in _BUILTIN:
        importlib.import_module(module)


def register_source(source: ModelSource) -> None:
    """Add a model source; registering a name twice is an error."""
    if source.name in _SOURCES:
        raise ValueError(f"A model source named {source.name!r} is already registered")
    if not source.name.isidentifier():
        raise ValueError(f"A model source name must be an identifier, got {source.name!r}")
    _SOURCES[source.name] = source


def list_sources() -> tuple[ModelSource, ...]:
    """The registered sources: the built-in ones first, then others in registration order."""
    return tuple(_SOURCES[name] for name in source_names())


def source_names() -> tuple[str, ...]:
    _load_builtin_sources()
    builtin = [module.rsplit(".", 1)[1].lstrip("_") for module in _BUILTIN]
    return (*builtin, *(name for name in _SOURCES if name not in builtin))


def get_source(name: str) -> ModelSource:
    _load_builtin_sources()
    try:
        return _SOURCES[name]
    except KeyError:
        raise ModelError(
            f"Unknown model source {name!r}; expected one of {', '.join(_SOURCES)}"
        ) from None


def create_classifier(
    spec: str | ModelSpec,
    *,
    pretrained: bool = True,
    checkpoint: Path | str | None = None,
    device: str | torch.device = "cpu",
) -> Classifier:
    """Build the classifier a model spec names.

    Args:
        spec: ``timm:NAME``, ``torchvision:NAME[:WEIGHTS]``, ``open_clip:ARCH/PRETRAINED``,
            ``python:package.module:factory`` (or ``python:path/to/file.py:factory``) or
            ``zoo:NAME``.
        pretrained: load the published weights (named models); ``False`` keeps the random
            initialisation (the CLI's ``--no-pretrained``). A ``python:`` factory that takes a
            ``pretrained`` argument receives it.
        checkpoint: a local file (a state dict, or a dict holding one under ``state_dict`` or
            ``model``) loaded with ``torch.load(weights_only=True)`` into the architecture;
            published weights are then not downloaded.
        device: where the module lives; ``"meta"`` builds the architecture without weights.

    Returns:
        A :class:`~quba.models.Classifier` whose module is in eval mode with frozen parameters.

    Raises:
        ModelError: the spec does not resolve, the factory fails, the checkpoint does not fit.
        MissingExtraError: the source needs an optional package (open_clip).
    """
    from quba.models._spec import parse_model_spec

    parsed = parse_model_spec(spec)
    device = str(device)
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if device == "meta":
            raise ModelError("A checkpoint cannot be loaded on the meta device")
        if not checkpoint.is_file():
            raise ModelError(f"Checkpoint file not found: {checkpoint}")
    options = BuildOptions(
        pretrained=pretrained and checkpoint is None, checkpoint=checkpoint, device=device
    )
    classifier = get_source(parsed.source).build(parsed, options)
    logger.info(
        "built %s (%.1f M parameters, weights %s)",
        classifier.spec,
        classifier.num_params / 1e6,
        classifier.weights_id,
    )
    return classifier


def finish_classifier(
    spec: str,
    network: nn.Module,
    preprocessing: Preprocessing,
    options: BuildOptions,
    *,
    num_classes: int | None = None,
    label_space: str = "imagenet-1k",
    weights_id: str | None = None,
    weights_by_content: bool = False,
) -> Classifier:
    """The last step of every source: wrap, load a checkpoint, freeze, move, describe.

    ``network`` takes normalized input (``preprocessing.mean``/``std``); the checkpoint, if any,
    is loaded into it. ``weights_id`` defaults to ``SPEC@pretrained`` for published weights and
    to the tensors' sha256 otherwise (always, with ``weights_by_content``).
    """
    import torch

    from quba.models._checkpoint import load_checkpoint
    from quba.models._classifier import (
        Classifier,
        Normalized,
        count_parameters,
        file_sha256,
        tensors_sha256,
    )

    if options.checkpoint is not None:
        load_checkpoint(network, options.checkpoint, spec)
    module = Normalized(network, preprocessing.mean, preprocessing.std)
    module.eval()
    module.requires_grad_(False)
    if not options.on_meta:
        module.to(torch.device(options.device))

    if options.checkpoint is not None:
        weights_id = file_sha256(options.checkpoint)
    elif options.on_meta:
        weights_id = f"{spec}@meta"
    elif weights_id is None:
        published = options.pretrained and not weights_by_content
        weights_id = f"{spec}@pretrained" if published else tensors_sha256(module)
    if num_classes is None:
        num_classes = _infer_num_classes(network, spec)
    return Classifier(
        spec=spec,
        module=module,
        preprocessing=preprocessing,
        num_params=count_parameters(module),
        num_classes=num_classes,
        label_space=label_space,
        weights_id=weights_id,
        pretrained=options.pretrained,
        source_spec=spec,
        checkpoint=None if options.checkpoint is None else str(options.checkpoint),
    )


def build_on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    """Run ``build`` with the meta device as default, so that no weights are allocated.

    Some initialisers read tensor values (torchvision's RegNet); for those the module is built
    on the CPU and moved to the meta device.
    """
    import torch

    try:
        with torch.device("meta"):
            return build()
    except NotImplementedError:
        logger.debug("building on the meta device failed; building on the CPU instead")
        return build().to("meta")


def _infer_num_classes(network: nn.Module, spec: str) -> int:
    for name in ("num_classes", "out_features"):
        value = getattr(network, name, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ModelError(
        f"Cannot tell how many classes {spec} predicts",
        hint="Give the module an integer attribute `num_classes`.",
    )
