"""Preprocessing: everything needed to turn an image file into a classifier's input.

The classifier applies its own mean/std normalization (see :mod:`quba.models`), so the
transform built here stops at float pixels in [0, 1]. ``mean`` and ``std`` are carried along
because the ``paper`` attack geometry needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from quba.errors import ModelError

Interpolation = Literal["nearest", "bilinear", "bicubic", "lanczos"]
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos")
ResizeMode = Literal["shortest", "squash"]
_RESIZE_MODES = ("shortest", "squash")
_KEYS = ("resize", "crop", "interpolation", "mean", "std", "resize_mode")


@dataclass(frozen=True)
class Preprocessing:
    """Resize the shorter side to ``resize``, centre-crop ``crop`` x ``crop``, scale to [0, 1].

    ``mean``/``std`` are the per-channel statistics the classifier normalizes with *inside* its
    forward pass, or ``None`` when it adds none. ``resize_mode="squash"`` resizes both sides to
    ``resize`` (aspect ratio not kept) before the centre crop, as SigLIP models and timm's
    ``crop_mode="squash"`` do.
    """

    resize: int = 256
    crop: int = 224
    interpolation: Interpolation = "bilinear"
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    resize_mode: ResizeMode = "shortest"

    def __post_init__(self) -> None:
        if self.resize < 1 or self.crop < 1:
            raise ModelError(
                f"Expected positive resize and crop sizes, but got resize={self.resize}, "
                f"crop={self.crop}"
            )
        if self.interpolation not in _INTERPOLATIONS:
            raise ModelError(
                f"Expected interpolation to be one of {', '.join(_INTERPOLATIONS)}, "
                f"but got {self.interpolation!r}"
            )
        if self.resize_mode not in _RESIZE_MODES:
            raise ModelError(
                f"Expected resize_mode to be one of {', '.join(_RESIZE_MODES)}, "
                f"but got {self.resize_mode!r}"
            )
        if (self.mean is None) != (self.std is None):
            raise ModelError("Expected both mean and std, or neither")
        for name in ("mean", "std"):
            value = getattr(self, name)
            if value is not None and len(value) != 3:
                raise ModelError(f"Expected {name} to have 3 channels, but got {value}")
        if self.std is not None and any(s <= 0 for s in self.std):
            raise ModelError(f"Expected std > 0 for every channel, but got {self.std}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Preprocessing:
        """Build from a plain dict with optional keys resize, crop, interpolation, mean, std
        (and resize_mode)."""
        unknown = set(values) - set(_KEYS)
        if unknown:
            raise ModelError(
                f"Unknown preprocessing keys {sorted(unknown)}; expected a subset of "
                f"{', '.join(_KEYS)}"
            )
        kwargs = dict(values)
        for name in ("mean", "std"):
            if kwargs.get(name) is not None:
                kwargs[name] = tuple(float(x) for x in kwargs[name])
        for name in ("resize", "crop"):
            if name in kwargs:
                kwargs[name] = int(kwargs[name])
        return cls(**kwargs)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def transform(self, *, native: bool = False):
        """A torchvision transform: PIL image -> float tensor (3, crop, crop) in [0, 1].

        With ``native=True`` the image is only converted (used to feed ImageNet-C's 224x224
        files at their native size).
        """
        from torchvision.transforms import v2

        to_tensor = [v2.ToImage(), v2.ToDtype(__import__("torch").float32, scale=True)]
        if native:
            return v2.Compose([_RGB(), *to_tensor])
        mode = getattr(v2.InterpolationMode, self.interpolation.upper())
        size = self.resize if self.resize_mode == "shortest" else [self.resize, self.resize]
        return v2.Compose(
            [
                _RGB(),
                v2.Resize(size, interpolation=mode, antialias=True),
                v2.CenterCrop(self.crop),
                *to_tensor,
            ]
        )


class _RGB:
    """Convert any PIL image (grayscale, palette, RGBA) to RGB; picklable for DataLoader workers."""

    def __call__(self, image):
        return image if image.mode == "RGB" else image.convert("RGB")
