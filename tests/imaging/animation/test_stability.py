"""Steadier and flicker: still areas stay still, moving ones take the new painting."""

import numpy as np
from PIL import Image

from bot.imaging.animation import Steadier, flicker
from bot.imaging.animation.stability import dilated, eroded, opened, paste_within
from tests.imaging.animation.clips import moving_frames, still_mask


def steadied(sources: list[np.ndarray], paintings: list[np.ndarray]) -> list[np.ndarray]:
    """The frames a Steadier shows for these paintings of these input frames."""
    steadier = Steadier()
    return [np.asarray(steadier(Image.fromarray(source), Image.fromarray(painted)))
            for source, painted in zip(sources, paintings, strict=True)]


def wobbled(frames: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """"Paintings" of `frames` that wobble everywhere a little from frame to frame, like the
    network's."""
    return [np.clip(f.astype(int) + rng.integers(-8, 9, f.shape), 0, 255).astype(np.uint8)
            for f in frames]


def lifted(frame: np.ndarray, hit: np.ndarray, levels: int) -> np.ndarray:
    """`frame` with the pixels where `hit` is true `levels` brighter."""
    return np.clip(frame.astype(int) + levels * hit[..., None], 0, 255).astype(np.uint8)


def test_flicker_is_zero_for_identical_frames_and_measures_change():
    frames = [np.full((8, 8, 3), 100, np.uint8)] * 3
    mask = np.ones((8, 8), bool)
    assert flicker(frames, mask) == 0.0
    shaken = [frames[0], frames[0] + 4, frames[0]]
    assert flicker(shaken, mask) == 4.0


def test_still_areas_keep_their_painting_and_moving_ones_follow():
    inputs = moving_frames(6)
    paintings = wobbled(inputs, np.random.default_rng(1))
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
    # 3 % of the pixels off by 12 levels, elsewhere in every frame
    noisy = [lifted(frame, rng.random(frame.shape[:2]) < 0.03, 12) for frame in inputs]
    paintings = wobbled(inputs, rng)
    shown = steadied(noisy, paintings)
    mask = still_mask(8)
    assert flicker(noisy, mask) > 0.2
    assert flicker(shown, mask) < 0.02  # the painting of the still area is kept


def test_scattered_blocks_of_a_shifting_gif_palette_are_not_repainted():
    inputs = moving_frames(8, (96, 64))
    rng = np.random.default_rng(3)
    # 2 % of the 2x2 blocks 16 levels off, elsewhere in every frame
    shifted = [lifted(frame, np.kron(rng.random((32, 48)) < 0.02, np.ones((2, 2), bool)), 16)
               for frame in inputs]
    paintings = wobbled(inputs, rng)
    shown = steadied(shifted, paintings)
    mask = still_mask(8)
    assert flicker(shifted, mask) > 0.2
    assert flicker(shown, mask) == 0.0  # the painting of the still area is kept
    moving = np.abs(inputs[7].astype(int) - inputs[6].astype(int)).max(axis=2) > 60
    assert np.array_equal(shown[7][moving], paintings[7][moving])  # the square still follows


def test_a_small_block_that_changes_by_more_than_high_is_repainted():
    still = np.full((48, 48, 3), 90, np.uint8)
    blink = still.copy()
    blink[36:38, 36:38] = 200  # one 2x2 block lights up: a star, not dither
    first, second = (np.clip(f.astype(int) + d, 0, 255).astype(np.uint8)
                     for f, d in ((still, 5), (blink, -5)))
    shown = steadied([still, blink], [first, second])
    assert np.array_equal(shown[1][36:38, 36:38], second[36:38, 36:38])
    assert np.array_equal(shown[1][:16, :16], first[:16, :16])  # far off, the first painting


def test_opening_removes_specks_and_keeps_what_fills_a_3x3_square():
    pixels = np.zeros((12, 12), np.uint8)
    pixels[2, 2] = 200  # a speck
    pixels[5:8, 5:9] = 120  # a 3x4 patch
    pixels[10, 1:11] = 90  # a one-pixel line
    result = np.asarray(opened(Image.fromarray(pixels)))
    assert result[2, 2] == 0 and not result[10].any()
    assert np.array_equal(result[5:8, 5:9], pixels[5:8, 5:9])
    assert result.sum() == pixels[5:8, 5:9].sum()


def test_dilation_and_erosion_give_the_pixels_of_pillows_max_and_min_filters():
    from PIL import ImageFilter

    rng = np.random.default_rng(4)
    for shape in ((68, 120), (1, 1), (2, 5), (17, 3)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        pixels[pixels < 200] = 0  # sparse, as changes are
        image = Image.fromarray(pixels)
        expected = np.asarray(image.filter(ImageFilter.MaxFilter(3)))
        assert np.array_equal(np.asarray(dilated(image)), expected)
        expected = np.asarray(image.filter(ImageFilter.MinFilter(3)))
        assert np.array_equal(np.asarray(eroded(image)), expected)


def test_pasting_within_the_masks_box_gives_the_pixels_of_a_whole_paste():
    rng = np.random.default_rng(5)
    target = rng.integers(0, 256, (45, 61, 3), dtype=np.uint8)
    image = Image.fromarray(rng.integers(0, 256, (45, 61, 3), dtype=np.uint8))
    masks = [np.zeros((45, 61), np.uint8), rng.integers(0, 256, (45, 61), dtype=np.uint8)]
    corner = np.zeros((45, 61), np.uint8)
    corner[30:, 50:] = rng.integers(1, 256, (15, 11), dtype=np.uint8)
    for mask in [*masks, corner]:
        whole, within = Image.fromarray(target), Image.fromarray(target)
        whole.paste(image, None, Image.fromarray(mask))
        paste_within(within, image, Image.fromarray(mask))
        assert np.array_equal(np.asarray(within), np.asarray(whole))
