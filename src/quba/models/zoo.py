"""The paper's model zoo: 326 named classifiers, their metadata, groups and model specs.

``zoo.csv`` beside this file holds the columns of the paper's table (name, display_name,
source, family, training_data, paradigm, params_m, source_paper) and, per row, the model spec
that reproduces it with public weights (``spec``), its groups, whether it is available and why
not, and ``params_note`` where quba's parameter count differs from the paper's for a known
reason. ``zoo:NAME`` resolves through it wherever a model spec is accepted.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources

from quba.errors import ModelError
from quba.models._registry import BuildOptions, ModelSource, get_source, register_source
from quba.models._spec import ModelSpec, parse_model_spec

logger = logging.getLogger(__name__)

#: Group name -> what it selects. Every entry is in one architecture group, one data group and
#: one paradigm group; the A1/A2/A3 recipes of "ResNet strikes back" add ``rsb`` and their own.
GROUPS: Mapping[str, str] = {
    "cnn": "convolutional networks",
    "transformer": "vision transformers and hybrids",
    "bcos": "B-cos networks",
    "vision-language": "zero-shot vision-language models (CLIP and relatives)",
    "in1k": "trained on ImageNet-1k",
    "in21k": "pre-trained on ImageNet-21k",
    "large-data": "pre-trained on a large dataset (LAION-2B, JFT-300M, IG-1B, ...)",
    "supervised": "supervised learning",
    "self-supervised": "self-supervised pre-training (or language supervision)",
    "semi-supervised": "semi-supervised or weakly supervised learning",
    "adversarial": "adversarially trained",
    "rsb": "a 'ResNet strikes back' recipe (A1, A2 or A3)",
    "a1": "'ResNet strikes back' recipe A1",
    "a2": "'ResNet strikes back' recipe A2",
    "a3": "'ResNet strikes back' recipe A3",
}

_GROUP_ALIASES = {
    "b-cos": "bcos",
    "vlm": "vision-language",
    "vision–language": "vision-language",
    "clip": "vision-language",
    "imagenet-1k": "in1k",
    "in-1k": "in1k",
    "imagenet-21k": "in21k",
    "in-21k": "in21k",
    "large": "large-data",
    "adversarially-trained": "adversarial",
    "adversarial-training": "adversarial",
}

#: Reasons for a parameter count that differs from the paper's table, by ``params_note`` code.
PARAMS_NOTES: Mapping[str, str] = {
    "clip-towers": (
        "The paper counted both towers of the CLIP model; quba counts the image tower plus the "
        "fixed 1000 x embed_dim zero-shot head, since the text tower only builds that head."
    ),
    "clip-towers-open-clip-build": (
        "The paper counted both towers of the CLIP model; quba counts the image tower plus the "
        "fixed 1000 x embed_dim zero-shot head, since the text tower only builds that head. "
        "Both towers of open_clip's build of this model also have 0.14 M more parameters than "
        "the paper's count (99.24 M against 99.1 M)."
    ),
}


@dataclass(frozen=True)
class ZooEntry:
    """One model of the paper's zoo.

    ``params_m`` is the paper's count in millions (``None`` where the table has none); ``spec``
    the model spec that reproduces the model (``None`` when unavailable, with ``reason``).
    """

    name: str
    display_name: str
    source: str
    family: str
    training_data: str
    paradigm: str
    params_m: float | None
    source_paper: str
    spec: str | None
    groups: tuple[str, ...]
    available: bool
    reason: str
    params_note: str

    def metadata(self) -> dict:
        """Family, training data, paradigm, display name, groups and the rest, as plain data."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "family": self.family,
            "training_data": self.training_data,
            "paradigm": self.paradigm,
            "params_m": self.params_m,
            "source": self.source,
            "source_paper": self.source_paper,
            "spec": self.spec,
            "groups": list(self.groups),
            "available": self.available,
            "reason": self.reason,
            "params_note": PARAMS_NOTES.get(self.params_note, self.params_note),
        }


