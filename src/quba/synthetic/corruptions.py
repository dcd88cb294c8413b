"""The 15 ImageNet-C corruptions at 5 severities, for images of any size, in numpy/scipy/PIL.

Why our own implementation: ``imagecorruptions`` is the reference code of ImageNet-C
(Hendrycks & Dietterich, ICLR 2019) but it is unmaintained; it imports ``pkg_resources`` (gone
from current setuptools), and three of its corruptions fail on NumPy 2 / current scikit-image.
It also needs OpenCV and, for frost, photographs shipped with it. quba needs corruptions only for
the embedded synthetic benchmark (real ImageNet-C is read from disk), so we implement the
published definitions and severity parameters here, vectorised over a batch, and test them for
determinism, shape/dtype, distortion increasing with severity, and against ``imagecorruptions``
where it still runs (``tests/synthetic/test_corruptions.py``).

Scaling to small images: the published parameters are for 224 x 224 images. Parameters that are
lengths in the image (defocus radius, Gaussian sigmas of glass blur, motion-blur length and
sigma, glass-blur displacement, elastic displacement and smoothness) are multiplied by
``size / 224`` so that a corruption distorts the same *fraction* of the image; parameters
without a length (noise levels, brightness, contrast, zoom factors, pixelation factor, JPEG
quality, blend weights, defocus's alias blur of its own kernel) are used as published. Below
224 px a displacement of less than a pixel is realised fractionally: the defocus disk covers
pixels partially, and glass blur swaps a pixel with probability equal to the displacement.
Elastic's amplitude scales with the square of the size (smoothed noise shrinks as alpha /
sigma). Snow flakes keep their published size in pixels (a flake cannot be smaller than a
pixel), and frost uses a procedural ice texture instead of ImageNet-C's photographs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

from quba.data.suites import CORRUPTIONS, SEVERITIES
from quba.errors import ConfigError

logger = logging.getLogger(__name__)

REFERENCE_SIZE = 224

# Severity parameters of ImageNet-C, index = severity - 1 (Hendrycks & Dietterich 2019).
PARAMETERS: dict[str, tuple] = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),  # noise std
    "shot_noise": (60, 25, 12, 5, 3),  # photons per unit intensity
    "impulse_noise": (0.03, 0.06, 0.09, 0.17, 0.27),  # salt-and-pepper amount
    "defocus_blur": ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)),  # disk radius, alias
    "glass_blur": ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),  # s, d, iters
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),  # radius, sigma
    "zoom_blur": (
        tuple(np.arange(1, 1.11, 0.01)),
        tuple(np.arange(1, 1.16, 0.01)),
        tuple(np.arange(1, 1.21, 0.02)),
        tuple(np.arange(1, 1.26, 0.02)),
        tuple(np.arange(1, 1.31, 0.03)),
    ),
    "snow": (
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8),
        (0.2, 0.3, 2, 0.5, 12, 4, 0.7),
        (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65),
        (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55),
    ),  # mean, std, flake zoom, threshold, motion radius, motion sigma, image weight
    "frost": ((1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)),  # image, frost weight
    "fog": ((1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)),  # strength, wibble decay
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),  # added to HSV value
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),  # contrast factor
    "elastic_transform": (
        (244 * 2, 244 * 0.7, 244 * 0.1),
        (244 * 2, 244 * 0.08, 244 * 0.2),
        (244 * 0.05, 244 * 0.01, 244 * 0.02),
        (244 * 0.07, 244 * 0.01, 244 * 0.02),
        (244 * 0.12, 244 * 0.01, 244 * 0.02),
    ),  # alpha, sigma, affine displacement; lengths in units of a 244-pixel image
    "pixelate": (0.6, 0.5, 0.4, 0.3, 0.25),  # downscale factor
    "jpeg_compression": (25, 18, 15, 10, 7),  # JPEG quality
}


def corrupt(
    images: np.ndarray, corruption: str, severity: int, rng: np.random.Generator
) -> np.ndarray:
    """Apply one ImageNet-C corruption to a batch of images.

    Args:
        images: uint8 array (N, H, W, 3) or (H, W, 3).
        corruption: one of :data:`quba.data.suites.CORRUPTIONS`.
        severity: 1..5.
        rng: the source of randomness; the same generator state gives the same output.

    Returns:
        uint8 array of the same shape.
    """
    if corruption not in _FUNCTIONS:
        raise ConfigError(
            f"Unknown corruption {corruption!r}; expected one of {', '.join(CORRUPTIONS)}"
        )
    if severity not in SEVERITIES:
        raise ConfigError(f"Expected severity to be one of 1..5, but got {severity!r}")
    array = np.asarray(images)
    if array.dtype != np.uint8 or array.shape[-1] != 3 or array.ndim not in (3, 4):
        raise ValueError(
            f"Expected uint8 images (N, H, W, 3) or (H, W, 3), got {array.dtype} {array.shape}"
        )
    batch = array[None] if array.ndim == 3 else array
    x = batch.astype(np.float64) / 255.0
    scale = min(batch.shape[1:3]) / REFERENCE_SIZE
    c = PARAMETERS[corruption][severity - 1]
    out = _FUNCTIONS[corruption](x, c, rng, scale)
    result = np.clip(np.rint(np.clip(out, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)
    return result[0] if array.ndim == 3 else result


# ----------------------------------------------------------------------------- helpers


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur over the two spatial axes of (N, H, W, C)."""
    if sigma <= 0:
        return x
    return ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="nearest", truncate=3.0)


