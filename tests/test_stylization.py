"""The stylization steps on the real lite engine: capped output size, colour keeping, style keys."""

import hashlib
import io

import numpy as np
import pytest
from PIL import Image

import bot.stylization
from bot.errors import ImageError
from bot.imaging import ImageLimits, fit_long_side
from bot.stylization import StylizeOptions, style_from_bytes, style_from_file, stylize

LIMITS = ImageLimits()


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def starry(preset_image):
    """The Starry Night as a style, keyed by its bytes like the bot does."""
    return style_from_bytes(jpeg_bytes(preset_image("starry-night")), LIMITS)


def ycbcr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("YCbCr"), dtype=np.float64)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [
        ((333, 517), 1024, (333, 517)),  # odd sizes, below the cap: untouched
        ((333, 517), 300, (193, 300)),  # odd sizes, capped: rounded like fit_long_side
        ((1024, 768), 512, (512, 384)),
        ((2048, 97), 2048, (2048, 97)),  # a long thin strip at the largest cap
    ],
)
def test_output_has_the_capped_content_size(lite_engine, starry, photo, size, max_side, expected):
    content = photo("coffee", size)
    out = stylize(lite_engine, content, [starry], StylizeOptions(max_side=max_side))
    assert out.size == expected == fit_long_side(content, max_side).size
    assert out.mode == "RGB"


def test_keep_colours_takes_chroma_from_the_photo_and_luminance_from_the_painting(
    lite_engine, starry, photo
):
    content = photo("coffee", (256, 192))
    plain = stylize(lite_engine, content, [starry], StylizeOptions(max_side=256))
    kept = stylize(lite_engine, content, [starry], StylizeOptions(max_side=256, keep_colours=True))
    assert kept.size == plain.size == content.size
    photo_ycc, plain_ycc, kept_ycc = ycbcr(content), ycbcr(plain), ycbcr(kept)
    for channel in (1, 2):  # Cb, Cr
        kept_gap = abs(kept_ycc[..., channel].mean() - photo_ycc[..., channel].mean())
        plain_gap = abs(plain_ycc[..., channel].mean() - photo_ycc[..., channel].mean())
        assert kept_gap < 2.0, f"channel {channel}: kept chroma mean is off by {kept_gap:.1f}"
        assert plain_gap > 4 * kept_gap + 3, f"channel {channel}: the style barely shifted chroma"
        kept_corr = correlation(kept_ycc[..., channel], photo_ycc[..., channel])
        plain_corr = correlation(plain_ycc[..., channel], photo_ycc[..., channel])
        assert kept_corr > 0.95
        assert kept_corr > plain_corr + 0.2
    # Brightness is the painting's: close to the plain output's, not to the photo's.
    luma_to_plain = np.abs(kept_ycc[..., 0] - plain_ycc[..., 0]).mean()
    luma_to_photo = np.abs(kept_ycc[..., 0] - photo_ycc[..., 0]).mean()
    assert luma_to_plain < 2.0
    assert luma_to_photo > 5 * luma_to_plain
    assert correlation(kept_ycc[..., 0], plain_ycc[..., 0]) > 0.99


def test_style_from_bytes_is_keyed_by_sha256(preset_image):
    data = jpeg_bytes(preset_image("great-wave"))
    style = style_from_bytes(data, LIMITS, weight=2.5)
    assert style.key == "sha256:" + hashlib.sha256(data).hexdigest()
    assert style.weight == 2.5
    assert style_from_bytes(data, LIMITS).key == style.key
    assert style_from_bytes(data + b"\0", LIMITS).key != style.key


def test_style_from_bytes_decodes_only_when_used(lite_engine, photo):
    garbage = b"this is not an image at all"
    style = style_from_bytes(garbage, LIMITS)  # no error yet: nothing decoded
    assert callable(style.image)
    with pytest.raises(ImageError, match="style image is not a PNG, JPEG"):
        style.load_image()
    with pytest.raises(ImageError, match="style image"):
        stylize(lite_engine, photo("chelsea", (64, 48)), [style], StylizeOptions(max_side=64))


def test_a_style_whose_vector_is_cached_is_never_decoded(lite_engine, photo, monkeypatch):
    data = jpeg_bytes(photo("astronaut", (300, 300)))
    content = photo("chelsea", (64, 48))
    first = stylize(lite_engine, content, [style_from_bytes(data, LIMITS)], StylizeOptions())
    decodes = []

    def counting_decode(*args, **kwargs):
        decodes.append(args)
        raise AssertionError("the cached style was decoded again")

    monkeypatch.setattr(bot.stylization, "decode_image", counting_decode)
    again = stylize(lite_engine, content, [style_from_bytes(data, LIMITS)], StylizeOptions())
    assert decodes == []
    assert np.array_equal(np.asarray(first), np.asarray(again))


def test_style_from_file_reads_the_file_and_keys_it_by_content(tmp_path, preset_image):
    data = jpeg_bytes(preset_image("the-scream"))
    one, two = tmp_path / "one.jpg", tmp_path / "renamed copy.jpg"
    one.write_bytes(data)
    two.write_bytes(data)
    assert style_from_file(one, LIMITS).key == style_from_file(two, LIMITS).key
    assert style_from_file(one, LIMITS).key == "sha256:" + hashlib.sha256(data).hexdigest()
    assert style_from_file(one, LIMITS).load_image().size == Image.open(one).size


def test_style_from_file_on_a_missing_file_is_one_sentence(tmp_path):
    missing = tmp_path / "nowhere.jpg"
    with pytest.raises(ImageError) as caught:
        style_from_file(missing, LIMITS)
    message = str(caught.value)
    assert "nowhere.jpg" in message and "not found" in message
    assert "\n" not in message
    assert message.endswith(".") and message.count(". ") == 0
