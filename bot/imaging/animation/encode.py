"""Encode a painted clip as GIF (one shared palette), H.264 MP4 or animated WebP, in memory."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from bot.errors import ImageError
from bot.imaging.animation.clip import PaintedClip
from bot.imaging.encode import save_bytes_atomic

ANIMATION_FORMATS = ("GIF", "MP4", "WEBP")
ANIMATION_SUFFIXES = {".gif": "GIF", ".mp4": "MP4", ".webp": "WEBP"}
#: Suffix of each format's files.
SUFFIX_OF = {"GIF": ".gif", "MP4": ".mp4", "WEBP": ".webp"}
#: What an animation is written as when the output names no suffix: like the input.
DEFAULT_FORMAT_OF_KIND = {"GIF": "GIF", "APNG": "GIF", "WebP": "WEBP"}  # videos: MP4

#: Pixels sampled across all frames to build the GIF's one palette.
_PALETTE_SAMPLE = 1 << 18
#: Ordered-dither strength (in 0-255 levels, peak to peak). Ordered dithering maps a pixel to
#: the same colour in every frame where it is unchanged, so still areas do not crawl as they
#: do with error diffusion; 16 levels hides the banding of a 256-colour palette.
_DITHER_LEVELS = 16.0
_BAYER = np.array(
    [[0, 32, 8, 40, 2, 34, 10, 42], [48, 16, 56, 24, 50, 18, 58, 26],
     [12, 44, 4, 36, 14, 46, 6, 38], [60, 28, 52, 20, 62, 30, 54, 22],
     [3, 35, 11, 43, 1, 33, 9, 41], [51, 19, 59, 27, 49, 17, 57, 25],
     [15, 47, 7, 39, 13, 45, 5, 37], [63, 31, 55, 23, 61, 29, 53, 21]], dtype=np.float32,
)
_DITHER = ((_BAYER + 0.5) / 64.0 - 0.5) * _DITHER_LEVELS
#: GIF delays are in hundredths of a second; browsers show 0 or 1 as 100 ms, so 2 is the least.
_GIF_MIN_CENTISECONDS = 2
_WEBP_QUALITY = 80
#: libwebp's effort, 0-6: 2 takes half the time of 4 for files ~4 % larger.
_WEBP_METHOD = 2
#: libwebp's animation encoder by default tries every 3rd-5th frame also as a whole key frame
#: (kmin 3, kmax 5) and keeps the smaller: on a steadied clip, whose frames differ only where
#: something moved, that is 3x the encoding time for a file 4x larger (480x270, 72 frames:
#: 654 -> 157 KiB, PSNR 31.2 -> 31.1 dB). 0 turns key frames off: each frame is the rectangle
#: that changed. A looping clip of a few seconds needs no seek points.
_WEBP_KEY_FRAMES_EVERY = 0
_MP4_CRF = 20
_MP4_PRESET = "veryfast"


def format_for_suffix(suffix: str) -> str | None:
    """The animation format written for a file suffix (".gif", ".mp4", ".webp"), or None."""
    return ANIMATION_SUFFIXES.get(suffix.lower())


def encode_animation(clip: PaintedClip, fmt: str, *, crf: int = _MP4_CRF) -> bytes:
    """Encode `clip` as "GIF", "MP4" or "WEBP", keeping every frame's duration and the loop."""
    if not clip.frames:
        raise ValueError("a clip needs at least one frame")
    fmt = fmt.upper()
    if fmt == "GIF":
        return _gif(clip)
    if fmt == "WEBP":
        return _webp(clip)
    if fmt == "MP4":
        return _mp4(clip, crf)
    raise ValueError(f"fmt must be one of {', '.join(ANIMATION_FORMATS)}, not {fmt!r}.")


def rounded_durations(durations: Sequence[float], unit: float, least: int = 1) -> list[int]:
    """Durations in whole `unit`s, rounded on the running total so the clip's length is kept."""
    out, shown, total = [], 0, 0.0
    for duration in durations:
        total += duration
        ticks = max(least, round(total / unit) - shown)
        out.append(ticks)
        shown += ticks
    return out


