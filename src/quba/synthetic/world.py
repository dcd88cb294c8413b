"""The synthetic world: classes defined jointly by a shape, a texture and a background.

Class ``k`` is the shape ``SHAPES[k]`` filled with the texture ``TEXTURES[k]`` (a pattern in a
colour family) on the background ``BACKGROUNDS[k]`` (a low-frequency colour layout). Every image
is described by a :class:`Scenes` row: which class gives the shape, which the texture and which
the background, plus the variation a model must generalise over (position, scale, rotation,
colour jitter, pattern phase). Because the three cues are separate fields, every dataset of the
protocol is a transformation of a scene table: cue-conflict swaps the texture, the Backgrounds
Challenge swaps the background, the texture- and background-randomised training swaps them at
random. :func:`render` turns a scene table into images, vectorised with numpy; it is a pure
function of the table, so a seeded table gives the same pixels on every machine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np

logger = logging.getLogger(__name__)

IMAGE_SIZE = 32
"""Side of every synthetic image in pixels."""

SHAPES: tuple[str, ...] = (
    "disc",
    "square",
    "triangle",
    "cross",
    "ring",
    "star",
    "ellipse",
    "crescent",
)
"""The class names; class ``k`` has shape ``SHAPES[k]``. No digits, ``-`` or ``_`` (file names)."""

NUM_CLASSES = len(SHAPES)

TEXTURES: tuple[str, ...] = (
    "stripes",
    "checker",
    "dots",
    "diagonal",
    "waves",
    "grid",
    "speckle",
    "rings",
)
"""Pattern of class ``k``'s texture."""

# Two colours per texture (the colour family of class k), RGB in [0, 1].
TEXTURE_COLOURS = np.array(
    [
        [[0.85, 0.15, 0.10], [0.95, 0.85, 0.20]],  # red / yellow
        [[0.15, 0.25, 0.85], [0.95, 0.95, 0.95]],  # blue / white
        [[0.10, 0.60, 0.20], [0.95, 0.60, 0.75]],  # green / pink
        [[0.50, 0.15, 0.65], [1.00, 0.60, 0.10]],  # purple / orange
        [[0.10, 0.75, 0.80], [0.05, 0.10, 0.35]],  # cyan / navy
        [[0.10, 0.10, 0.10], [0.60, 0.95, 0.20]],  # black / lime
        [[0.50, 0.30, 0.10], [0.90, 0.80, 0.60]],  # brown / beige
        [[0.90, 0.10, 0.60], [0.10, 0.50, 0.45]],  # magenta / teal
    ]
)

BACKGROUNDS: tuple[str, ...] = (
    "vertical_gradient",
    "horizontal_gradient",
    "glow",
    "diagonal_gradient",
    "horizon",
    "clouds",
    "bands",
    "vignette",
)
"""Layout of class ``k``'s background."""

# Two muted colours per background, RGB in [0, 1].
BACKGROUND_COLOURS = np.array(
    [
        [[0.55, 0.70, 0.90], [0.90, 0.92, 0.95]],  # sky
        [[0.80, 0.70, 0.45], [0.55, 0.45, 0.30]],  # sand
        [[0.20, 0.35, 0.20], [0.55, 0.70, 0.45]],  # forest
        [[0.45, 0.40, 0.55], [0.75, 0.70, 0.80]],  # lavender
        [[0.35, 0.55, 0.65], [0.60, 0.50, 0.40]],  # sea over shore
        [[0.60, 0.60, 0.62], [0.85, 0.85, 0.85]],  # overcast
        [[0.70, 0.45, 0.40], [0.85, 0.65, 0.55]],  # terracotta
        [[0.25, 0.22, 0.30], [0.50, 0.45, 0.40]],  # dusk
    ]
)

NEUTRAL = -1
"""A background (or texture) index meaning "none": plain grey background / no object."""

CONTRAST = 0.35
"""How far the photo colours lie from mid-grey: ``0.5 + CONTRAST * (colour - 0.5)``.

The world is deliberately low in contrast. With full-contrast colours every class differs from
every other by a large colour margin, and even a plain CNN withstands an 8/255 attack; muted
colours make the margins (and so the adversarial robustness) depend on how a model was trained,
as on natural images.
"""


def _muted(colours: np.ndarray) -> np.ndarray:
    return 0.5 + CONTRAST * (colours - 0.5)


