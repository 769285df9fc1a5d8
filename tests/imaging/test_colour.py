"""keep_colours: brightness from the stylized image, colour from the photo."""

import numpy as np
from PIL import Image

from bot.imaging import keep_colours

from .helpers import EXAMPLES


def ycbcr(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("YCbCr")).astype(int)


def grey_ramp(size: tuple[int, int], low: int = 70, high: int = 180) -> Image.Image:
    width, height = size
    row = np.linspace(low, high, width).round().astype(np.uint8)
    return Image.fromarray(np.tile(row, (height, 1))).convert("RGB")


def test_luminance_from_stylized_and_chroma_from_content():
    stylized = grey_ramp((64, 32))  # brightness varies, no colour
    content = Image.new("RGB", (64, 32), (150, 110, 80))  # one moderate brown
    out = keep_colours(stylized, content)
    assert out.mode == "RGB"
    assert out.size == (64, 32)
    got, want_luma, want_chroma = ycbcr(out), ycbcr(stylized), ycbcr(content)
    assert np.abs(got[..., 0] - want_luma[..., 0]).max() <= 2
    assert np.abs(got[..., 1:] - want_chroma[..., 1:]).max() <= 3


def test_content_of_another_size_is_resized_to_the_stylized_size():
    stylized = grey_ramp((40, 30))
    content = Image.new("RGB", (400, 123), (90, 120, 160))
    out = keep_colours(stylized, content)
    assert out.size == (40, 30)
    assert np.abs(ycbcr(out)[..., 1:] - ycbcr(content)[:1, :1, 1:]).max() <= 3


def test_real_photos_keep_colours_on_average():
    with Image.open(EXAMPLES[0]) as a, Image.open(EXAMPLES[1]) as b:
        content = a.convert("RGB")
        stylized = b.convert("RGB").resize(content.size)
    out = keep_colours(stylized, content)
    got, want_luma, want_chroma = ycbcr(out), ycbcr(stylized), ycbcr(content)
    assert np.abs(got[..., 0] - want_luma[..., 0]).mean() < 3
    assert np.abs(got[..., 1:] - want_chroma[..., 1:]).mean() < 3


def test_grey_content_makes_a_grey_result():
    stylized = Image.new("RGB", (8, 8), (200, 30, 30))
    out = np.asarray(keep_colours(stylized, Image.new("L", (8, 8), 128))).astype(int)
    assert np.abs(out - out[..., :1]).max() <= 1  # R == G == B


def test_other_modes_are_accepted():
    out = keep_colours(Image.new("L", (5, 5), 100), Image.new("RGBA", (5, 5), (255, 0, 0, 255)))
    assert out.mode == "RGB"
    assert out.size == (5, 5)