def shared_palette(frames: Sequence[np.ndarray], colours: int = 256) -> Image.Image:
    """One palette for every frame (median cut over pixels sampled from all of them)."""
    per_frame = max(1, _PALETTE_SAMPLE // len(frames))
    samples = []
    for pixels in frames:
        flat = pixels.reshape(-1, 3)
        step = max(1, flat.shape[0] // per_frame)
        samples.append(flat[::step])
    sample = np.concatenate(samples)
    width = 512
    rows = -(-sample.shape[0] // width)
    padded = np.resize(sample, (rows * width, 3))  # repeats a few sampled pixels to fill
    image = Image.fromarray(padded.reshape(rows, width, 3))
    return image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def dither_pattern(height: int, width: int) -> np.ndarray:
    """The ordered-dither offsets for a frame of this size (HxWx1 int16).

    The offsets are whole levels, rounded down: a whole pixel plus a fractional offset,
    truncated to uint8, is the pixel plus the offset rounded down, so integer sums give the
    same bytes as float32 ones without converting every frame to float.
    """
    tiles = np.tile(np.floor(_DITHER).astype(np.int16), (-(-height // 8), -(-width // 8)))
    return np.ascontiguousarray(tiles[:height, :width, np.newaxis])


def to_palette(
    pixels: np.ndarray, palette: Image.Image, pattern: np.ndarray | None = None
) -> Image.Image:
    """Map an RGB frame to `palette` with ordered (Bayer) dithering."""
    if pattern is None:
        pattern = dither_pattern(*pixels.shape[:2])
    dithered = np.clip(pixels + pattern, 0, 255).astype(np.uint8)
    return Image.fromarray(dithered).quantize(palette=palette, dither=Image.Dither.NONE)


def _gif(clip: PaintedClip) -> bytes:
    palette = shared_palette(clip.frames)
    pattern = dither_pattern(*clip.frames[0].shape[:2])
    images = [to_palette(pixels, palette, pattern) for pixels in clip.frames]
    centiseconds = rounded_durations(clip.durations, 10.0, _GIF_MIN_CENTISECONDS)
    options: dict[str, object] = {"duration": [10 * c for c in centiseconds], "optimize": False}
    if clip.loop is not None:
        options["loop"] = clip.loop
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], **options)
    return buffer.getvalue()


def _webp(clip: PaintedClip) -> bytes:
    images = [Image.fromarray(pixels) for pixels in clip.frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer, "WEBP", save_all=True, append_images=images[1:],
        duration=rounded_durations(clip.durations, 1.0),
        loop=1 if clip.loop is None else clip.loop, quality=_WEBP_QUALITY, method=_WEBP_METHOD,
        kmax=_WEBP_KEY_FRAMES_EVERY,
    )
    return buffer.getvalue()


def frame_rate(durations: Sequence[float]) -> Fraction | None:
    """The clip's constant frame rate (e.g. 24, 30000/1001), or None if durations vary."""
    if max(durations) - min(durations) > 1.0:
        return None
    mean = sum(durations) / len(durations)
    return Fraction(1000.0 / mean).limit_denominator(1001)


def even_frame(pixels: np.ndarray) -> np.ndarray:
    """Pad an odd width or height by repeating the last column or row (H.264 4:2:0 needs even)."""
    height, width = pixels.shape[:2]
    extra = ((0, height % 2), (0, width % 2), (0, 0))
    return np.pad(pixels, extra, mode="edge") if height % 2 or width % 2 else pixels


def _mp4(clip: PaintedClip, crf: int) -> bytes:
    """H.264 (libx264), yuv420p, even sides, the moov atom first (faststart) for inline play.

    FFmpeg's faststart pass re-reads the file, so it is written to a temporary file first.
    """
    import av

    rate = frame_rate(clip.durations)
    width, height = clip.size
    width, height = width + width % 2, height + height % 2
    with tempfile.TemporaryDirectory(prefix="stylebot-") as folder:
        path = Path(folder) / "clip.mp4"
        try:
            with av.open(str(path), "w", format="mp4",
                         options={"movflags": "faststart"}) as container:
                average = Fraction(len(clip) * 1000 / sum(clip.durations)).limit_denominator(1001)
                stream = container.add_stream("libx264", rate=rate or average)
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.options = {"crf": str(crf), "preset": _MP4_PRESET}
                time_base = 1 / rate if rate else Fraction(1, 1000)
                stream.codec_context.time_base = time_base
                start = 0.0
                for index, (pixels, duration) in enumerate(
                    zip(clip.frames, clip.durations, strict=True)
                ):
                    frame = av.VideoFrame.from_ndarray(even_frame(pixels), format="rgb24")
                    frame.pts = index if rate else round(start)
                    frame.time_base = time_base
                    start += duration
                    container.mux(stream.encode(frame))
                container.mux(stream.encode(None))
            return path.read_bytes()
        except av.FFmpegError as exc:
            raise ImageError("The animation could not be encoded as MP4.") from exc


def save_animation_atomic(data: bytes, path: str | os.PathLike[str]) -> None:
    """Replace `path` with an encoded animation in one step (see save_bytes_atomic)."""
    save_bytes_atomic(data, path, what="animation")
