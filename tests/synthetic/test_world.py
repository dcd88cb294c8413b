"""The synthetic world: determinism, and classes defined by separable shape/texture/background."""

from __future__ import annotations

import numpy as np
import pytest

from quba.synthetic.world import (
    IMAGE_SIZE,
    NEUTRAL,
    NUM_CLASSES,
    SHAPES,
    background_image,
    balanced_classes,
    object_alpha,
    render,
    sample_scenes,
    texture_image,
)


def _scenes(seed: int = 0, per_class: int = 4):
    return sample_scenes(np.random.default_rng(seed), balanced_classes(per_class))


def test_render_is_deterministic_and_uint8():
    a, b = render(_scenes(3)), render(_scenes(3))
    assert a.dtype == np.uint8 and a.shape == (4 * NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, render(_scenes(4)))


def test_render_does_not_depend_on_the_batch():
    scenes = _scenes(1)
    whole = render(scenes)
    np.testing.assert_array_equal(whole[5:9], render(scenes.take(np.arange(5, 9))))


def test_object_area_matches_an_independent_disc():
    # A disc of radius 0.9 * scale in [-1, 1] coordinates covers pi (0.9 s)^2 / 4 of the image.
    scenes = _scenes(2).take(np.arange(4))  # class 0: discs
    assert (scenes.shape == SHAPES.index("disc")).all()
    area = object_alpha(scenes).mean(axis=(1, 2))
    np.testing.assert_allclose(area, np.pi * (0.9 * scenes.scale) ** 2 / 4, rtol=0.03)


def test_each_cue_changes_only_its_own_pixels():
    scenes = _scenes(5)
    alpha = object_alpha(scenes)
    other = (scenes.texture + 1) % NUM_CLASSES
    swapped = render(scenes.with_(texture=other)).astype(int)
    base = render(scenes).astype(int)
    outside = alpha == 0
    np.testing.assert_array_equal(swapped[outside], base[outside])
    assert np.abs(swapped - base)[alpha == 1].mean() > 20
    rebg = render(scenes.with_(background=(scenes.background + 1) % NUM_CLASSES)).astype(int)
    inside = alpha == 1
    np.testing.assert_array_equal(rebg[inside], base[inside])
    assert np.abs(rebg - base)[outside].mean() > 10


def test_background_only_hides_the_object():
    scenes = _scenes(6)
    hidden = scenes.with_(visible=np.zeros(len(scenes), dtype=bool))
    expected = np.clip(np.rint(background_image(hidden) * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(render(hidden), expected)


def test_textures_and_backgrounds_each_tell_the_class():
    # Nearest-centroid on the mean colour (centroids from one sample, tested on another): each cue
    # alone identifies the class (chance: 1/8), which is what lets a model lean on any of them.
    # Backgrounds also differ in layout, which the mean colour ignores: a lower bar.
    fit, test = _scenes(7, per_class=20), _scenes(8, per_class=20)
    for cue, bar in ((texture_image, 0.9), (background_image, 0.75)):
        features = cue(fit).reshape(len(fit), -1, 3).mean(1)
        centroids = np.stack([features[fit.shape == k].mean(0) for k in range(NUM_CLASSES)])
        query = cue(test).reshape(len(test), -1, 3).mean(1)
        nearest = np.linalg.norm(query[:, None] - centroids[None], axis=-1).argmin(1)
        assert np.mean(nearest == test.shape) > bar, cue.__name__


@pytest.mark.parametrize("style", ["edge", "silhouette", "sketch", "cartoon"])
def test_rendition_styles_depend_only_on_shape_and_pose(style):
    scenes = _scenes(8)
    a = render(scenes, style=style)
    b = render(scenes.with_(background=np.full(len(scenes), NEUTRAL)), style=style)
    np.testing.assert_array_equal(a, b)
    if style != "cartoon":
        other = scenes.with_(texture=(scenes.texture + 3) % NUM_CLASSES)
        np.testing.assert_array_equal(a, render(other, style=style))


def test_silhouette_is_the_inverted_alpha():
    scenes = _scenes(9)
    expected = np.rint((1 - object_alpha(scenes)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(render(scenes, style="silhouette")[..., 0], expected)


def test_unknown_style():
    with pytest.raises(ValueError, match="Unknown style 'oil'"):
        render(_scenes(), style="oil")  # type: ignore[arg-type]
