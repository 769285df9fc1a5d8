"""open_animation: kinds told by content, size, timing, loop, trimming, frame-rate cap, refusals."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from bot.errors import ImageError, ImageTooLarge
from bot.imaging import ImageLimits, decode_image
from bot.imaging.animation import AnimationLimits, open_animation
from tests.imaging.animation.clips import (
    audio_only,
    long_gif,
    moving_frames,
    pillow_animation,
    video,
)

LIMITS = ImageLimits()
ANIMATION = AnimationLimits()


def read(data: bytes, animation: AnimationLimits = ANIMATION, max_side: int | None = None):
    clip = open_animation(data, LIMITS, animation, max_side=max_side)
    assert clip is not None
    frames = list(clip.frames())
    return clip, frames


@pytest.mark.parametrize(("fmt", "kind"), [("GIF", "GIF"), ("PNG", "APNG"), ("WEBP", "WebP")])
def test_animated_images_keep_frames_durations_and_loop(fmt, kind):
    frames = moving_frames(10)
    data = pillow_animation(frames, fmt, durations=[50, 60, 70, 80, 90] * 2, loop=3)
    clip, got = read(data)
    assert (clip.kind, clip.size, clip.total_frames, clip.loop) == (kind, (96, 64), 10, 3)
    assert [round(f.duration) for f in got] == [50, 60, 70, 80, 90] * 2
    assert all(f.pixels.shape == (64, 96, 3) and f.pixels.dtype == np.uint8 for f in got)
    # the frames are the input's, in order: the red square moves right
    reds = [np.argmax((f.pixels[30, :, 0] > 180) & (f.pixels[30, :, 1] < 90)) for f in got]
    assert reds == sorted(reds) and reds[0] < reds[-1]
    assert clip.note() == ""


def test_a_gif_that_plays_once_has_no_loop():
    clip, _ = read(pillow_animation(moving_frames(4), "GIF", loop=None))
    assert clip.loop is None


@pytest.mark.parametrize("kind", ["mp4", "mov", "webm"])
def test_videos_keep_their_frame_rate(kind):
    clip, got = read(video(moving_frames(12), kind, fps=24))
    assert clip.kind == {"mp4": "MP4", "mov": "MOV", "webm": "WebM"}[kind]
    assert len(got) == 12 and clip.loop == 0
    assert sum(f.duration for f in got) == pytest.approx(500, abs=2)
    assert all(f.duration == pytest.approx(1000 / 24, abs=1) for f in got)


def test_still_images_and_other_bytes_are_not_animations(tmp_path):
    still_gif = pillow_animation(moving_frames(1), "GIF")
    for data in (still_gif, b"", b"hello", b"\x89PNG\r\n\x1a\n" + b"\0" * 40):
        assert open_animation(data, LIMITS, ANIMATION) is None


def test_the_kind_comes_from_the_bytes_not_a_name(tmp_path):
    # A path never reaches open_animation: an MP4 called cat.gif is opened as MP4.
    clip, frames = read(video(moving_frames(6), "mp4"))
    assert clip.kind == "MP4" and len(frames) == 6


def test_the_long_side_is_capped_keeping_the_aspect_ratio():
    clip, got = read(video(moving_frames(4, (333, 517)), "webm"), max_side=1024)
    assert clip.size == (330, 512)  # limits.max_animation_side wins over a larger max_side
    assert got[0].pixels.shape == (512, 330, 3)
    clip, _ = read(pillow_animation(moving_frames(4, (96, 64)), "GIF"), max_side=48)
    assert clip.size == (48, 32)


def test_a_long_clip_is_trimmed_to_max_frames_and_says_so():
    data = pillow_animation(moving_frames(30, (32, 24)), "GIF", durations=50)
    clip, got = read(data, AnimationLimits(max_frames=12))
    assert len(got) == 12
    assert clip.note() == "painted the first 12 frames of 30"
    assert clip.pacing.decoded == 13  # streamed: nothing past the 13th frame was read


def test_a_long_clip_is_trimmed_to_max_seconds():
    data = pillow_animation(moving_frames(40, (32, 24)), "GIF", durations=100)
    clip, got = read(data, AnimationLimits(max_seconds=1.5))
    assert len(got) == 15 and sum(f.duration for f in got) == pytest.approx(1500)
    assert clip.note() == "painted the first 1.5 s"


def test_a_60_fps_video_is_reduced_to_30_keeping_its_length():
    clip, got = read(video(moving_frames(30, (64, 48)), "mp4", fps=60))
    assert len(got) == 15
    assert sum(f.duration for f in got) == pytest.approx(500, abs=1)
    assert all(f.duration == pytest.approx(1000 / 30, abs=0.5) for f in got)
    assert clip.note() == "60 fps reduced to 30"


def test_a_fast_gif_drops_frames_evenly_keeping_its_length():
    clip, got = read(pillow_animation(moving_frames(20, (32, 24)), "GIF", durations=20))
    assert sum(f.duration for f in got) == pytest.approx(400)
    assert 10 <= len(got) <= 12  # at most 30 fps over 0.4 s
    assert max(f.duration for f in got) <= 40


def test_zero_durations_are_shown_for_100_ms():
    data = pillow_animation(moving_frames(5, (32, 24)), "GIF", durations=0)
    clip, got = read(data)
    assert [f.duration for f in got] == [100.0] * 5
    assert clip.note() == "5 frames without a duration shown for 0.1 s"


def test_ten_thousand_frames_are_streamed_not_held():
    clip, got = read(long_gif(10_000))
    assert clip.total_frames == 10_000
    assert len(got) == 120 and clip.pacing.decoded == 121
    assert clip.note() == "painted the first 120 frames of 10000"


def test_a_huge_logical_screen_is_refused_before_decoding():
    data = bytearray(pillow_animation(moving_frames(3, (16, 12)), "GIF"))
    data[6:10] = struct.pack("<HH", 30_000, 30_000)  # 900 MP: Pillow's own bomb check
    assert open_animation(bytes(data), LIMITS, ANIMATION) is None  # the still path refuses it
    with pytest.raises(ImageTooLarge, match=r"^The photo has too many pixels to process"):
        decode_image(bytes(data), LIMITS, what="photo")
    data[6:10] = struct.pack("<HH", 8_000, 6_000)  # 48 MP: over our 40, under Pillow's bomb
    with pytest.raises(ImageTooLarge, match=r"^The photo is 8000×6000 pixels, more than the "
                       r"limit of 40 megapixels\.$"):
        open_animation(bytes(data), LIMITS, ANIMATION)


def test_a_truncated_gif_is_damaged():
    data = pillow_animation(moving_frames(12), "GIF")
    for cut in (len(data) // 3, len(data) * 2 // 3, len(data) - 30):
        with pytest.raises(ImageError, match=r"^The photo is damaged or incomplete\.$"):
            clip = open_animation(data[:cut], LIMITS, ANIMATION)  # refused here or while read
            assert clip is not None
            list(clip.frames())


@pytest.mark.parametrize("faststart", [False, True])
def test_an_mp4_cut_in_half_is_damaged(faststart):
    data = video(moving_frames(24, (64, 48)), "mp4", faststart=faststart)
    with pytest.raises(ImageError, match=r"^The video is damaged or incomplete\.$"):
        clip = open_animation(data[: len(data) // 2], LIMITS, ANIMATION)
        assert clip is not None
        list(clip.frames())


def test_a_video_with_only_sound_is_refused():
    with pytest.raises(ImageError, match=r"^The video has no picture to paint \(only sound\)\.$"):
        open_animation(audio_only(), LIMITS, ANIMATION)


def test_an_odd_sized_webm_is_read_at_its_size():
    clip, got = read(video(moving_frames(6, (333, 517)), "webm"), max_side=2048,
                     animation=AnimationLimits(max_side=1024))
    assert clip.size == (333, 517) and got[0].pixels.shape == (517, 333, 3)


def test_expected_frames_estimates_the_painted_count():
    clip = open_animation(video(moving_frames(30, (32, 24)), "mp4", fps=60), LIMITS, ANIMATION)
    assert clip is not None and clip.expected_frames() == 15
    clip.close()


@pytest.mark.parametrize(("rotation", "corner"), [(90, "bottom-left"), (-90, "top-right")])
def test_a_phone_clip_is_turned_upright(rotation, corner):
    # the square starts at the left edge, a third of the way down a 96x64 frame
    clip, got = read(video(moving_frames(3, (96, 64), step=0), "mp4", rotation=rotation))
    assert clip.size == (64, 96) and got[0].pixels.shape == (96, 64, 3)
    red = (got[0].pixels[..., 0] > 180) & (got[0].pixels[..., 1] < 90)
    rows, cols = np.nonzero(red)
    if corner == "bottom-left":  # turned a quarter counterclockwise
        assert rows.min() >= 64 and cols.max() < 48
    else:  # a quarter clockwise
        assert rows.max() < 32 and cols.min() >= 16
