"""The synthetic benchmark's ImageNet-C corruptions: determinism, shape, severity, reference."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from quba.data.suites import CORRUPTIONS
from quba.errors import ConfigError
from quba.synthetic import world
from quba.synthetic.corruptions import PARAMETERS, corrupt
from quba.synthetic.world import balanced_classes, render, sample_scenes


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    # Full-contrast images: the properties tested are the corruptions', not the muted world's
    # (whose low contrast lets fog and snow saturate any distortion measure early).
    muted = world.CONTRAST
    world.CONTRAST = 1.0
    try:
        return render(sample_scenes(np.random.default_rng(7), balanced_classes(4)))
    finally:
        world.CONTRAST = muted


def _decorrelation(clean: np.ndarray, corrupted: np.ndarray) -> float:
    """1 - mean Pearson correlation of each image's pixels with its clean version."""
    a = clean.reshape(len(clean), -1).astype(float)
    b = corrupted.reshape(len(corrupted), -1).astype(float)
    a -= a.mean(1, keepdims=True)
    b -= b.mean(1, keepdims=True)
    r = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1) + 1e-9)
    return float(1 - r.mean())


def _mean_abs(clean: np.ndarray, corrupted: np.ndarray) -> float:
    return float(np.abs(corrupted.astype(float) - clean).mean())


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_deterministic_uint8_same_shape(images, name):
    a = corrupt(images, name, 3, np.random.default_rng(1))
    b = corrupt(images, name, 3, np.random.default_rng(1))
    assert a.dtype == np.uint8 and a.shape == images.shape
    np.testing.assert_array_equal(a, b)
    single = corrupt(images[0], name, 3, np.random.default_rng(1))
    assert single.shape == images[0].shape and single.dtype == np.uint8
    assert not np.array_equal(a, images)


# Contrast is linear, so it leaves correlation unchanged: measure it (and brightness, a shift)
# by the mean absolute change instead.
_MEASURE = {"contrast": _mean_abs, "brightness": _mean_abs}
# Published parameters that are not monotone in distortion: snow's severity 3 has fewer flakes
# than 2 (threshold 0.9 vs 0.5); fog 3 and 4 share a strength; glass blur 2 shuffles twice as far
# as 1 but once instead of twice; elastic's severities 1-2 are dominated by a large random affine
# warp, 3-5 by a local one.
_NOT_MONOTONE = {"snow": {(2, 3)}, "fog": {(3, 4)}, "glass_blur": {(1, 2)}}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_distortion_grows_with_severity(images, name):
    measure = _MEASURE.get(name, _decorrelation)
    values = [
        measure(images, corrupt(images, name, s, np.random.default_rng(s))) for s in range(1, 6)
    ]
    if name == "elastic_transform":
        assert values[2] < values[3] < values[4]
        assert min(values) > 0
        return
    for s in range(1, 5):
        if (s, s + 1) not in _NOT_MONOTONE.get(name, set()):
            assert values[s - 1] < values[s], (name, values)
    assert values[0] < values[4]


def test_published_severity_parameters():
    # ImageNet-C (Hendrycks & Dietterich 2019), transcribed from the paper's code.
    assert PARAMETERS["gaussian_noise"] == (0.08, 0.12, 0.18, 0.26, 0.38)
    assert PARAMETERS["shot_noise"] == (60, 25, 12, 5, 3)
    assert PARAMETERS["impulse_noise"] == (0.03, 0.06, 0.09, 0.17, 0.27)
    assert PARAMETERS["contrast"] == (0.4, 0.3, 0.2, 0.1, 0.05)
    assert PARAMETERS["brightness"] == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert PARAMETERS["pixelate"] == (0.6, 0.5, 0.4, 0.3, 0.25)
    assert PARAMETERS["jpeg_compression"] == (25, 18, 15, 10, 7)
    assert PARAMETERS["defocus_blur"][4] == (10, 0.5)
    assert PARAMETERS["glass_blur"][0] == (0.7, 1, 2)
    assert PARAMETERS["motion_blur"][4] == (20, 15)
    assert len(PARAMETERS["zoom_blur"][4]) == 11
    assert PARAMETERS["zoom_blur"][4][-1] == pytest.approx(1.30)
    assert PARAMETERS["fog"][0] == (1.5, 2)
    assert PARAMETERS["frost"][4] == (0.6, 0.75)
    assert PARAMETERS["snow"][0] == (0.1, 0.3, 3, 0.5, 10, 4, 0.8)
    assert set(PARAMETERS) == set(CORRUPTIONS)


