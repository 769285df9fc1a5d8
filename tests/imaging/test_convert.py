"""to_float_array and from_float_array."""

import numpy as np
import pytest
from PIL import Image

from bot.imaging import from_float_array, to_float_array

from .helpers import EXAMPLES


def test_to_float_array_layout_and_range():
    img = Image.new("RGB", (5, 3), (255, 0, 51))
    arr = to_float_array(img)
    assert arr.shape == (3, 5, 3)
    assert arr.dtype == np.float32
    assert np.allclose(arr[0, 0], [1.0, 0.0, 0.2])
    assert arr.min() >= 0.0
    assert arr.max() <= 1.0


@pytest.mark.parametrize("mode", ["L", "1", "P", "RGBA", "CMYK"])
def test_to_float_array_converts_other_modes_to_three_channels(mode):
    arr = to_float_array(Image.new(mode, (4, 2)))
    assert arr.shape == (2, 4, 3)
    assert arr.dtype == np.float32


@pytest.mark.parametrize("path", EXAMPLES[:1], ids=lambda p: p.name)
def test_round_trip_is_exact(path):
    with Image.open(path) as photo:
        img = photo.convert("RGB")
    back = from_float_array(to_float_array(img))
    assert back.mode == "RGB"
    assert back.size == img.size
    assert back.tobytes() == img.tobytes()


def test_from_float_array_clips_and_rounds():
    arr = np.array([[[-1.0, 2.0, np.nan], [0.5, 0.1, 1.0]]], dtype=np.float32)
    img = from_float_array(arr)
    assert img.mode == "RGB"
    assert img.size == (2, 1)
    assert img.getpixel((0, 0)) == (0, 255, 0)
    assert img.getpixel((1, 0)) == (128, 26, 255)  # 127.5 and 25.5 round up


def test_from_float_array_accepts_float64_and_non_contiguous_views():
    arr = np.zeros((4, 6, 3))
    arr[..., 1] = 1.0
    img = from_float_array(arr[:, ::2])
    assert img.size == (3, 4)
    assert img.getpixel((0, 0)) == (0, 255, 0)


def test_from_float_array_does_not_change_its_input():
    arr = np.array([[[2.0, -1.0, np.nan]]], dtype=np.float32)
    from_float_array(arr)
    assert arr[0, 0, 0] == 2.0
    assert np.isnan(arr[0, 0, 2])


@pytest.mark.parametrize("shape", [(4, 4), (4, 4, 4), (1, 4, 4, 3), (4, 4, 1)])
def test_from_float_array_rejects_other_shapes(shape):
    with pytest.raises(ValueError):
        from_float_array(np.zeros(shape, dtype=np.float32))
