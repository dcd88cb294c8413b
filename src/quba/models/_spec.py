"""Model specs: the one string that says where a classifier comes from."""

from __future__ import annotations

from dataclasses import dataclass

from quba.errors import ModelError

_EXAMPLES = (
    "timm:convnext_tiny.fb_in1k, torchvision:resnet50, torchvision:resnet50:IMAGENET1K_V2, "
    "open_clip:ViT-B-32/laion2b_s34b_b79k, python:my_package.models:build, zoo:ResNet50"
)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec ``SOURCE:NAME``.

    Attributes:
        source: the registered source (``timm``, ``torchvision``, ``open_clip``, ``python``,
            ``zoo``).
        name: everything after the first colon, verbatim (``resnet50:IMAGENET1K_V2`` for
            torchvision, ``package.module:factory`` for python).
    """

    source: str
    name: str

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


def parse_model_spec(spec: str | ModelSpec) -> ModelSpec:
    """Split ``"SOURCE:NAME"`` into a :class:`ModelSpec`; the source must be registered.

    >>> parse_model_spec("torchvision:resnet50:IMAGENET1K_V2")
    ModelSpec(source='torchvision', name='resnet50:IMAGENET1K_V2')
    """
    from quba.models._registry import source_names

    if isinstance(spec, ModelSpec):
        return spec
    if not isinstance(spec, str):
        raise ModelError(f"Expected a model spec string, but got {type(spec).__name__}")
    text = spec.strip()
    source, colon, name = text.partition(":")
    sources = source_names()
    if not colon or not name.strip():
        hint = f"Examples: {_EXAMPLES}"
        if text and not colon:
            from quba.models.zoo import find_zoo_entry

            if find_zoo_entry(text) is not None:
                hint = f"{text!r} is a model of the paper's zoo: write zoo:{text}"
        raise ModelError(
            f"Expected a model spec SOURCE:NAME with SOURCE one of {', '.join(sources)}, "
            f"but got {spec!r}",
            hint=hint,
        )
    if source not in sources:
        raise ModelError(
            f"Unknown model source {source!r} in spec {spec!r}; expected one of "
            f"{', '.join(sources)}",
            hint=f"Examples: {_EXAMPLES}",
        )
    return ModelSpec(source=source, name=name.strip())


def short_model_name(spec: str) -> str:
    """How tables, progress bars and reports name a model: the factory of a ``python:`` spec
    (``python:quba.synthetic.zoo:plain_cnn`` -> ``plain_cnn``), else the spec itself."""
    return spec.rsplit(":", 1)[-1] if spec.startswith("python:") else spec