def test_exact_values_of_deterministic_corruptions(images):
    x = images.astype(float) / 255
    mean = x.mean(axis=(1, 2), keepdims=True)
    expected = np.rint(np.clip((x - mean) * 0.4 + mean, 0, 1) * 255)
    got = corrupt(images, "contrast", 1, np.random.default_rng(0))
    np.testing.assert_array_equal(got, expected.astype(np.uint8))
    # Gaussian noise: clean + N(0, sigma) from the same generator, clipped and rounded.
    noise = np.random.default_rng(3).normal(0, 0.38, images.shape)
    expected = np.rint(np.clip(x + noise, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(
        corrupt(images, "gaussian_noise", 5, np.random.default_rng(3)), expected
    )


def test_brightness_keeps_hue_and_saturation():
    import colorsys

    rgb = np.array([[[[200, 100, 50], [10, 20, 30], [0, 0, 0]]]], dtype=np.uint8)
    out = corrupt(rgb, "brightness", 2, np.random.default_rng(0))
    for before, after in zip(rgb.reshape(-1, 3) / 255, out.reshape(-1, 3) / 255, strict=True):
        h0, s0, v0 = colorsys.rgb_to_hsv(*before)
        h1, s1, v1 = colorsys.rgb_to_hsv(*after)
        assert v1 == pytest.approx(min(v0 + 0.2, 1.0), abs=1 / 255)
        if v0 > 0:
            assert s1 == pytest.approx(s0, abs=0.02) and h1 == pytest.approx(h0, abs=0.02)


def test_bad_arguments(images):
    with pytest.raises(ConfigError, match="Unknown corruption 'rain'"):
        corrupt(images, "rain", 1, np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"severity to be one of 1\.\.5, but got 6"):
        corrupt(images, "fog", 6, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Expected uint8 images"):
        corrupt(images.astype(float), "fog", 1, np.random.default_rng(0))


def _imagecorruptions():
    """The reference package, if installed; it imports ``pkg_resources``, gone from setuptools."""
    if "pkg_resources" not in sys.modules:
        try:
            import pkg_resources  # noqa: F401
        except ImportError:
            shim = types.ModuleType("pkg_resources")
            shim.resource_filename = lambda package, name: str(
                Path(sys.modules[package].__file__).parent / name
            )
            sys.modules["pkg_resources"] = shim
    try:
        from imagecorruptions import corruptions
    except Exception as error:  # missing, or broken on this NumPy / scikit-image
        pytest.skip(f"imagecorruptions is not usable here: {error}")
    return corruptions


# At the reference size (224 px) our parameters are the published ones, so the distortion must
# match the reference implementation: exactly for deterministic ones, statistically otherwise.
_REFERENCE_TOLERANCE = {
    "gaussian_noise": 0.05,
    "shot_noise": 0.05,
    "impulse_noise": 0.05,
    "defocus_blur": 0.15,
    "zoom_blur": 0.10,
    "brightness": 0.02,
    "contrast": 0.01,
    "pixelate": 0.01,
    "jpeg_compression": 0.01,
    "motion_blur": 0.30,
}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", sorted(_REFERENCE_TOLERANCE))
def test_matches_imagecorruptions_at_224(name):
    reference = _imagecorruptions()
    scenes = sample_scenes(np.random.default_rng(11), balanced_classes(1)[:3])
    images = render(scenes, size=224)
    # The reference's defocus kernels for radius >= 8 (severities 4, 5) sum to 1.01 (a border
    # artefact of its kernel smoothing), brightening every image; ours sum to 1.
    for severity in (1, 2, 3) if name == "defocus_blur" else (1, 3, 5):
        ours = corrupt(images, name, severity, np.random.default_rng(severity))
        np.random.seed(severity)
        try:
            theirs = np.stack(
                [np.rint(np.clip(getattr(reference, name)(im, severity), 0, 255)) for im in images]
            )
        except Exception as error:
            pytest.skip(f"imagecorruptions' {name} fails here: {error}")
        mine, ref = _mean_abs(images, ours), _mean_abs(images, theirs)
        assert mine == pytest.approx(ref, rel=_REFERENCE_TOLERANCE[name], abs=0.3), (
            severity,
            mine,
            ref,
        )
