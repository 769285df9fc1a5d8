"""Animations through the API on the two-node cluster: GIF and video in, the animation out."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest
from PIL import Image

from tests.imaging.animation.clips import (
    audio_only,
    long_gif,
    moving_frames,
    pillow_animation,
    video,
)
from tests.service.http import post

SIZE = (96, 64)
UDNIE = ("style", "udnie", None)


def clip(name: str, data: bytes) -> tuple[str, bytes, str]:
    return ("content", data, name)


def gif_frames(data: bytes) -> tuple[list[np.ndarray], list[int]]:
    """A GIF's frames (RGB) and their durations in ms."""
    frames, durations = [], []
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "GIF"
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB"), dtype=np.float32))
            durations.append(image.info["duration"])
    return frames, durations


def video_facts(data: bytes) -> tuple[int, float, tuple[int, int]]:
    """An MP4's frame count, frame rate and size, decoded with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, float(stream.average_rate), (stream.width, stream.height)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return moving_frames(6, SIZE)


async def test_a_gif_comes_back_an_animated_gif_with_its_frames_and_timing(service, http, frames):
    durations = [40, 80, 120, 40, 80, 120]
    source = pillow_animation(frames, "GIF", durations=durations, loop=0)
    answer = await post(http, service.url, clip("clip.gif", source), UDNIE)
    assert answer.status == 200, answer.body[:200]
    assert answer.headers["Content-Type"] == "image/gif"
    assert answer.headers["X-Stylebot-Frames"] == "6"
    assert (answer.headers["X-Stylebot-Width"], answer.headers["X-Stylebot-Height"]) == (
        "96", "64")
    assert float(answer.headers["X-Stylebot-Duration"]) == pytest.approx(0.48)
    assert "X-Stylebot-Note" not in answer.headers
    painted, kept = gif_frames(answer.body)
    assert kept == durations
    original, _ = gif_frames(source)
    # painted, not copied: every frame far from its input; and the square still moves
    assert all(np.abs(p - o).mean() > 15 for p, o in zip(painted, original, strict=True))
    assert np.abs(painted[0] - painted[-1]).mean() > 1


async def test_a_video_comes_back_an_mp4_or_a_gif_when_asked(service, http, frames):
    source = video(frames, "mp4", fps=20)
    as_video = await post(http, service.url, clip("clip.mp4", source), UDNIE)
    assert as_video.status == 200, as_video.body[:200]
    assert as_video.headers["Content-Type"] == "video/mp4"
    assert 'filename="stylized.mp4"' in as_video.headers["Content-Disposition"]
    assert video_facts(as_video.body) == (6, 20.0, SIZE)
    as_gif = await post(http, service.url, clip("clip.mp4", source), UDNIE,
                        ("format", "gif", None))
    assert as_gif.status == 200, as_gif.body[:200]
    assert as_gif.headers["Content-Type"] == "image/gif"
    _, durations = gif_frames(as_gif.body)
    assert durations == [50] * 6


async def test_max_bytes_encodes_to_fit_gif_first_then_mp4(service, http, frames):
    source = pillow_animation(frames, "GIF", durations=60, loop=0)
    roomy = await post(http, service.url, clip("clip.gif", source), UDNIE,
                       ("max_bytes", str(8 * 1024 * 1024), None))
    tight = await post(http, service.url, clip("clip.gif", source), UDNIE,
                       ("max_bytes", str(len(roomy.body) - 1), None))
    assert (roomy.status, tight.status) == (200, 200)
    assert roomy.headers["Content-Type"] == "image/gif"
    assert tight.headers["Content-Type"] == "video/mp4"
    assert len(tight.body) < len(roomy.body)
    assert video_facts(tight.body)[0] == 6


async def test_a_clip_over_the_limits_is_trimmed_and_the_answer_says_so(service, http):
    frames = service.settings.limits.max_frames
    source = long_gif(frames + 10, size=(16, 12), duration=40)
    answer = await post(http, service.url, clip("long.gif", source), UDNIE)
    assert answer.status == 200, answer.body[:200]
    assert answer.headers["X-Stylebot-Frames"] == str(frames)
    assert answer.headers["X-Stylebot-Note"] == (
        f"painted the first {frames} frames of {frames + 10}")
    assert len(gif_frames(answer.body)[0]) == frames


async def test_the_seconds_limit_trims_too(service, http, frames):
    limit = service.settings.limits.max_animation_seconds
    source = pillow_animation(frames[:3], "GIF", durations=int(limit * 500), loop=0)
    answer = await post(http, service.url, clip("slow.gif", source), UDNIE)
    assert answer.status == 200, answer.body[:200]
    assert answer.headers["X-Stylebot-Frames"] == "2"
    assert answer.headers["X-Stylebot-Note"] == f"painted the first {limit:.1f} s"


async def test_png_still_gives_a_gifs_first_frame_as_before(service, http, frames):
    source = pillow_animation(frames, "GIF", durations=60, loop=0)
    answer = await post(http, service.url, clip("clip.gif", source), UDNIE,
                        ("format", "png", None))
    assert answer.status == 200, answer.body[:200]
    assert answer.headers["Content-Type"] == "image/png"
    assert "X-Stylebot-Frames" not in answer.headers
    assert answer.image().size == SIZE


@pytest.mark.parametrize(("name", "content", "fields", "status", "sentence"), [
    ("cut.gif", lambda f: pillow_animation(f, "GIF")[:-200], [],
     400, "The photo is damaged or incomplete."),
    ("cut.mp4", lambda f: video(f, "mp4", faststart=True)[:1500], [],
     400, "The video is damaged or incomplete."),
    ("sound.mp4", lambda f: audio_only(), [],
     400, "The video has no picture to paint (only sound)."),
    ("screen.gif", lambda f: _screen(pillow_animation(f, "GIF"), 30_000), [],
     413, "The photo has too many pixels to process safely."),
    ("clip.mp4", lambda f: video(f, "mp4"), [("format", "png", None)],
     400, "A video is painted as gif, mp4 or webp, not png."),
    ("photo.png", lambda f: _png(f[0]), [("format", "mp4", None)],
     400, "format must be png, jpeg or webp, not “mp4”."),
    ("clip.gif", lambda f: pillow_animation(f, "GIF"), [("format", "avi", None)],
     400, "format must be png, jpeg or webp (gif, mp4 or webp for an animation), not “avi”."),
    ("clip.gif", lambda f: pillow_animation(f, "GIF"),
     [("format", "gif", None), ("max_bytes", "100000", None)],
     400, "Send either format or max_bytes: max_bytes picks the format that fits."),
], ids=["cut-gif", "cut-mp4", "sound-only", "huge-screen", "video-as-png", "still-as-mp4",
        "unknown-format", "both"])
async def test_bad_animations_get_the_clis_sentence(service, http, frames, name, content, fields,
                                                    status, sentence):
    answer = await post(http, service.url, clip(name, content(frames)), UDNIE, *fields)
    assert (answer.status, answer.headers["Content-Type"]) == (status, "application/json")
    assert answer.error == sentence


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _screen(gif: bytes, side: int) -> bytes:
    """The GIF with a logical screen claiming side x side."""
    return gif[:6] + struct.pack("<HH", side, side) + gif[10:]
