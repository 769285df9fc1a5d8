"""to_rgb on modes that need more than Image.convert: deep greyscale and transparency."""

import numpy as np
import pytest
from PIL import Image

from bot.imaging import to_rgb


def grey_values(img: Image.Image) -> list[int]:
    rgb = to_rgb(img)
    assert rgb.mode == "RGB"
    arr = np.asarray(rgb)
    assert np.array_equal(arr[..., 0], arr[..., 1])
    assert np.array_equal(arr[..., 0], arr[..., 2])
    return arr[0, :, 0].tolist()


def test_rgb_is_returned_as_is():
    img = Image.new("RGB", (2, 2), "red")
    assert to_rgb(img) is img


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_sixteen_bit_spans_the_full_range(mode):
    img = Image.new(mode, (3, 1))
    for x, value in enumerate((0, 32896, 65535)):
        img.putpixel((x, 0), value)
    assert grey_values(img) == [0, 128, 255]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 128, 255], [0, 128, 255]),  # 8-bit data stored as 32-bit integers
        ([0, 32896, 65535], [0, 128, 255]),  # 16-bit data
        ([0, 600_000, 1_000_000], [0, 153, 255]),  # wider: stretched to its own range
        ([-10, 0, 30], [0, 64, 255]),  # negative: stretched to its own range
    ],
)
def test_32_bit_integers(values, expected):
    img = Image.fromarray(np.array([values], dtype=np.int32))
    assert img.mode == "I"
    assert grey_values(img) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.0, 0.5, 1.0], [0, 128, 255]),
        ([0.0, 100.0, 255.0], [0, 100, 255]),
        ([-1.0, 0.0, 3.0], [0, 64, 255]),
        ([float("nan"), 0.5, 1.0], [0, 128, 255]),
        ([3.0, 3.0, 3.0], [3, 3, 3]),
        ([-2.0, -2.0, -2.0], [0, 0, 0]),
    ],
)
def test_floats(values, expected):
    img = Image.fromarray(np.array([values], dtype=np.float32))
    assert img.mode == "F"
    assert grey_values(img) == expected


def test_semi_transparent_rgba_is_blended_with_white():
    img = Image.new("RGBA", (1, 1), (0, 0, 255, 64))
    assert to_rgb(img).getpixel((0, 0)) == (191, 191, 255)


def test_rgb_with_a_transparent_colour_key_shows_white():
    img = Image.new("RGB", (2, 1), (0, 255, 0))
    img.putpixel((1, 0), (9, 9, 9))
    img.info["transparency"] = (0, 255, 0)
    rgb = to_rgb(img)
    assert rgb.getpixel((0, 0)) == (255, 255, 255)
    assert rgb.getpixel((1, 0)) == (9, 9, 9)


def test_one_pixel_and_empty_greyscale():
    assert grey_values(Image.new("I;16", (1, 1), 65535)) == [255]
    assert to_rgb(Image.new("F", (0, 0))).size == (0, 0)