@dataclass(frozen=True)
class Scenes:
    """A table of N scenes; each field is an array of length N.

    Attributes:
        shape, texture, background: class index that gives the object's shape, the object's
            texture and the background (``NEUTRAL`` background: plain light grey).
        cx, cy: object centre in [-1, 1] image coordinates; scale: object radius (fraction of
            the half-image); angle: rotation in radians.
        tex_jitter: (N, 2, 3) additive jitter of the texture's two colours.
        tex_freq: multiplier of the pattern frequency; tex_phase: (N, 2) pattern phases.
        bg_jitter: (N, 3) additive jitter of the background colours; bg_phase: (N, 2) in [0, 1).
        visible: whether the object is drawn (``False``: background only).
    """

    shape: np.ndarray
    texture: np.ndarray
    background: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    scale: np.ndarray
    angle: np.ndarray
    tex_jitter: np.ndarray
    tex_freq: np.ndarray
    tex_phase: np.ndarray
    bg_jitter: np.ndarray
    bg_phase: np.ndarray
    visible: np.ndarray

    def __len__(self) -> int:
        return len(self.shape)

    def take(self, index: np.ndarray) -> Scenes:
        """The rows at ``index`` (positions or a boolean mask)."""
        return Scenes(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def with_(self, **changes: np.ndarray) -> Scenes:
        """A copy with some fields replaced (arrays of length N)."""
        return replace(self, **changes)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Scenes:
        return cls(**{f.name: np.asarray(arrays[f.name]) for f in fields(cls)})


def sample_scenes(rng: np.random.Generator, classes: np.ndarray) -> Scenes:
    """Draw one scene per entry of ``classes`` (shape, texture and background all of that class)."""
    classes = np.asarray(classes, dtype=np.int64)
    n = len(classes)
    return Scenes(
        shape=classes.copy(),
        texture=classes.copy(),
        background=classes.copy(),
        cx=rng.uniform(-0.22, 0.22, n),
        cy=rng.uniform(-0.22, 0.22, n),
        scale=rng.uniform(0.45, 0.65, n),
        angle=rng.uniform(0.0, 2 * np.pi, n),
        tex_jitter=rng.normal(0.0, 0.06, (n, 2, 3)),
        tex_freq=rng.uniform(0.85, 1.15, n),
        tex_phase=rng.uniform(0.0, 2 * np.pi, (n, 2)),
        bg_jitter=rng.normal(0.0, 0.06, (n, 3)),
        bg_phase=rng.uniform(0.0, 1.0, (n, 2)),
        visible=np.ones(n, dtype=bool),
    )


def balanced_classes(per_class: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``[0]*per_class + [1]*per_class + …``: the class of each image of a balanced set."""
    return np.repeat(np.arange(num_classes, dtype=np.int64), per_class)


# ----------------------------------------------------------------------------- geometry


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1]: (x, y), each (size, size), y pointing down."""
    t = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    y, x = np.meshgrid(t, t, indexing="ij")
    return x, y


def _object_coords(scenes: Scenes, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Object-frame coordinates (u, v), (N, size, size): unit = the object's radius."""
    x, y = _grid(size)
    dx = x[None] - scenes.cx[:, None, None]
    dy = y[None] - scenes.cy[:, None, None]
    cos = np.cos(scenes.angle)[:, None, None]
    sin = np.sin(scenes.angle)[:, None, None]
    s = scenes.scale[:, None, None]
    return (dx * cos + dy * sin) / s, (-dx * sin + dy * cos) / s


def _triangle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    angles = np.deg2rad([-90.0, 30.0, 150.0])
    return np.max([u * np.cos(a) + v * np.sin(a) for a in angles], axis=0) - 0.5


def _star(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    r, theta = np.hypot(u, v), np.arctan2(v, u)
    return (r - (0.62 + 0.38 * np.cos(5 * theta))) * 0.6


# Approximate signed distance (negative inside, object-radius units) of each shape.
_SHAPE_DISTANCE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "disc": lambda u, v: np.hypot(u, v) - 0.9,
    "square": lambda u, v: np.maximum(np.abs(u), np.abs(v)) - 0.72,
    "triangle": _triangle,
    "cross": lambda u, v: np.minimum(
        np.maximum(np.abs(u) - 0.95, np.abs(v) - 0.3),
        np.maximum(np.abs(u) - 0.3, np.abs(v) - 0.95),
    ),
    "ring": lambda u, v: np.abs(np.hypot(u, v) - 0.68) - 0.27,
    "star": _star,
    "ellipse": lambda u, v: (np.hypot(u, v / 0.45) - 1.0) * 0.45,
    "crescent": lambda u, v: np.maximum(np.hypot(u, v) - 0.95, 0.72 - np.hypot(u - 0.5, v)),
}


def shape_distance(scenes: Scenes, size: int = IMAGE_SIZE) -> np.ndarray:
    """Signed distance to each scene's object outline in pixels, (N, size, size); < 0 inside."""
    u, v = _object_coords(scenes, size)
    distance = np.empty_like(u)
    for k, name in enumerate(SHAPES):
        rows = scenes.shape == k
        if rows.any():
            distance[rows] = _SHAPE_DISTANCE[name](u[rows], v[rows])
    return distance * scenes.scale[:, None, None] * size / 2.0


def object_alpha(scenes: Scenes, size: int = IMAGE_SIZE) -> np.ndarray:
    """Anti-aliased coverage of each object, (N, size, size) in [0, 1] (0 where not visible)."""
    alpha = np.clip(0.5 - shape_distance(scenes, size), 0.0, 1.0)
    return alpha * scenes.visible[:, None, None]


# ----------------------------------------------------------------------------- textures


def _pattern(name: str, x: np.ndarray, y: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Mixing weight in [0, 1] between a texture's two colours; x, y in pixels, (n, H, W)."""
    p0, p1 = phase[:, 0, None, None], phase[:, 1, None, None]
    if name == "stripes":
        return np.sin(2 * np.pi * y / 5.0 + p0) > 0
    if name == "checker":
        return np.sin(2 * np.pi * x / 7.0 + p0) * np.sin(2 * np.pi * y / 7.0 + p1) > 0
    if name == "dots":
        return np.cos(2 * np.pi * x / 5.0 + p0) * np.cos(2 * np.pi * y / 5.0 + p1) > 0.45
    if name == "diagonal":
        return np.sin(2 * np.pi * (x - y) / 6.0 + p0) > 0
    if name == "waves":
        return np.sin(2 * np.pi * y / 6.0 + 1.8 * np.sin(2 * np.pi * x / 9.0 + p1) + p0) > 0
    if name == "grid":
        gx = np.abs(np.cos(np.pi * x / 5.0 + p0))
        gy = np.abs(np.cos(np.pi * y / 5.0 + p1))
        return np.maximum(gx, gy) > 0.88
    if name == "speckle":
        field = (
            np.sin(1.9 * x + 0.7 * y + p0)
            + np.sin(-1.3 * x + 2.1 * y + p1)
            + np.sin(2.7 * x - 1.7 * y + p0 + p1)
        )
        return field > 0.6
    if name == "rings":
        ox, oy = 6.0 * np.cos(p0), 6.0 * np.sin(p1)
        return np.sin(2 * np.pi * np.hypot(x - ox, y - oy) / 5.0) > 0
    raise ValueError(f"Unknown texture pattern {name!r}")


def texture_image(
    scenes: Scenes,
    size: int = IMAGE_SIZE,
    colours: np.ndarray | None = None,
) -> np.ndarray:
    """Each scene's texture over the whole image, (N, size, size, 3) float in [0, 1].

    ``colours`` (N, 2, 3) overrides the texture's colour family (used by the stylized set).
    """
    x, y = _grid(size)
    x = x * size / 2.0
    y = y * size / 2.0
    n = len(scenes)
    out = np.empty((n, size, size, 3))
    if colours is None:
        colours = TEXTURE_COLOURS[scenes.texture] + scenes.tex_jitter
    colours = _muted(colours)
    for k, name in enumerate(TEXTURES):
        rows = np.flatnonzero(scenes.texture == k)
        if len(rows) == 0:
            continue
        f = scenes.tex_freq[rows, None, None]
        weight = _pattern(name, x[None] * f, y[None] * f, scenes.tex_phase[rows])
        weight = weight.astype(float)[..., None]
        pair = colours[rows]
        out[rows] = pair[:, None, None, 0] * weight + pair[:, None, None, 1] * (1 - weight)
    return np.clip(out, 0.0, 1.0)


# ----------------------------------------------------------------------------- backgrounds


def _layout(name: str, x: np.ndarray, y: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Mixing weight in [0, 1] between a background's two colours; x, y in [-1, 1]."""
    p0, p1 = phase[:, 0, None, None], phase[:, 1, None, None]
    if name == "vertical_gradient":
        return np.clip((y + 1) / 2 + 0.3 * (p0 - 0.5), 0, 1)
    if name == "horizontal_gradient":
        return np.clip((x + 1) / 2 + 0.3 * (p0 - 0.5), 0, 1)
    if name == "glow":
        cx, cy = 0.8 * (p0 - 0.5), 0.8 * (p1 - 0.5)
        return np.clip(1.0 - np.hypot(x - cx, y - cy) / 1.2, 0, 1)
    if name == "diagonal_gradient":
        return np.clip((x + y + 2) / 4 + 0.3 * (p0 - 0.5), 0, 1)
    if name == "horizon":
        return 1.0 / (1.0 + np.exp(-(y - 0.6 * (p0 - 0.5)) * 12.0))
    if name == "clouds":
        field = np.sin(2.2 * x + 6.3 * p0) * np.sin(1.7 * y + 6.3 * p1) + 0.5 * np.sin(
            3.1 * (x + y) + 6.3 * p1
        )
        return np.clip(0.5 + 0.5 * field, 0, 1)
    if name == "bands":
        return 0.5 + 0.5 * np.sin(2 * np.pi * (x * 0.9 + 0.3 * y) + 6.3 * p0)
    if name == "vignette":
        return np.clip(np.hypot(x, y) / 1.3 + 0.2 * (p0 - 0.5), 0, 1)
    raise ValueError(f"Unknown background layout {name!r}")


def background_image(scenes: Scenes, size: int = IMAGE_SIZE) -> np.ndarray:
    """Each scene's background, (N, size, size, 3) float in [0, 1]."""
    x, y = _grid(size)
    n = len(scenes)
    out = np.empty((n, size, size, 3))
    neutral = scenes.background == NEUTRAL
    out[neutral] = _muted(0.78 + scenes.bg_jitter[neutral, None, None, :] * 0.5)
    for k, name in enumerate(BACKGROUNDS):
        rows = np.flatnonzero(scenes.background == k)
        if len(rows) == 0:
            continue
        weight = _layout(name, x[None], y[None], scenes.bg_phase[rows])[..., None]
        pair = _muted(BACKGROUND_COLOURS[k] + scenes.bg_jitter[rows, None, :])
        out[rows] = pair[:, None, None, 0] * (1 - weight) + pair[:, None, None, 1] * weight
    return np.clip(out, 0.0, 1.0)


# ----------------------------------------------------------------------------- rendering

Style = Literal["photo", "edge", "silhouette", "sketch", "cartoon"]


def render(scenes: Scenes, size: int = IMAGE_SIZE, *, style: Style = "photo") -> np.ndarray:
    """Render scenes to uint8 images (N, size, size, 3).

    Styles:
        photo: the textured object over the background (``visible=False``: background only);
        edge: the object's outline, black on white; silhouette: the filled object, black on
        white; sketch: a pencil outline with hatching on off-white paper; cartoon: the object
        flat-filled with its texture's first colour, outlined, on a white background.
    """
    if style == "photo":
        alpha = object_alpha(scenes, size)[..., None]
        image = texture_image(scenes, size) * alpha + background_image(scenes, size) * (1 - alpha)
    elif style == "silhouette":
        alpha = object_alpha(scenes, size)[..., None]
        image = np.repeat(1.0 - alpha, 3, axis=-1)
    elif style == "edge":
        line = np.clip(1.2 - np.abs(shape_distance(scenes, size)), 0, 1)[..., None]
        image = np.repeat(1.0 - line, 3, axis=-1)
    elif style == "sketch":
        image = _sketch(scenes, size)
    elif style == "cartoon":
        alpha = object_alpha(scenes, size)[..., None]
        line = np.clip(1.4 - np.abs(shape_distance(scenes, size)), 0, 1)[..., None]
        fill = (TEXTURE_COLOURS[scenes.texture, 0] + scenes.tex_jitter[:, 0])[:, None, None]
        image = fill * alpha + 1.0 * (1 - alpha)
        image = image * (1 - line)
    else:
        raise ValueError(
            f"Unknown style {style!r}; expected photo, edge, silhouette, sketch, cartoon"
        )
    return _to_uint8(image)


def render_styled(scenes: Scenes, style_colours: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render with the object's texture colours replaced by ``style_colours`` (N, 2, 3)."""
    alpha = object_alpha(scenes, size)[..., None]
    texture = texture_image(scenes, size, colours=style_colours)
    return _to_uint8(texture * alpha + background_image(scenes, size) * (1 - alpha))


def _sketch(scenes: Scenes, size: int) -> np.ndarray:
    x, y = _grid(size)
    distance = shape_distance(scenes, size)
    # A wobbly pencil line: the outline displaced by a slow sinusoid of the position.
    wobble = 0.5 * np.sin(3.0 * x[None] * 2 + 6.3 * scenes.bg_phase[:, 0, None, None])
    line = np.clip(1.0 - np.abs(distance + wobble) / 0.9, 0, 1)
    px = (x + y)[None] * size / 2.0 + 7.0 * scenes.bg_phase[:, 1, None, None]
    hatch = (np.abs(np.sin(np.pi * px / 3.0)) > 0.85) & (distance < -1.0)
    ink = np.maximum(line * 0.85, hatch * 0.45)[..., None]
    paper = np.array([0.96, 0.94, 0.89])
    return paper * (1 - ink) + 0.15 * ink


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
