"""``open_clip:ARCH/PRETRAINED``: a vision–language model as a zero-shot ImageNet classifier.

The class head is built once from text, as in the CLIP paper: for each of the 1000 ImageNet
classes, the 80 prompt templates are filled with the class name, encoded by the text tower,
L2-normalised, averaged, and the mean normalised again. Logits are
``logit_scale * cos(image features, class embedding)`` (plus SigLIP's ``logit_bias``); never
probabilities, since every metric applies its own softmax.

Parameter count (PROTOCOL.md: "the image tower plus the text-derived class head, which is a
fixed matrix and counts as parameters only if it is one"): the head is stored as a frozen
``nn.Parameter`` of shape (1000, embed_dim) — a linear layer with fixed weights, like the last
layer of any other classifier — so it counts; the text tower is discarded after building the
head and does not. The paper's table counted the whole CLIP model (both towers); the zoo
registry records that difference.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from quba.errors import MissingExtraError, ModelError
from quba.models._registry import BuildOptions, ModelSource, finish_classifier, register_source
from quba.models._spec import ModelSpec
from quba.models.preprocessing import Preprocessing

logger = logging.getLogger(__name__)

_TEXT_BATCH = 2048


class ZeroShotClassifier(nn.Module):
    """Image tower + fixed text-derived head: (N, 3, H, W) normalized input -> (N, C) logits.

    ``logits = logit_scale * normalize(visual(x)) @ head.T + logit_bias``, ``head`` (C, D) with
    unit-norm rows.
    """

    def __init__(
        self,
        visual: nn.Module,
        head: torch.Tensor,
        logit_scale: float | torch.Tensor,
        logit_bias: float | torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.visual = visual
        self.head = nn.Parameter(head.detach().clone(), requires_grad=False)
        self.register_buffer("logit_scale", torch.as_tensor(logit_scale).detach().clone())
        if logit_bias is not None:
            self.register_buffer("logit_bias", torch.as_tensor(logit_bias).detach().clone())
        else:
            self.logit_bias = None
        self.num_classes = head.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.visual(x)
        if isinstance(features, tuple | list):
            features = features[0]
        features = F.normalize(features, dim=-1)
        logits = self.logit_scale * features @ self.head.to(features.dtype).T
        return logits if self.logit_bias is None else logits + self.logit_bias


@torch.no_grad()
def zero_shot_head(
    encode_text: Callable[[torch.Tensor], torch.Tensor],
    tokenizer: Callable[[list[str]], torch.Tensor],
    classnames: Sequence[str],
    templates: Sequence[Callable[[str], str]],
    *,
    device: str | torch.device = "cpu",
    batch_size: int = _TEXT_BATCH,
) -> torch.Tensor:
    """Class embeddings (C, D): per class, the mean of the normalised template embeddings,
    normalised again."""
    per_batch = max(1, batch_size // len(templates))
    rows = []
    for start in range(0, len(classnames), per_batch):
        names = classnames[start : start + per_batch]
        texts = [template(name) for name in names for template in templates]
        embeddings = encode_text(tokenizer(texts).to(device)).float()
        embeddings = F.normalize(embeddings, dim=-1).view(len(names), len(templates), -1)
        rows.append(F.normalize(embeddings.mean(dim=1), dim=-1))
    return torch.cat(rows)


def zero_shot_classifier(
    model: nn.Module,
    tokenizer: Callable[[list[str]], torch.Tensor],
    classnames: Sequence[str] | None = None,
    templates: Sequence[Callable[[str], str]] | None = None,
    *,
    device: str | torch.device = "cpu",
) -> ZeroShotClassifier:
    """Turn an open_clip model into a :class:`ZeroShotClassifier` (its text tower is dropped).

    ``classnames`` and ``templates`` default to open_clip's 1000 ImageNet class names and the
    80 templates of the CLIP paper (``open_clip.zero_shot_metadata``).
    """
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES

    head = zero_shot_head(
        model.encode_text,
        tokenizer,
        IMAGENET_CLASSNAMES if classnames is None else classnames,
        OPENAI_IMAGENET_TEMPLATES if templates is None else templates,
        device=device,
    )
    return _zero_shot_module(model, head)


def _zero_shot_module(model: nn.Module, head: torch.Tensor) -> ZeroShotClassifier:
    logit_bias = getattr(model, "logit_bias", None)
    return ZeroShotClassifier(
        model.visual,
        head,
        model.logit_scale.detach().exp(),
        None if logit_bias is None else logit_bias.detach(),
    )


def open_clip_preprocessing(model, arch: str, tag: str | None) -> Preprocessing:
    """Image size, interpolation, resize mode, mean and std of open_clip's eval transform."""
    import open_clip
    from open_clip.transform import merge_preprocess_dict

    # As open_clip's create_model: defaults, overlaid by the pretrained tag's configuration
    # (also when the weights are not loaded), with the image size of the tower.
    cfg = dict(getattr(model.visual, "preprocess_cfg", None) or {})
    if tag:
        cfg = merge_preprocess_dict(cfg, open_clip.get_pretrained_cfg(arch, tag))
    size = model.visual.image_size
    size = size[0] if isinstance(size, list | tuple) else size
    mean = cfg.get("mean") or open_clip.OPENAI_DATASET_MEAN
    std = cfg.get("std") or open_clip.OPENAI_DATASET_STD
    resize_mode = cfg.get("resize_mode") or "shortest"
    if resize_mode not in ("shortest", "squash"):
        raise ModelError(
            f"open_clip:{arch} uses resize_mode={resize_mode!r}, which quba does not implement"
        )
    return Preprocessing(
        resize=int(size),
        crop=int(size),
        interpolation=cfg.get("interpolation") or "bicubic",
        mean=tuple(float(m) for m in mean),
        std=tuple(float(s) for s in std),
        resize_mode=resize_mode,
    )


