"""encode_animation: GIF with one palette, H.264 MP4 (yuv420p, even, faststart), animated WebP."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from bot.imaging import ImageLimits
from bot.imaging.animation import AnimationLimits, PaintedClip, encode_animation, open_animation
from bot.imaging.animation.clip import RoundedTimeline
from bot.imaging.animation.encode import clip_writer
from bot.imaging.animation.gif_writer import (
    _DITHER,
    dither_pattern,
    dithered,
    palette_of,
)
from tests.imaging.animation.clips import moving_frames


def clip(count: int = 8, size=(96, 64), durations=None, loop=0) -> PaintedClip:
    frames = moving_frames(count, size)
    return PaintedClip(frames, list(durations or [40.0] * count), loop)


def reopen(data: bytes):
    opened = open_animation(data, ImageLimits(), AnimationLimits(max_side=2048))
    assert opened is not None
    return opened, list(opened.frames())


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "MP4"])
def test_frames_durations_and_size_survive_a_round_trip(fmt):
    durations = [40.0, 60.0, 100.0, 40.0, 60.0, 100.0, 40.0, 60.0]
    source = clip(durations=durations, loop=0)
    opened, frames = reopen(encode_animation(source, fmt))
    assert opened.size == (96, 64)
    assert [round(f.duration) for f in frames] == [40, 60, 100, 40, 60, 100, 40, 60]
    error = np.mean([np.abs(f.pixels.astype(int) - s.astype(int)).mean()
                     for f, s in zip(frames, source.frames, strict=True)])
    assert error < 12  # lossy, but the same pictures


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
@pytest.mark.parametrize("loop", [0, 2, None])
def test_the_loop_count_is_kept(fmt, loop):
    opened, _ = reopen(encode_animation(clip(4, loop=loop), fmt))
    assert opened.loop == (1 if fmt == "WEBP" and loop is None else loop)


def test_a_gif_has_one_palette_for_every_frame():
    data = encode_animation(clip(8), "GIF")
    with Image.open(io.BytesIO(data)) as image:
        palettes = set()
        for index in range(image.n_frames):
            image.seek(index)
            palettes.add(bytes(image.palette.palette) if image.palette else None)
        assert image.n_frames == 8
    assert b"\x2c" in data
    # one global colour table and no local ones: each image descriptor's flags byte has bit 7 off
    assert len(palettes) <= 2 and data[10] & 0x80


def test_a_gif_keeps_still_areas_identical_between_frames():
    frames = moving_frames(6)
    data = encode_animation(PaintedClip(frames, [50.0] * 6, 0), "GIF")
    _, decoded = reopen(data)
    still = np.ones(frames[0].shape[:2], bool)
    still[10:40, :] = False
    for before, after in zip(decoded, decoded[1:], strict=False):
        assert np.array_equal(before.pixels[still], after.pixels[still])  # no crawling dither


def test_mp4_is_h264_yuv420p_with_even_sides_and_the_index_first():
    data = encode_animation(clip(6, size=(95, 63)), "MP4")
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: playable while it downloads
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (96, 64)
        assert not container.streams.audio


def test_mp4_keeps_a_constant_frame_rate():
    data = encode_animation(clip(12, durations=[1000 / 24] * 12), "MP4")
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.video[0].average_rate == 24


def rounded(durations: list[float], unit: float, least: int) -> list[int]:
    timeline = RoundedTimeline(unit, least)
    return [timeline.next(duration) for duration in durations]


def test_rounding_keeps_the_total_time():
    centiseconds = rounded([1000 / 24] * 24, 10.0, 2)
    assert sum(centiseconds) == 100 and set(centiseconds) == {4, 5}
    assert rounded([0.0, 0.0], 10.0, 2) == [2, 2]


def test_an_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        encode_animation(clip(2), "AVI")


def test_the_integer_dither_gives_the_bytes_of_the_float_one():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    pixels[0, :] = 0
    pixels[1, :] = 255  # both ends, where the sums are clipped
    fractional = np.tile(_DITHER, (5, 7))[:37, :53, np.newaxis]
    reference = np.clip(pixels.astype(np.float32) + fractional, 0, 255).astype(np.uint8)
    whole = np.clip(pixels + dither_pattern(37, 53), 0, 255).astype(np.uint8)
    assert np.array_equal(whole, reference)
    assert np.array_equal(np.asarray(dithered(pixels, dither_pattern(37, 53))), reference)


def test_the_palette_leaves_the_unchanged_index_free():
    frames = moving_frames(2, (96, 64))
    palette = palette_of(frames[:1])
    rng = np.random.default_rng(5)
    noise = Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))
    for picture in (Image.fromarray(frames[1]), noise, Image.new("RGB", (8, 8))):
        indices = np.asarray(picture.quantize(palette=palette, dither=Image.Dither.NONE))
        assert indices.max() < 255  # 255 means "as the frame before"


def test_a_gif_writes_only_what_changed_and_merges_repeated_frames():
    frames = moving_frames(6, (192, 128), step=4)
    frames.insert(3, frames[2])  # shown twice in a row: one frame, 80 ms
    data = encode_animation(PaintedClip(frames, [40.0] * 7, 0), "GIF")
    _, decoded = reopen(data)
    assert [round(f.duration) for f in decoded] == [40, 40, 80, 40, 40, 40]
    whole = encode_animation(PaintedClip(frames[:1], [40.0], 0), "GIF")
    # the square (32 px) moved 4 px: each later frame costs a fraction of the first
    assert len(data) < 2 * len(whole)
    for index, got in enumerate(decoded):
        source = frames[index if index < 3 else index + 1].astype(int)
        assert np.abs(got.pixels.astype(int) - source).mean() < 12


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "MP4"])
def test_a_writer_fed_frame_by_frame_gives_the_bytes_of_encoding_the_clip(fmt):
    source = clip(6, durations=[40.0, 60.0, 100.0, 40.0, 60.0, 100.0])
    writer = clip_writer(fmt, source.loop, palette_frames=len(source))
    for pixels, duration in zip(source.frames, source.durations, strict=True):
        writer.add(pixels, duration)
    streamed = writer.finish()
    writer.close()
    if fmt == "MP4":  # libx264's output is deterministic, but compare what it shows
        _, frames = reopen(streamed)
        assert len(frames) == 6
    else:
        assert streamed == encode_animation(source, fmt)


def test_an_abandoned_mp4_writer_leaves_no_temporary_files(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    writer = clip_writer("MP4", 0)
    writer.add(moving_frames(1)[0], 40.0)
    assert list(tmp_path.iterdir())
    writer.close()
    assert not list(tmp_path.iterdir())


def webp_frame_sizes(data: bytes) -> list[tuple[int, int]]:
    """Width and height of each ANMF frame of an animated WebP, read from its chunks."""
    sizes, offset = [], 12
    while offset + 8 <= len(data):
        name, length = data[offset:offset + 4], int.from_bytes(data[offset + 4:offset + 8],
                                                                "little")
        if name == b"ANMF":
            payload = data[offset + 8:offset + 20]
            width = int.from_bytes(payload[6:9], "little") + 1
            height = int.from_bytes(payload[9:12], "little") + 1
            sizes.append((width, height))
        offset += 8 + length + (length & 1)
    return sizes


def test_webp_frames_after_the_first_are_only_the_area_that_changed():
    source = PaintedClip(moving_frames(12, (192, 128), step=4), [40.0] * 12, 0)
    sizes = webp_frame_sizes(encode_animation(source, "WEBP"))
    assert len(sizes) == 12 and sizes[0] == (192, 128)
    # the square (32 px) moved 4 px: no frame is encoded whole again as a key frame
    assert all(width * height < 192 * 128 / 4 for width, height in sizes[1:])


def test_webp_frame_by_frame_gives_the_bytes_of_pillows_own_save():
    from bot.imaging.animation.video_writers import WEBP_METHOD, WEBP_QUALITY, _anim_encoder

    assert _anim_encoder((8, 8), 0) is not None  # this Pillow's encoder object is used
    source = clip(5, durations=[40.0, 60.0, 100.0, 40.0, 60.0], loop=2)
    images = [Image.fromarray(pixels) for pixels in source.frames]
    buffer = io.BytesIO()
    images[0].save(buffer, "WEBP", save_all=True, append_images=images[1:],
                   duration=[40, 60, 100, 40, 60], loop=2, quality=WEBP_QUALITY,
                   method=WEBP_METHOD, kmax=0)
    assert encode_animation(source, "WEBP") == buffer.getvalue()


def test_webp_without_pillows_encoder_object_falls_back_to_its_save(monkeypatch):
    import bot.imaging.animation.video_writers as writers

    source = clip(5, durations=[40.0, 60.0, 100.0, 40.0, 60.0], loop=0)
    streamed = encode_animation(source, "WEBP")
    monkeypatch.setattr(writers, "_anim_encoder", lambda size, loop: None)
    assert encode_animation(source, "WEBP") == streamed


def test_gif_frames_written_to_a_file_give_the_bytes_of_pillows_getdata(monkeypatch):
    import bot.imaging.animation.gif_writer as gif_writer

    assert gif_writer._WRITE_FRAME_DATA is not None  # this Pillow's frame writer is used
    source = clip(6, durations=[40.0, 60.0, 100.0, 40.0, 60.0, 100.0], loop=3)
    to_file = encode_animation(source, "GIF")
    monkeypatch.setattr(gif_writer, "_WRITE_FRAME_DATA", None)  # a Pillow without it
    assert encode_animation(source, "GIF") == to_file


def test_a_gif_writer_closes_its_file_when_finished_or_dropped():
    writer = clip_writer("GIF", 0)
    writer.add(moving_frames(1)[0], 40.0)
    writer.add(moving_frames(2)[1], 40.0)
    out = writer._out
    assert out is not None and not out.closed
    assert writer.finish().startswith(b"GIF89a")
    assert out.closed and writer._out is None
    dropped = clip_writer("GIF", 0)
    dropped.add(moving_frames(1)[0], 40.0)
    opened = dropped._out
    dropped.close()
    assert opened is not None and opened.closed


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (2, 300)])
def test_tiny_and_thin_clips_round_trip_as_gif(size):
    frames = [np.full((size[1], size[0], 3), level, np.uint8) for level in (0, 90, 250)]
    _, decoded = reopen(encode_animation(PaintedClip(frames, [40.0] * 3, 0), "GIF"))
    assert len(decoded) == 3
    for got, want in zip(decoded, frames, strict=True):
        assert got.pixels.shape == want.shape
        assert np.abs(got.pixels.astype(int) - want.astype(int)).max() <= 12
