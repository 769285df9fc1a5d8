"""A job's steps (decode_inputs, paint_inputs, encode) on the real lite engine: sizes, timing,
upload limits, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.errors import ImageError, ImageTooLarge
from bot.features.stylize.painting import (
    Painted,
    Rendered,
    RenderRequest,
    StyleInput,
    decode_inputs,
    encode,
    paint_inputs,
)
from bot.imaging import ImageLimits
from bot.stylization import StylizeOptions

LIMITS = ImageLimits()
ROOMY = 8 * 1024 * 1024


def paint(engine, request: RenderRequest, limits: ImageLimits) -> Painted:
    """The job's steps in the worker, as the bot runs them: decode, then paint."""
    return paint_inputs(engine, request.options, decode_inputs(request, limits))


def render(engine, request: RenderRequest, limits: ImageLimits, upload_limit: int) -> Rendered:
    """A whole job: the worker's steps, then the encoding that follows them."""
    return encode(paint(engine, request, limits), upload_limit)


def encoded(image: Image.Image, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


@pytest.fixture(scope="module")
def cat(photo) -> bytes:
    return encoded(photo("chelsea", (240, 160)))


@pytest.fixture(scope="module")
def starry(preset_image) -> StyleInput:
    return StyleInput("starry-night", encoded(preset_image("starry-night")))


@pytest.fixture(scope="module")
def wave(preset_image) -> StyleInput:
    return StyleInput("great-wave", encoded(preset_image("great-wave")))


def test_render_paints_at_the_photo_size(lite_engine, cat, starry):
    done = render(lite_engine, RenderRequest(cat, (starry,), StylizeOptions()), LIMITS, ROOMY)
    assert isinstance(done, Rendered)
    image = opened(done.data)
    assert image.size == (done.width, done.height) == (240, 160)
    assert done.filename == "stylized.png" and done.data[:4] == b"\x89PNG"
    assert done.seconds > 0
    photo = np.asarray(opened(cat), float)
    assert np.abs(np.asarray(image, float) - photo).mean() > 15  # it was painted


def test_render_caps_the_long_side(lite_engine, cat, starry):
    request = RenderRequest(cat, (starry,), StylizeOptions(max_side=120))
    done = render(lite_engine, request, LIMITS, ROOMY)
    assert opened(done.data).size == (done.width, done.height) == (120, 80)


@pytest.mark.parametrize("limit", [60_000, 12_000, 4_000])
def test_render_fits_the_upload_limit(lite_engine, cat, starry, limit):
    done = render(lite_engine, RenderRequest(cat, (starry,), StylizeOptions()), LIMITS, limit)
    assert len(done.data) <= limit
    image = opened(done.data)
    assert image.size == (done.width, done.height)
    assert done.filename.rsplit(".", 1)[1] in ("png", "jpg", "webp")
    assert Image.open(io.BytesIO(done.data)).format == {
        "png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[done.filename.rsplit(".", 1)[1]]
    assert done.width / done.height == pytest.approx(1.5, rel=0.05)  # shrunk, not distorted


def test_strength_and_styles_change_the_painting(lite_engine, cat, starry, wave):
    def paint(*styles: StyleInput, strength: float = 1.0) -> np.ndarray:
        request = RenderRequest(cat, styles, StylizeOptions(strength=strength))
        return np.asarray(opened(render(lite_engine, request, LIMITS, ROOMY).data), float)

    starry_full, wave_full = paint(starry), paint(wave)
    assert np.abs(starry_full - wave_full).mean() > 10
    faint = paint(starry, strength=0.0)
    assert np.abs(faint - np.asarray(opened(cat), float)).mean() < \
        np.abs(starry_full - np.asarray(opened(cat), float)).mean()
    heavy_starry = paint(StyleInput(starry.name, starry.data, 9.0),
                         StyleInput(wave.name, wave.data, 1.0))
    assert np.abs(heavy_starry - starry_full).mean() < np.abs(heavy_starry - wave_full).mean()


def test_bad_photo_bytes_are_one_sentence_about_the_photo(lite_engine, starry):
    request = RenderRequest(b"not an image at all", (starry,), StylizeOptions())
    with pytest.raises(ImageError, match="photo") as caught:
        render(lite_engine, request, LIMITS, ROOMY)
    assert caught.value.message.endswith(".") and "\n" not in caught.value.message


def test_bad_style_bytes_name_the_style(lite_engine, cat):
    request = RenderRequest(cat, (StyleInput("my-mural", b"garbage"),), StylizeOptions())
    with pytest.raises(ImageError, match="my-mural"):
        render(lite_engine, request, LIMITS, ROOMY)


def test_input_limits_apply(lite_engine, cat, starry):
    tight = ImageLimits(max_input_pixels=240 * 160 - 1)
    with pytest.raises(ImageTooLarge):
        render(lite_engine, RenderRequest(cat, (starry,), StylizeOptions()), tight, ROOMY)


def test_paint_then_encode_is_render_in_two_steps(lite_engine, cat, starry):
    request = RenderRequest(cat, (starry,), StylizeOptions(max_side=200))
    painted = paint(lite_engine, request, LIMITS)
    assert isinstance(painted, Painted) and painted.image.size == (200, 133)
    assert painted.seconds > 0
    done = encode(painted, ROOMY)
    assert (done.width, done.height) == (200, 133) and done.seconds > painted.seconds
    assert np.array_equal(np.asarray(opened(done.data)), np.asarray(painted.image))  # lossless
    assert opened(done.data).size == opened(render(lite_engine, request, LIMITS, ROOMY).data).size


def test_encode_alone_fits_a_tight_limit(lite_engine, cat, starry):
    painted = paint(lite_engine, RenderRequest(cat, (starry,), StylizeOptions()), LIMITS)
    done = encode(painted, 20 * 1024)
    assert len(done.data) <= 20 * 1024 and not done.filename.endswith(".png")


def test_inputs_decoded_ahead_are_already_capped(cat, starry):
    inputs = decode_inputs(RenderRequest(cat, (starry,), StylizeOptions(max_side=120)), LIMITS)
    assert inputs.content.size == (120, 80) and len(inputs.styles) == 1
