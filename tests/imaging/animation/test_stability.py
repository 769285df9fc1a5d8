"""Steadier and flicker: still areas stay still, moving ones take the new painting."""

import numpy as np

from bot.imaging.animation import Steadier, flicker
from tests.imaging.animation.clips import moving_frames, still_mask


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
    steadier = Steadier()
    shown = [steadier(source, painted) for source, painted in zip(inputs, paintings, strict=True)]
    mask = still_mask(6)
    assert flicker(paintings, mask) > 4
    assert flicker(shown, mask) == 0.0
    # where the square is now, the new painting is shown
    moving = np.abs(inputs[5].astype(int) - inputs[4].astype(int)).max(axis=2) > 60
    assert np.array_equal(shown[5][moving], paintings[5][moving])


def test_a_slow_fade_still_comes_through():
    steadier = Steadier()
    painted = None
    for level in range(0, 120, 4):  # 4 levels a frame: under the threshold each time
        frame = np.full((16, 16, 3), level, np.uint8)
        painted = steadier(frame, frame)
    assert abs(int(painted[8, 8, 0]) - 116) <= 24


class WholeFrameSteadier(Steadier):
    """The steadier blending over the whole frame, as it did before blending in a box."""

    def blend_box(self, moved, size):
        return (0, 0, *size)


def steadied(steadier, inputs, paintings):
    return [steadier(source, painted) for source, painted in zip(inputs, paintings, strict=True)]


def wobbly_paintings(inputs, seed=1):
    rng = np.random.default_rng(seed)
    return [np.clip(f.astype(int) + rng.integers(-8, 9, f.shape), 0, 255).astype(np.uint8)
            for f in inputs]


def test_blending_in_the_box_around_the_change_equals_blending_the_whole_frame():
    inputs = moving_frames(8, (96, 64), step=7)  # sides on the 4-pixel grid of the spread
    paintings = wobbly_paintings(inputs)
    boxed = steadied(Steadier(), inputs, paintings)
    whole = steadied(WholeFrameSteadier(), inputs, paintings)
    for mine, reference in zip(boxed, whole, strict=True):
        assert np.array_equal(mine, reference)


def test_the_box_is_small_for_a_small_change_and_stays_inside_the_frame():
    steadier = Steadier()
    assert steadier.blend_box((40, 30, 50, 34), (480, 270)) == (24, 12, 68, 52)
    assert steadier.blend_box((0, 260, 480, 270), (480, 270)) == (0, 244, 480, 270)


def test_on_sides_off_the_grid_the_box_differs_from_the_whole_frame_only_at_soft_edges():
    inputs = moving_frames(8, (99, 67), step=7)
    paintings = wobbly_paintings(inputs)
    boxed = steadied(Steadier(), inputs, paintings)
    whole = steadied(WholeFrameSteadier(), inputs, paintings)
    still = still_mask(8, (99, 67), margin=12)
    for index in range(1, 8):
        difference = np.abs(boxed[index].astype(int) - whole[index].astype(int)).max(axis=2)
        moving = np.abs(inputs[index].astype(int) - inputs[index - 1].astype(int)).max(axis=2) > 60
        assert difference[still].max() == 0
        assert difference[moving].max() == 0
        assert difference.max() <= 16  # two wobbles apart at most, on a blend's soft edge