def _import_open_clip():
    try:
        import open_clip
    except ImportError:
        raise MissingExtraError(
            "open_clip_torch", "clip", "Zero-shot vision-language classifiers (open_clip:)"
        ) from None
    return open_clip


def _build(spec: ModelSpec, options: BuildOptions):
    open_clip = _import_open_clip()
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    arch, _, tag = spec.name.partition("/")
    tag = tag or None
    if arch not in open_clip.list_models():
        import difflib

        close = difflib.get_close_matches(arch, open_clip.list_models(), n=5)
        raise ModelError(
            f"open_clip has no architecture {arch!r}",
            hint=f"Did you mean: {', '.join(close)}?" if close else "See open_clip.list_models().",
        )
    if tag is not None and tag not in open_clip.list_pretrained_tags_by_model(arch):
        tags = open_clip.list_pretrained_tags_by_model(arch)
        raise ModelError(
            f"open_clip has no pretrained weights {tag!r} for {arch}",
            hint=f"Available: {', '.join(tags)}" if tags else "This architecture has none.",
        )
    if tag is None and options.pretrained:
        raise ModelError(
            f"Expected open_clip:ARCH/PRETRAINED, but got open_clip:{arch} without weights",
            hint=f"Available: {', '.join(open_clip.list_pretrained_tags_by_model(arch))}; "
            "or build random weights with pretrained=False (--no-pretrained).",
        )
    canonical = f"open_clip:{arch}/{tag}" if tag else f"open_clip:{arch}"
    load = options.pretrained and not options.on_meta
    build_device = "meta" if options.on_meta else options.device
    # OpenAI's weights (and a few others) were trained with QuickGELU; a config without it
    # would load them into the wrong activation, so the tag decides, as in the -quickgelu names.
    tag_cfg = open_clip.get_pretrained_cfg(arch, tag) if tag else {}
    model_cfg = open_clip.get_model_config(arch) or {}
    quick_gelu = bool(tag_cfg.get("quick_gelu")) and not model_cfg.get("quick_gelu", False)
    with _quiet_random_init():
        if options.on_meta:
            with torch.device("meta"):
                model = open_clip.create_model(
                    arch, pretrained=None, device="meta", force_quick_gelu=quick_gelu
                )
        else:
            model = open_clip.create_model(
                arch,
                pretrained=tag if load else None,
                device=options.device,
                force_quick_gelu=quick_gelu,
            )
    model.eval()
    if options.checkpoint is not None:
        from quba.models._checkpoint import load_checkpoint

        load_checkpoint(model, options.checkpoint, canonical)
    preprocessing = open_clip_preprocessing(model, arch, tag)

    if options.on_meta:
        head = torch.empty(len(IMAGENET_CLASSNAMES), _embed_dim(arch), device="meta")
        network = _zero_shot_module(model, head)
    else:
        logger.info("building the zero-shot head of %s (1000 classes x 80 templates)", canonical)
        network = zero_shot_classifier(model, _tokenizer(arch, canonical), device=build_device)
    options_without_checkpoint = BuildOptions(
        pretrained=options.pretrained, checkpoint=None, device=options.device
    )
    classifier = finish_classifier(
        canonical,
        network,
        preprocessing,
        options_without_checkpoint,
        num_classes=len(IMAGENET_CLASSNAMES),
    )
    if options.checkpoint is not None:
        from dataclasses import replace

        from quba.models._classifier import file_sha256

        classifier = replace(
            classifier,
            weights_id=file_sha256(options.checkpoint),
            checkpoint=str(options.checkpoint),
            pretrained=False,
        )
    return classifier


def _tokenizer(arch: str, spec: str):
    import open_clip

    try:
        return open_clip.get_tokenizer(arch)
    except ImportError as error:
        # SigLIP-style models use a Hugging Face tokenizer, which open_clip imports lazily.
        raise ModelError(
            f"The text tokenizer of {spec} needs a package that is not installed: {error}",
            hint="Install it with: pip install transformers sentencepiece",
        ) from error


class _DropRandomInitWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No pretrained weights loaded")


@contextlib.contextmanager
def _quiet_random_init():
    """open_clip warns on the root logger when asked for random weights, which quba does on
    purpose (``pretrained=False``, the meta device)."""
    root = logging.getLogger()
    drop = _DropRandomInitWarning()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _embed_dim(arch: str) -> int:
    import open_clip

    config = open_clip.get_model_config(arch) or {}
    if not isinstance(config.get("embed_dim"), int):
        raise ModelError(f"Cannot tell the embedding width of open_clip:{arch}")
    return config["embed_dim"]


register_source(
    ModelSource(
        name="open_clip",
        build=_build,
        syntax="open_clip:ARCH/PRETRAINED",
        description="an open_clip model as a zero-shot ImageNet classifier (80 CLIP templates, "
        "1000 class names); needs quba[clip]",
    )
)
