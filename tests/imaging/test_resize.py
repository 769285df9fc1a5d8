"""fit_long_side, style_square and pad_to_multiple."""

import numpy as np
import pytest
from PIL import Image

from bot.imaging import fit_long_side, pad_to_multiple, style_square

from .helpers import EXAMPLES


@pytest.mark.parametrize(
    ("size", "cap", "expected"),
    [
        ((333, 517), 256, (165, 256)),
        ((517, 333), 256, (256, 165)),
        ((2048, 97), 1024, (1024, 49)),  # 48.5 rounds up, not to even
        ((97, 2048), 1024, (49, 1024)),
        ((4000, 3000), 1024, (1024, 768)),
        ((5000, 3), 1024, (1024, 1)),  # never below one pixel
        ((3, 5000), 64, (1, 64)),
        ((1025, 1025), 1024, (1024, 1024)),
    ],
)
def test_fit_long_side_exact_sizes(size, cap, expected):
    assert fit_long_side(Image.new("RGB", size), cap).size == expected


@pytest.mark.parametrize("size", [(100, 50), (1024, 1024), (1, 1), (1024, 7)])
def test_fit_long_side_never_enlarges(size):
    img = Image.new("RGB", size, "red")
    result = fit_long_side(img, 1024)
    assert result.size == size
    assert result is not img  # a copy, safe to change
    assert result.tobytes() == img.tobytes()


def test_fit_long_side_keeps_the_picture():
    img = Image.new("RGB", (600, 300), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 300, 300))
    result = fit_long_side(img, 100)
    assert result.size == (100, 50)
    assert result.mode == "RGB"
    assert result.getpixel((10, 25)) == (255, 0, 0)
    assert result.getpixel((90, 25)) == (0, 0, 255)


def test_fit_long_side_on_a_real_photo():
    with Image.open(EXAMPLES[0]) as photo:
        result = fit_long_side(photo.convert("RGB"), 64)
    assert max(result.size) == 64


@pytest.mark.parametrize("cap", [0, -5])
def test_fit_long_side_rejects_non_positive_caps(cap):
    with pytest.raises(ValueError):
        fit_long_side(Image.new("RGB", (4, 4)), cap)


@pytest.mark.parametrize("size", [(400, 100), (100, 400), (256, 256), (50, 30), (1, 1),
                                  (3000, 2000)])
def test_style_square_is_always_square(size):
    assert style_square(Image.new("RGB", size)).size == (256, 256)


def test_style_square_other_side():
    assert style_square(Image.new("RGB", (300, 200)), 128).size == (128, 128)


@pytest.mark.parametrize("wide", [True, False])
def test_style_square_keeps_the_centre(wide):
    # Blue | red | blue thirds: the centred square is the red third (its outer few pixels
    # blend with the blue just outside, exactly as resizing the whole picture would).
    img = Image.new("RGB", (300, 100), (0, 0, 255))
    img.paste((255, 0, 0), (100, 0, 200, 100))
    if not wide:
        img = img.transpose(Image.Transpose.ROTATE_90)
    result = np.asarray(style_square(img)).astype(int)
    assert np.all(np.abs(result[8:-8, 8:-8] - [255, 0, 0]) <= 2)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_style_square_matches_resize_then_centre_crop(path):
    with Image.open(path) as photo:
        img = photo.convert("RGB")
    width, height = img.size
    scale = 256 / min(width, height)
    resized = img.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)
    left, top = (resized.width - 256) // 2, (resized.height - 256) // 2
    reference = np.asarray(resized.crop((left, top, left + 256, top + 256))).astype(int)
    result = np.asarray(style_square(img)).astype(int)
    assert result.shape == (256, 256, 3)
    # The same picture up to sub-pixel alignment (a 5-pixel shift would give about 17).
    assert np.abs(result - reference).mean() < 6


def test_pad_to_multiple_shapes_and_reflection():
    arr = np.arange(5 * 7 * 3, dtype=np.float32).reshape(5, 7, 3)
    padded, original = pad_to_multiple(arr, 4)
    assert padded.shape == (8, 8, 3)
    assert padded.dtype == np.float32
    assert original == (5, 7)
    assert np.array_equal(padded[:5, :7], arr)
    # reflect mirrors about the last row/column without repeating it
    assert np.array_equal(padded[5, :7], arr[3])
    assert np.array_equal(padded[6, :7], arr[2])
    assert np.array_equal(padded[:5, 7], arr[:, 5])


def test_pad_to_multiple_falls_back_to_edge_when_too_short():
    arr = np.random.default_rng(0).random((2, 1, 3), dtype=np.float32)
    padded, original = pad_to_multiple(arr, 8)
    assert padded.shape == (8, 8, 3)
    assert original == (2, 1)
    assert np.array_equal(padded[:2, :1], arr)
    assert np.all(padded[:, :, :] == padded[:, :1, :])  # the single column repeated
    assert np.array_equal(padded[7, 0], arr[1, 0])  # the last row repeated


def test_pad_to_multiple_one_pixel():
    arr = np.full((1, 1, 3), 0.25, dtype=np.float32)
    padded, original = pad_to_multiple(arr, 16)
    assert padded.shape == (16, 16, 3)
    assert original == (1, 1)
    assert np.all(padded == 0.25)


def test_pad_to_multiple_leaves_a_fitting_array_alone():
    arr = np.zeros((8, 16, 3), dtype=np.float32)
    padded, original = pad_to_multiple(arr, 8)
    assert padded is arr
    assert original == (8, 16)


def test_pad_to_multiple_pads_only_the_axis_that_needs_it():
    arr = np.zeros((8, 9, 3), dtype=np.float32)
    assert pad_to_multiple(arr, 4)[0].shape == (8, 12, 3)


@pytest.mark.parametrize(
    ("shape", "multiple"), [((4, 4), 2), ((1, 4, 4, 3), 2), ((4, 4, 3), 0)]
)
def test_pad_to_multiple_rejects_bad_input(shape, multiple):
    with pytest.raises(ValueError):
        pad_to_multiple(np.zeros(shape, dtype=np.float32), multiple)
