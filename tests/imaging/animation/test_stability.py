"""Steadier and flicker: still areas stay still, moving ones take the new painting."""

import numpy as np
from PIL import Image

from bot.imaging.animation import Steadier, flicker
from bot.imaging.animation.stability import dilated
from tests.imaging.animation.clips import moving_frames, still_mask


def steadied(sources: list[np.ndarray], paintings: list[np.ndarray]) -> list[np.ndarray]:
    """The frames a Steadier shows for these paintings of these input frames."""
    steadier = Steadier()
    return [np.asarray(steadier(Image.fromarray(source), Image.fromarray(painted)))
            for source, painted in zip(sources, paintings, strict=True)]


def test_flicker_is_zero_for_identical_frames_and_measures_change():
    frames = [np.full((8, 8, 3), 100, np.uint8)] * 3
    mask = np.ones((8, 8), bool)
    assert flicker(frames, mask) == 0.0
    shaken = [frames[0], frames[0] + 4, frames[0]]
    assert flicker(shaken, mask) == 4.0


def test_still_areas_keep_their_painting_and_moving_ones_follow():
    inputs = moving_frames(6)
    rng = np.random.default_rng(1)
    # a "painting" that wobbles everywhere a little from frame to frame, like the network's
    paintings = [np.clip(f.astype(int) + rng.integers(-8, 9, f.shape), 0, 255).astype(np.uint8)
                 for f in inputs]
    shown = steadied(inputs, paintings)
    mask = still_mask(6)
    assert flicker(paintings, mask) > 4
    assert flicker(shown, mask) == 0.0
    # where the square is now, the new painting is shown
    moving = np.abs(inputs[5].astype(int) - inputs[4].astype(int)).max(axis=2) > 60
    assert np.array_equal(shown[5][moving], paintings[5][moving])


def test_a_slow_fade_still_comes_through():
    frames = [np.full((16, 16, 3), level, np.uint8)  # 4 levels a frame: under the threshold
              for level in range(0, 120, 4)]
    painted = steadied(frames, frames)[-1]
    assert abs(int(painted[8, 8, 0]) - 116) <= 24


def test_scattered_dither_noise_in_a_gif_input_is_not_repainted():
    inputs = moving_frames(8, (96, 64))
    rng = np.random.default_rng(2)
    noisy = []
    for frame in inputs:  # 3 % of the pixels off by 12 levels, elsewhere in every frame
        hit = rng.random(frame.shape[:2]) < 0.03
        noisy.append(np.clip(frame.astype(int) + 12 * hit[..., None], 0, 255).astype(np.uint8))
    paintings = [np.clip(f.astype(int) + rng.integers(-8, 9, f.shape), 0, 255).astype(np.uint8)
                 for f in inputs]
    shown = steadied(noisy, paintings)
    mask = still_mask(8)
    assert flicker(noisy, mask) > 0.2
    assert flicker(shown, mask) < 0.02  # the painting of the still area is kept


def test_dilation_gives_the_pixels_of_pillows_max_filter():
    from PIL import ImageFilter

    rng = np.random.default_rng(4)
    for shape in ((68, 120), (1, 1), (2, 5), (17, 3)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        pixels[pixels < 200] = 0  # sparse, as changes are
        image = Image.fromarray(pixels)
        expected = np.asarray(image.filter(ImageFilter.MaxFilter(3)))
        assert np.array_equal(np.asarray(dilated(image)), expected)