def _sample(x: np.ndarray, ys: np.ndarray, xs: np.ndarray, mode: str = "nearest") -> np.ndarray:
    """Bilinear sampling of (N, H, W, C) at pixel coordinates ys, xs (N, H, W).

    Coordinates outside the image are clamped (``nearest``) or mirrored (``reflect``).
    """
    n, h, w, _ = x.shape
    if mode == "reflect":
        ys = _reflect(ys, h)
        xs = _reflect(xs, w)
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    wy = (ys - y0)[..., None]
    wx = (xs - x0)[..., None]
    b = np.arange(n)[:, None, None]
    top = x[b, y0, x0] * (1 - wx) + x[b, y0, x1] * wx
    bottom = x[b, y1, x0] * (1 - wx) + x[b, y1, x1] * wx
    return top * (1 - wy) + bottom * wy


def _reflect(t: np.ndarray, n: int) -> np.ndarray:
    period = 2 * (n - 1)
    t = np.mod(t, period)
    return np.where(t > n - 1, period - t, t)


def _zoom_centre(x: np.ndarray, factor: float) -> np.ndarray:
    """Zoom into the centre by ``factor`` (>= 1), keeping the size (ImageNet-C's clipped zoom)."""
    n, h, w, _ = x.shape
    yy, xx = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")
    cy, cx = (h - 1) / 2, (w - 1) / 2
    ys = np.broadcast_to(cy + (yy - cy) / factor, (n, h, w))
    xs = np.broadcast_to(cx + (xx - cx) / factor, (n, h, w))
    return _sample(x, ys, xs)


