"""Every form of the API, every bad input's status and sentence, on the two-node cluster."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from bot.errors import ImageError
from bot.imaging import decode_image
from bot.service.errors import NOT_ANSWERING
from bot.service.ingress import NO_PAINTER
from tests.service.http import photo_bytes, post, stylize

SMALL = ("max_size", "256", None)


def pixels(answer) -> np.ndarray:
    return np.asarray(answer.image().convert("RGB"), dtype=np.float32)


async def test_healthz_counts_the_running_painters_and_presets_are_listed(service, http):
    async with http.get(f"{service.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "painters": {"running": 2, "target": 2}}
    async with http.get(f"{service.url}/v1/presets") as response:
        assert response.status == 200
        presets = await response.json()
    assert all(set(p) == {"slug", "title", "artist", "year"} for p in presets)
    starry = next(p for p in presets if p["slug"] == "starry-night")
    assert starry == {"slug": "starry-night", "title": "The Starry Night",
                      "artist": "Vincent van Gogh", "year": 1889}


async def test_a_front_without_running_painters_is_503_for_health_and_painting(service, http):
    """A second front app (at /lonely) whose Painter application does not exist: /healthz says
    no painter runs, and a painting that reaches it is "not answering" (retried)."""
    from ray import serve

    from bot.service.app import build_front_app

    lonely = build_front_app(service.settings, painter_app="no-such-painters")
    await asyncio.to_thread(serve.run, lonely, name="lonely", route_prefix="/lonely")
    try:
        async with http.get(f"{service.url}/lonely/healthz") as response:
            assert response.status == 503
            assert await response.json() == {
                "error": NO_PAINTER, "painters": {"running": 0, "target": 0}}
        answer = await stylize(http, f"{service.url}/lonely", ("style", "udnie", None))
        assert (answer.status, answer.headers["Retry-After"], answer.error) == (
            503, "2", NOT_ANSWERING)
    finally:
        await asyncio.to_thread(serve.delete, "lonely")


async def test_a_preset_paints_a_png_with_its_size_and_seconds(service, http):
    answer = await stylize(http, service.url, ("style", "starry-night", None), SMALL)
    assert answer.status == 200, answer.body[:200]
    assert answer.headers["Content-Type"] == "image/png"
    image = answer.image()
    assert image.format == "PNG"
    assert image.size == (256, 170)
    assert (answer.headers["X-Stylebot-Width"], answer.headers["X-Stylebot-Height"]) == (
        "256", "170")
    assert float(answer.headers["X-Stylebot-Seconds"]) > 0
    assert answer.headers["X-Stylebot-Replica"] and answer.headers["X-Stylebot-Node"]


async def test_two_presets_with_weights_blend_in_order(service, http):
    two = [("style", "starry-night", None), ("style", "great-wave", None), SMALL]
    more_starry = await stylize(http, service.url, *two, ("weights", "3,1", None))
    more_wave = await stylize(http, service.url, *two, ("weights", "1,3", None))
    starry = await stylize(http, service.url, ("style", "starry-night", None), SMALL)
    assert more_starry.status == more_wave.status == starry.status == 200
    towards_starry = np.abs(pixels(more_starry) - pixels(starry)).mean()
    towards_wave = np.abs(pixels(more_wave) - pixels(starry)).mean()
    assert towards_starry < towards_wave


async def test_an_uploaded_style_image_paints_like_the_same_preset(service, mirror_dir, http):
    painting = (mirror_dir / "presets" / "great-wave.jpg").read_bytes()
    uploaded = await stylize(http, service.url, ("style_image", painting, "wave.jpg"), SMALL)
    by_name = await stylize(http, service.url, ("style", "great-wave", None), SMALL)
    other = await stylize(http, service.url, ("style", "starry-night", None), SMALL)
    assert uploaded.status == by_name.status == 200
    same = np.abs(pixels(uploaded) - pixels(by_name)).mean()
    assert same < 1.0  # the same bytes: the same vector (keyed by SHA-256), on either replica
    assert np.abs(pixels(other) - pixels(by_name)).mean() > 10 * max(same, 0.5)


async def test_a_preset_and_an_uploaded_style_blend(service, mirror_dir, http):
    painting = (mirror_dir / "presets" / "the-scream.jpg").read_bytes()
    answer = await stylize(
        http, service.url, ("style", "udnie", None), ("style_image", painting, "scream.jpg"),
        ("weights", "1,2", None), SMALL,
    )
    assert answer.status == 200 and answer.image().size == (256, 170)


async def test_strength_moves_between_photo_and_style(service, http):
    photo = np.asarray(
        decode_image(photo_bytes(), service.settings.image_limits()).resize((256, 170)),
        dtype=np.float32,
    )
    answers = [
        await stylize(http, service.url, ("style", "starry-night", None), SMALL,
                      ("strength", strength, None))
        for strength in ("0.2", "1")
    ]
    assert [a.status for a in answers] == [200, 200]
    weak, full = (np.abs(pixels(a) - photo).mean() for a in answers)
    assert weak < full


async def test_keep_colors_keeps_the_photos_colours(service, http):
    photo = decode_image(photo_bytes(), service.settings.image_limits()).resize((256, 170))
    mean = np.asarray(photo, dtype=np.float32).mean(axis=(0, 1))
    kept = await stylize(http, service.url, ("style", "starry-night", None), SMALL,
                         ("keep_colors", "true", None))
    painted = await stylize(http, service.url, ("style", "starry-night", None), SMALL)
    assert kept.status == painted.status == 200
    kept_shift = np.abs(pixels(kept).mean(axis=(0, 1)) - mean).sum()
    painted_shift = np.abs(pixels(painted).mean(axis=(0, 1)) - mean).sum()
    assert kept_shift < painted_shift


async def test_max_size_caps_the_long_side(service, http):
    answer = await stylize(http, service.url, ("style", "udnie", None), ("max_size", "100", None))
    assert answer.status == 200
    assert max(answer.image().size) == 100
    assert answer.headers["X-Stylebot-Width"] == "100"


@pytest.mark.parametrize(
    ("name", "media_type", "pillow"),
    [("png", "image/png", "PNG"), ("jpeg", "image/jpeg", "JPEG"), ("webp", "image/webp", "WEBP")],
)
async def test_each_format(service, http, name, media_type, pillow):
    answer = await stylize(
        http, service.url, ("style", "udnie", None), ("max_size", "128", None),
        ("format", name, None),
    )
    assert answer.status == 200
    assert answer.headers["Content-Type"] == media_type
    assert answer.image().format == pillow


def _not_an_image_sentence(service) -> str:
    with pytest.raises(ImageError) as caught:  # what `stylebot stylize` prints for this photo
        decode_image(b"hello, not a photo", service.settings.image_limits(), what="photo")
    return caught.value.message


BAD = {
    "unknown preset": (
        [("style", "starry-nite", None)],
        "There is no preset called “starry-nite”. Did you mean starry-night?",
    ),
    "strength too big": (
        [("style", "udnie", None), ("strength", "2", None)],
        "Strength must be between 0 and 1, not 2.0.",
    ),
    "strength not a number": (
        [("style", "udnie", None), ("strength", "lots", None)],
        "Strength must be a number between 0 and 1, not “lots”.",
    ),
    "weights for the wrong count": (
        [("style", "udnie", None), ("weights", "2,1", None)],
        "weights gives 2 weights for 1 styles.",
    ),
    "weights not numbers": (
        [("style", "udnie", None), ("style", "nantes", None), ("weights", "2,x", None)],
        "weights must be numbers separated by commas, not “2,x”.",
    ),
    "negative weight": (
        [("style", "udnie", None), ("style", "nantes", None), ("weights", "2,-1", None)],
        "weights must all be positive.",
    ),
    "format": (
        [("style", "udnie", None), ("format", "gif", None)],
        "format must be png, jpeg or webp, not “gif”.",
    ),
    "max_size zero": (
        [("style", "udnie", None), ("max_size", "0", None)],
        "max_size must be a whole number from 1 to 2048, not “0”.",
    ),
    "max_size too big": (
        [("style", "udnie", None), ("max_size", "4096", None)],
        "max_size must be a whole number from 1 to 2048, not “4096”.",
    ),
    "keep_colors not a flag": (
        [("style", "udnie", None), ("keep_colors", "maybe", None)],
        "keep_colors must be true or false, not “maybe”.",
    ),
    "no style": ([], "The form has no style: add a style (preset name) or a style_image file."),
    "too many styles": (
        [("style", name, None) for name in ("udnie", "nantes", "the-kiss", "the-scream", "udnie")],
        "I can blend at most 4 styles at once.",
    ),
    "unknown field": (
        [("style", "udnie", None), ("strenght", "1", None)],
        "Unknown form field “strenght”; the fields are content, style, style_image, weights, "
        "strength, keep_colors, max_size, format, max_bytes, progress. Did you mean strength?",
    ),
    "style image not an image": (
        [("style_image", b"not a painting", "mine.png")],
        "The style image mine.png is not a PNG, JPEG, GIF, WebP, BMP or TIFF image.",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_input_is_400_with_one_sentence(service, http, case):
    fields, sentence = BAD[case]
    answer = await stylize(http, service.url, *fields)
    assert answer.status == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.error == sentence


async def test_a_photo_that_is_not_an_image_gets_the_clis_sentence(service, http):
    answer = await post(http, service.url, ("content", b"hello, not a photo", "x.jpg"),
                        ("style", "udnie", None))
    assert (answer.status, answer.error) == (400, _not_an_image_sentence(service))


async def test_a_form_without_photo_or_not_a_form(service, http):
    answer = await post(http, service.url, ("style", "udnie", None))
    assert (answer.status, answer.error) == (
        400, "The form has no photo: send it as the content file.")
    async with http.post(f"{service.url}/v1/stylize", json={"content": "x"}) as response:
        assert response.status == 400
        error = (await response.json())["error"]
        assert error.startswith("Send the request as multipart/form-data")


async def test_a_photo_over_the_byte_limit_is_413(service, http):
    limit = service.settings.limits.max_input_bytes
    answer = await post(http, service.url, ("content", b"\xff" * (limit + 1), "huge.jpg"),
                        ("style", "udnie", None))
    assert (answer.status, answer.error) == (413, "The photo is larger than the limit of 2 MB.")


async def test_a_declared_length_over_the_limit_is_413_before_the_body_is_sent(service):
    host, port = service.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /v1/stylize HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)  # no body was sent
    assert head.startswith(b"HTTP/1.1 413")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    body = json.loads(await reader.readexactly(length))
    assert body["error"].startswith("The request is 953.7 MB, more than the limit of ")
    writer.close()


async def test_unknown_paths_and_methods_are_json_errors(service, http):
    async with http.get(f"{service.url}/v2/paint") as response:
        assert response.status == 404
        assert "POST /v1/stylize" in (await response.json())["error"]
    async with http.get(f"{service.url}/v1/stylize") as response:
        assert response.status == 405
        assert (await response.json())["error"] == "Use POST for /v1/stylize."


async def test_an_uploaded_style_is_cached_on_the_nodes_disk_by_its_sha256(service, mirror_dir,
                                                                           http):
    import hashlib
    import io

    from PIL import Image

    from bot.assets import PREDICTION_INT8

    with Image.open(mirror_dir / "presets" / "the-kiss.jpg") as painting:
        buffer = io.BytesIO()
        painting.convert("RGB").rotate(90, expand=True).save(buffer, "PNG")  # bytes nobody sent
    upload = buffer.getvalue()
    key = "sha256:" + hashlib.sha256(upload).hexdigest()
    cache = service.settings.paths.cache_dir / "vectors" / PREDICTION_INT8.sha256[:12]
    vector_file = cache / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".npy")
    assert not vector_file.exists()
    answer = await stylize(http, service.url, ("style_image", upload, "kiss.png"), SMALL)
    assert answer.status == 200
    assert vector_file.is_file()