@functools.cache
def load_zoo() -> tuple[ZooEntry, ...]:
    """All 326 entries, in the order of the paper's table."""
    text = resources.files("quba.models").joinpath("zoo.csv").read_text(encoding="utf-8")
    entries = []
    for row in csv.DictReader(io.StringIO(text)):
        entries.append(
            ZooEntry(
                name=row["name"],
                display_name=row["display_name"],
                source=row["source"],
                family=row["family"],
                training_data=row["training_data"],
                paradigm=row["paradigm"],
                params_m=float(row["params_m"]) if row["params_m"] else None,
                source_paper=row["source_paper"],
                spec=row["spec"] or None,
                groups=tuple(g for g in row["groups"].split(";") if g),
                available=row["available"] == "yes",
                reason=row["reason"],
                params_note=row["params_note"],
            )
        )
    return tuple(entries)


@functools.cache
def _by_name() -> Mapping[str, ZooEntry]:
    return {entry.name.casefold(): entry for entry in load_zoo()}


@functools.cache
def _by_spec() -> Mapping[str, ZooEntry]:
    return {entry.spec: entry for entry in load_zoo() if entry.spec}


def canonical_group(group: str) -> str:
    """The group name for ``group`` (case and aliases ignored); ``ModelError`` if unknown."""
    key = group.strip().casefold().replace("_", "-").replace(" ", "-")
    key = _GROUP_ALIASES.get(key, key)
    if key not in GROUPS:
        raise ModelError(
            f"Unknown zoo group {group!r}; expected one of {', '.join(GROUPS)}",
        )
    return key


def list_zoo(groups: Iterable[str] = (), *, available: bool | None = None) -> list[ZooEntry]:
    """Zoo entries in every one of ``groups`` (all when empty), optionally only (un)available."""
    wanted = {canonical_group(g) for g in groups}
    return [
        entry
        for entry in load_zoo()
        if wanted <= set(entry.groups) and (available is None or entry.available == available)
    ]


def find_zoo_entry(spec_or_name: str) -> ZooEntry | None:
    """The entry named ``NAME``/``zoo:NAME`` (case-insensitive) or whose spec is this spec."""
    text = spec_or_name.strip()
    name = text[len("zoo:") :] if text.startswith("zoo:") else text
    entry = _by_name().get(name.casefold())
    return entry if entry is not None else _by_spec().get(text)


def get_zoo_entry(name: str) -> ZooEntry:
    """The entry ``name`` (or ``zoo:name``); ``ModelError`` with close matches if unknown."""
    entry = find_zoo_entry(name)
    if entry is None:
        bare = name[len("zoo:") :] if name.startswith("zoo:") else name
        close = difflib.get_close_matches(bare, [e.name for e in load_zoo()], n=5, cutoff=0.5)
        raise ModelError(
            f"The paper's zoo has no model {bare!r}",
            hint=f"Did you mean: {', '.join(close)}?"
            if close
            else "List the names with: quba models list",
        )
    return entry


def zoo_metadata(spec_or_name: str) -> dict | None:
    """Metadata of a zoo model given its name, ``zoo:NAME`` or its spec; ``None`` if not one.

    Keys: name, display_name, family, training_data, paradigm, params_m, source,
    source_paper, spec, groups, available, reason, params_note.
    """
    entry = find_zoo_entry(spec_or_name)
    return None if entry is None else entry.metadata()


def _build(spec: ModelSpec, options: BuildOptions):
    entry = get_zoo_entry(spec.name)
    if not entry.available or entry.spec is None:
        raise ModelError(
            f"zoo:{entry.name} ({entry.display_name}) is not available: {entry.reason}",
        )
    inner = parse_model_spec(entry.spec)
    classifier = get_source(inner.source).build(inner, options)
    return replace(
        classifier,
        spec=f"zoo:{entry.name}",
        source_spec=classifier.spec,
        metadata=entry.metadata(),
    )


register_source(
    ModelSource(
        name="zoo",
        build=_build,
        syntax="zoo:NAME",
        description="a model of the paper's zoo, by its name (quba models list)",
    )
)