def _shift(x: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Translate each image by (dy[i], dx[i]) pixels (fractional, bilinear, edges clamped)."""
    _, h, w, _ = x.shape
    yy, xx = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")
    return _sample(x, yy[None] - dy[:, None, None], xx[None] - dx[:, None, None])


def _motion(x: np.ndarray, radius: float, sigma: float, angle_deg: np.ndarray) -> np.ndarray:
    """One-sided motion blur: a half-Gaussian (``sigma``) trail of length ``radius`` pixels.

    Follows the kernel of ImageNet-C's motion blur (ImageMagick's ``-motion-blur radius x sigma
    + angle``): weights exp(-t^2 / 2 sigma^2) at distances t = 0..radius along the angle.
    """
    radius = max(radius, 1e-6)
    steps = np.linspace(0.0, radius, max(2, int(np.ceil(radius * 2)) + 1))
    weights = np.exp(-(steps**2) / (2 * max(sigma, 1e-6) ** 2))
    weights /= weights.sum()
    theta = np.deg2rad(angle_deg)
    out = np.zeros_like(x)
    for t, weight in zip(steps, weights, strict=True):
        out += weight * _shift(x, t * np.sin(theta), t * np.cos(theta))
    return out


def _to_gray(x: np.ndarray) -> np.ndarray:
    return (x @ np.array([0.299, 0.587, 0.114]))[..., None]


def _plasma(rng: np.random.Generator, mapsize: int, wibbledecay: float) -> np.ndarray:
    """A diamond-square fractal in [0, 1] of shape (mapsize, mapsize); mapsize a power of 2."""
    field = np.zeros((mapsize, mapsize))
    step = mapsize
    field[0, 0] = 0.0
    wibble = 100.0
    while step >= 2:
        half = step // 2
        # Squares: the centre of each square is the mean of its corners plus noise.
        corners = field[0:mapsize:step, 0:mapsize:step]
        mean = (
            corners
            + np.roll(corners, -1, 0)
            + np.roll(corners, -1, 1)
            + np.roll(np.roll(corners, -1, 0), -1, 1)
        ) / 4
        field[half:mapsize:step, half:mapsize:step] = mean + rng.uniform(
            -wibble, wibble, mean.shape
        )
        # Diamonds: the mid-edge points are the mean of their four neighbours plus noise.
        centres = field[half:mapsize:step, half:mapsize:step]
        corners = field[0:mapsize:step, 0:mapsize:step]
        left = (corners + np.roll(corners, -1, 1) + centres + np.roll(centres, 1, 0)) / 4
        field[0:mapsize:step, half:mapsize:step] = left + rng.uniform(-wibble, wibble, left.shape)
        top = (corners + np.roll(corners, -1, 0) + centres + np.roll(centres, 1, 1)) / 4
        field[half:mapsize:step, 0:mapsize:step] = top + rng.uniform(-wibble, wibble, top.shape)
        step = half
        wibble /= wibbledecay
    field -= field.min()
    return field / max(field.max(), 1e-12)


# ----------------------------------------------------------------------------- corruptions
# Each takes x (N, H, W, 3) float in [0, 1], the severity's parameters c, the rng and the length
# scale (image size / 224), and returns floats (clipped afterwards).


def _gaussian_noise(x, c, rng, scale):
    return x + rng.normal(0.0, c, x.shape)


def _shot_noise(x, c, rng, scale):
    return rng.poisson(x * c) / c


def _impulse_noise(x, c, rng, scale):
    hit = rng.random(x.shape) < c
    salt = rng.random(x.shape) < 0.5
    return np.where(hit, salt.astype(float), x)


def _disk_kernel(radius: float) -> np.ndarray:
    """A defocus disk of ``radius`` pixels: the fraction of each pixel square inside the disk.

    Measured on a 16 x 16 grid of points per pixel, so a fractional radius (small images) gives
    fractional weights instead of ImageNet-C's all-or-nothing disk. Below half a pixel the disk
    covers only the centre pixel: a 3-pixel defocus of a 224-pixel image is invisible at 32.
    """
    half = int(np.ceil(radius)) + 1
    t = (np.arange(16) + 0.5) / 16 - 0.5
    offsets = np.arange(-half, half + 1, dtype=float)
    points = (offsets[:, None] + t[None, :]).ravel()  # sub-pixel positions along one axis
    yy, xx = np.meshgrid(points, points, indexing="ij")
    inside = (yy**2 + xx**2 <= radius**2).astype(float)
    size = len(offsets)
    kernel = inside.reshape(size, 16, size, 16).mean(axis=(1, 3))
    return kernel / kernel.sum()


def _defocus_blur(x, c, rng, scale):
    # The alias blur smooths the kernel's own pixel grid, so it is not a length of the image.
    kernel = _disk_kernel(c[0] * scale)
    kernel = ndimage.gaussian_filter(kernel, c[1], mode="constant", truncate=1.0 / max(c[1], 1e-6))
    kernel /= kernel.sum()
    return ndimage.convolve(x, kernel[None, :, :, None], mode="nearest")


def _glass_blur(x, c, rng, scale):
    # The published displacement is an integer number of pixels; below 224 px it becomes a
    # fraction d < 1, realised as a one-pixel swap that happens with probability d.
    sigma, iterations = c[0] * scale, c[2]
    reach = c[1] * scale
    delta, chance = (round(reach), 1.0) if reach >= 1 else (1, reach)
    x = _gaussian(x, sigma).copy()
    n, h, w, _ = x.shape
    rows = np.arange(n)
    # Local shuffle: every pixel swaps with a random neighbour within ``delta`` (in sequence,
    # bottom-right to top-left, as in ImageNet-C), independently for each image of the batch.
    for _ in range(iterations):
        for i in range(h - delta, delta, -1):
            for j in range(w - delta, delta, -1):
                dy, dx = rng.integers(-delta, delta, (2, n))
                swap = rng.random(n) < chance
                dy, dx = dy * swap, dx * swap
                a = x[rows, i, j].copy()
                x[rows, i, j] = x[rows, i + dy, j + dx]
                x[rows, i + dy, j + dx] = a
    return _gaussian(x, sigma)


def _motion_blur(x, c, rng, scale):
    angle = rng.uniform(-45.0, 45.0, len(x))
    return _motion(x, c[0] * scale, c[1] * scale, angle)


def _zoom_blur(x, c, rng, scale):
    out = x.copy()
    for factor in c:
        out += _zoom_centre(x, float(factor))
    return out / (len(c) + 1)


def _snow(x, c, rng, scale):
    n, h, w, _ = x.shape
    layer = rng.normal(c[0], c[1], (n, h, w, 1))
    layer = _zoom_centre(layer, c[2])
    layer[layer < c[3]] = 0.0
    layer = _motion(layer, c[4] * scale, c[5] * scale, rng.uniform(-135.0, -45.0, n))
    x = c[6] * x + (1 - c[6]) * np.maximum(x, _to_gray(x) * 1.5 + 0.5)
    return x + layer + np.rot90(layer, 2, axes=(1, 2))


def _frost_texture(rng: np.random.Generator, n: int, h: int, w: int, scale: float) -> np.ndarray:
    """Procedural frost: bright, bluish ice with crystalline ridges, mean about 0.45."""
    noise = rng.normal(0.0, 1.0, (n, h, w))
    coarse = ndimage.gaussian_filter(noise, (0, 12 * scale + 0.5, 12 * scale + 0.5))
    fine = ndimage.gaussian_filter(rng.normal(0.0, 1.0, (n, h, w)), (0, 0.6, 0.6))
    coarse /= coarse.std(axis=(1, 2), keepdims=True) + 1e-12
    fine /= fine.std(axis=(1, 2), keepdims=True) + 1e-12
    ridges = 1.0 - np.abs(np.tanh(fine))
    ice = np.clip(0.35 + 0.15 * coarse + 0.35 * ridges**3, 0.0, 1.0)
    return ice[..., None] * np.array([0.85, 0.92, 1.0])


def _frost(x, c, rng, scale):
    n, h, w, _ = x.shape
    return c[0] * x + c[1] * _frost_texture(rng, n, h, w, scale)


def _fog(x, c, rng, scale):
    n, h, w, _ = x.shape
    mapsize = 1 << int(np.ceil(np.log2(max(h, w, 2))))
    fog = np.stack([_plasma(rng, mapsize, c[1])[:h, :w] for _ in range(n)])[..., None]
    top = x.max(axis=(1, 2, 3), keepdims=True)
    x = x + c[0] * fog
    return x * top / (top + c[0])


def _brightness(x, c, rng, scale):
    # Add c to the HSV value, keeping hue and saturation: RGB scales with V (grey if V was 0).
    value = x.max(axis=-1, keepdims=True)
    new = np.clip(value + c, 0.0, 1.0)
    ratio = np.divide(new, value, out=np.zeros_like(value), where=value > 0)
    return np.where(value > 0, x * ratio, new)


def _contrast(x, c, rng, scale):
    mean = x.mean(axis=(1, 2), keepdims=True)  # per image and channel, as in ImageNet-C
    return (x - mean) * c + mean


def _elastic_transform(x, c, rng, scale):
    n, h, w, _ = x.shape
    # Published lengths are for a 244-pixel side (ImageNet-C's comment: "244 should have been
    # 224"). The displacement of Gaussian-smoothed noise is proportional to alpha / sigma, so
    # alpha scales with the square of the size to keep displacements a fixed fraction of it.
    unit = scale
    alpha, sigma, affine = c[0] * unit**2, c[1] * unit, c[2] * unit
    yy, xx = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing="ij")
    # Random affine: three points around the centre each moved by up to ``affine`` pixels.
    centre = np.array([h // 2, w // 2], dtype=float)
    side = min(h, w) // 3
    src = np.array([centre + side, [centre[0] + side, centre[1] - side], centre - side])
    out = np.empty_like(x)
    for i in range(n):
        dst = src + rng.uniform(-affine, affine, src.shape)
        # Solve dst = A @ src + t; sample the source at the inverse map of each output pixel.
        design = np.hstack([src, np.ones((3, 1))])
        matrix = np.linalg.solve(design, dst).T  # (2, 3)
        inverse = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
        sy = inverse[0, 0] * yy + inverse[0, 1] * xx + inverse[0, 2]
        sx = inverse[1, 0] * yy + inverse[1, 1] * xx + inverse[1, 2]
        warped = _sample(x[i : i + 1], sy[None], sx[None], mode="reflect")
        dx = (
            ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma, mode="reflect", truncate=3.0)
            * alpha
        )
        dy = (
            ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma, mode="reflect", truncate=3.0)
            * alpha
        )
        out[i] = _sample(warped, (yy + dy)[None], (xx + dx)[None], mode="reflect")[0]
    return out


def _pixelate(x, c, rng, scale):
    n, h, w, _ = x.shape
    small = (max(1, int(w * c)), max(1, int(h * c)))
    out = np.empty_like(x)
    for i in range(n):
        image = Image.fromarray(np.rint(x[i] * 255).astype(np.uint8))
        image = image.resize(small, Image.BOX).resize((w, h), Image.BOX)
        out[i] = np.asarray(image) / 255.0
    return out


def _jpeg_compression(x, c, rng, scale):
    out = np.empty_like(x)
    for i in range(len(x)):
        buffer = io.BytesIO()
        Image.fromarray(np.rint(x[i] * 255).astype(np.uint8)).save(buffer, "JPEG", quality=c)
        out[i] = np.asarray(Image.open(buffer)) / 255.0
    return out


_FUNCTIONS: dict[str, Callable] = {
    "gaussian_noise": _gaussian_noise,
    "shot_noise": _shot_noise,
    "impulse_noise": _impulse_noise,
    "defocus_blur": _defocus_blur,
    "glass_blur": _glass_blur,
    "motion_blur": _motion_blur,
    "zoom_blur": _zoom_blur,
    "snow": _snow,
    "frost": _frost,
    "fog": _fog,
    "brightness": _brightness,
    "contrast": _contrast,
    "elastic_transform": _elastic_transform,
    "pixelate": _pixelate,
    "jpeg_compression": _jpeg_compression,
}
