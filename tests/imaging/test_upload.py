"""encode_for_upload: the result always fits the limit, decodes, and keeps its aspect ratio."""

import io
from contextlib import suppress

import numpy as np
import pytest
from PIL import Image

from bot.errors import ImageError
from bot.imaging import encode_image
from bot.imaging.upload import MIN_LIMIT, Upload, encode_for_upload
from tests.imaging.helpers import EXAMPLES

KB, MIB = 1024, 1024 * 1024
EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


def noise(width: int, height: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    channels = len(mode)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), np.uint8)
    return Image.fromarray(pixels, mode)


def photo(name: str) -> Image.Image:
    with Image.open(next(p for p in EXAMPLES if p.stem == name)) as image:
        return image.convert("RGB")


def decoded(upload: Upload, limit: int) -> Image.Image:
    """Check what every upload must satisfy and return it decoded."""
    assert len(upload.data) <= limit
    with Image.open(io.BytesIO(upload.data)) as image:
        image.load()
    assert upload.filename.endswith(EXTENSIONS[image.format])
    assert image.size == upload.size
    return image


def assert_same_shape(upload: Upload, original: Image.Image) -> None:
    """Both sides are the original's times one common scale, within a pixel."""
    (w, h), (ow, oh) = upload.size, original.size
    scale = max(w, h) / max(ow, oh)
    assert abs(w - ow * scale) <= 1 and abs(h - oh * scale) <= 1, (upload.size, original.size)
    assert upload.downscaled == (upload.size != original.size)


def test_noisy_image_fits_eight_mib_at_full_size():
    image = noise(2048, 1536)
    upload = encode_for_upload(image, 8 * MIB)
    decoded(upload, 8 * MIB)
    assert (upload.size, upload.downscaled) == ((2048, 1536), False)
    assert upload.filename.startswith("stylized.")


def test_noisy_image_under_300_kb_is_lossy_and_smaller():
    image = noise(1024, 768, seed=1)
    upload = encode_for_upload(image, 300 * KB, stem="result")
    assert decoded(upload, 300 * KB).format in ("JPEG", "WEBP")
    assert upload.downscaled and upload.filename == "result.jpg"
    assert_same_shape(upload, image)
    assert upload.size[0] > 150  # shrunk to fit, not to a thumbnail
    assert len(upload.data) > 300 * KB // 3  # the size estimate aims close to the limit


def test_a_flat_image_stays_png_under_a_tiny_limit():
    image = Image.new("RGB", (2048, 1536), (30, 60, 90))
    upload = encode_for_upload(image, 24 * KB)
    assert decoded(upload, 24 * KB).format == "PNG"
    assert (upload.filename, upload.size, upload.downscaled) == (
        "stylized.png", (2048, 1536), False)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_photos_are_lossless_png_when_they_fit(path):
    image = photo(path.stem)
    upload = encode_for_upload(image, 8 * MIB)
    assert upload.filename == "stylized.png" and not upload.downscaled
    assert np.array_equal(np.asarray(decoded(upload, 8 * MIB)), np.asarray(image))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("limit", [MIN_LIMIT, 20 * KB])
def test_photos_shrink_to_fit_small_limits(path, limit):
    image = photo(path.stem)
    upload = encode_for_upload(image, limit)
    decoded(upload, limit)
    assert upload.downscaled and upload.filename == "stylized.jpg"
    assert_same_shape(upload, image)


@pytest.mark.parametrize(("fmt", "quality", "make"), [
    ("JPEG", 92, lambda: photo("astronaut")),
    ("WEBP", 90, lambda: photo("astronaut")),
    ("JPEG", 85, lambda: noise(512, 384)),  # noise: JPEG 85 beats WebP 90
], ids=["jpeg92", "webp90", "jpeg85"])
def test_full_size_formats_are_tried_in_order(fmt, quality, make):
    """With the limit at one candidate's exact size, that candidate is chosen (not a later,
    possibly smaller one), given that every earlier candidate is larger or fails to encode."""
    image = make()
    order = [("PNG", 92), ("JPEG", 92), ("WEBP", 90), ("JPEG", 85)]
    expected = encode_image(image, fmt, quality=quality)
    for earlier in order[: order.index((fmt, quality))]:
        with suppress(ImageError):  # see upload._try_encode: failing counts as "does not fit"
            assert len(encode_image(image, earlier[0], quality=earlier[1])) > len(expected)
    upload = encode_for_upload(image, len(expected))
    assert upload.data == expected
    assert upload.filename == f"stylized{EXTENSIONS[fmt]}" and not upload.downscaled


def test_extreme_shapes_and_alpha_still_fit():
    for image in (noise(4000, 3, seed=2), noise(3, 4000, seed=3), noise(300, 200, 4, "RGBA")):
        upload = encode_for_upload(image, MIN_LIMIT)
        decoded(upload, MIN_LIMIT)
        assert_same_shape(upload, image)
    one = encode_for_upload(noise(1, 1), MIN_LIMIT)
    assert one.size == (1, 1) and one.filename == "stylized.png"


def test_a_limit_below_the_minimum_is_a_programming_error():
    with pytest.raises(ValueError, match="at least"):
        encode_for_upload(noise(8, 8), MIN_LIMIT - 1)


def test_the_full_size_format_order_is_a_parameter():
    image = noise(64, 48)
    assert encode_for_upload(image, 8 * MIB).filename == "stylized.png"  # the default: PNG first
    upload = encode_for_upload(image, 8 * MIB, formats=(("JPEG", 92), ("PNG", 0)))
    assert upload.filename == "stylized.jpg" and upload.data[:3] == b"\xff\xd8\xff"
