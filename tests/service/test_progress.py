"""The progress stream (progress=true) on the two-node cluster, read with aiohttp's
MultipartReader: progress parts counting the frames, then the painting (or the failure)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import aiohttp
import pytest
from PIL import Image

from tests.imaging.animation.clips import moving_frames, pillow_animation
from tests.service.http import form, photo_bytes

SIZE = (96, 64)
FRAMES = 6
PROGRESS = ("progress", "true", None)


@dataclass
class Streamed:
    """A streamed answer: its status and Content-Type, the progress parts, the final part."""

    status: int
    content_type: str
    progress: list[dict] = field(default_factory=list)
    final_headers: dict[str, str] = field(default_factory=dict)
    final_body: bytes = b""
    body: bytes = b""  # the whole body, when it is not a stream

    @property
    def final_json(self) -> dict:
        return json.loads(self.final_body)


async def post_streamed(http: aiohttp.ClientSession, url: str, *fields) -> Streamed:
    """POST the form; a multipart/mixed answer is split into its progress and final parts."""
    async with http.post(f"{url}/v1/stylize", data=form(*fields)) as response:
        answer = Streamed(response.status, response.headers["Content-Type"])
        if not answer.content_type.startswith("multipart/mixed"):
            answer.body = await response.read()
            return answer
        reader = aiohttp.MultipartReader.from_response(response)
        parts = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            parts.append((dict(part.headers), bytes(await part.read())))
    *progress, (answer.final_headers, answer.final_body) = parts
    for headers, body in progress:
        assert headers["Content-Type"] == "application/json"
        answer.progress.append(json.loads(body))
    return answer


@pytest.fixture(scope="module")
def gif() -> bytes:
    return pillow_animation(moving_frames(FRAMES, SIZE), "GIF", durations=40, loop=0)


async def test_an_animation_streams_a_part_per_frame_then_the_gif(service, http, gif):
    answer = await post_streamed(
        http, service.url, ("content", gif, "clip.gif"), ("style", "udnie", None), PROGRESS)
    assert answer.status == 200
    assert answer.content_type.startswith("multipart/mixed; boundary=")
    assert answer.progress == [{"frame": n, "frames": FRAMES} for n in range(1, FRAMES + 1)]
    headers = answer.final_headers
    assert headers["Content-Type"] == "image/gif"
    assert headers["Content-Disposition"] == 'inline; filename="stylized.gif"'
    assert headers["X-Stylebot-Frames"] == str(FRAMES)
    assert (headers["X-Stylebot-Width"], headers["X-Stylebot-Height"]) == ("96", "64")
    assert float(headers["X-Stylebot-Duration"]) == pytest.approx(0.24)
    assert headers["X-Stylebot-Replica"] and headers["X-Stylebot-Node"]
    with Image.open(io.BytesIO(answer.final_body)) as painted:
        assert (painted.format, painted.n_frames, painted.size) == ("GIF", FRAMES, SIZE)


async def test_a_still_streams_only_the_final_part(service, http):
    answer = await post_streamed(
        http, service.url, ("content", photo_bytes(), "chelsea.jpg"), ("style", "udnie", None),
        ("max_size", "128", None), PROGRESS)
    assert answer.status == 200 and answer.content_type.startswith("multipart/mixed")
    assert answer.progress == []
    assert answer.final_headers["Content-Type"] == "image/png"
    assert answer.final_headers["X-Stylebot-Width"] == "128"
    assert "X-Stylebot-Frames" not in answer.final_headers
    assert Image.open(io.BytesIO(answer.final_body)).size == (128, 85)


async def test_a_bad_preset_is_a_plain_400_even_with_progress(service, http, gif):
    answer = await post_streamed(
        http, service.url, ("content", gif, "clip.gif"), ("style", "starry-nite", None), PROGRESS)
    assert (answer.status, answer.content_type) == (400, "application/json")
    assert json.loads(answer.body) == {
        "error": "There is no preset called “starry-nite”. Did you mean starry-night?"}


async def test_a_photo_that_does_not_decode_is_a_plain_400_even_with_progress(service, http):
    answer = await post_streamed(
        http, service.url, ("content", b"hello, not a photo", "x.jpg"), ("style", "udnie", None),
        PROGRESS)
    assert (answer.status, answer.content_type) == (400, "application/json")
    assert json.loads(answer.body)["error"].startswith("The photo ")


async def test_progress_must_be_a_flag(service, http, gif):
    answer = await post_streamed(
        http, service.url, ("content", gif, "clip.gif"), ("style", "udnie", None),
        ("progress", "maybe", None))
    assert (answer.status, json.loads(answer.body)) == (
        400, {"error": "progress must be true or false, not “maybe”."})


async def test_progress_false_is_the_plain_answer(service, http, gif):
    answer = await post_streamed(
        http, service.url, ("content", gif, "clip.gif"), ("style", "udnie", None),
        ("progress", "false", None))
    assert (answer.status, answer.content_type) == (200, "image/gif")


async def test_a_clip_damaged_half_way_ends_the_stream_with_its_sentence_and_status(service,
                                                                                   http):
    """Twelve frames with the end cut off: the first frames decode (and are painted, with
    progress), then the damage is found while painting; the final part says so, as JSON."""
    cut = pillow_animation(moving_frames(12, SIZE), "GIF", durations=40, loop=0)[:-1500]
    answer = await post_streamed(
        http, service.url, ("content", cut, "cut.gif"), ("style", "udnie", None), PROGRESS)
    assert answer.status == 200
    assert 1 <= len(answer.progress) < 12
    assert [p["frame"] for p in answer.progress] == list(range(1, len(answer.progress) + 1))
    assert answer.final_headers["Content-Type"] == "application/json"
    assert answer.final_json == {"error": "The photo is damaged or incomplete.", "status": 400}
