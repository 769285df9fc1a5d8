"""Encode a painted clip as GIF, H.264 MP4 or animated WebP, whole or one frame at a time."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from bot.imaging.animation.clip import PaintedClip
from bot.imaging.animation.gif_writer import GifWriter
from bot.imaging.animation.video_writers import MP4_CRF, Mp4Writer, WebpWriter
from bot.imaging.encode import save_bytes_atomic

ANIMATION_FORMATS = ("GIF", "MP4", "WEBP")
ANIMATION_SUFFIXES = {".gif": "GIF", ".mp4": "MP4", ".webp": "WEBP"}
#: Suffix of each format's files.
SUFFIX_OF = {"GIF": ".gif", "MP4": ".mp4", "WEBP": ".webp"}
#: What an animation is written as when the output names no suffix: like the input.
DEFAULT_FORMAT_OF_KIND = {"GIF": "GIF", "APNG": "GIF", "WebP": "WEBP"}  # videos: MP4

__all__ = ["MP4_CRF", "ClipWriter", "clip_writer", "encode_animation"]


class ClipWriter(Protocol):
    """An encoder fed one painted frame at a time, so a clip can be encoded while painted."""

    def add(self, pixels: np.ndarray, duration: float) -> None:
        """Encode one HxWx3 uint8 frame shown for `duration` milliseconds."""
        ...

    def finish(self) -> bytes:
        """The whole file, once every frame has been added."""
        ...

    def close(self) -> None:
        """Release what an unfinished encoding holds (idempotent)."""
        ...


def format_for_suffix(suffix: str) -> str | None:
    """The animation format written for a file suffix (".gif", ".mp4", ".webp"), or None."""
    return ANIMATION_SUFFIXES.get(suffix.lower())


def clip_writer(
    fmt: str, loop: int | None, *, crf: int = MP4_CRF, palette_frames: int = 1
) -> ClipWriter:
    """A writer for "GIF", "MP4" or "WEBP", keeping every frame's duration and the loop; a
    GIF's palette is made from its first `palette_frames` frames."""
    fmt = fmt.upper()
    if fmt == "GIF":
        return GifWriter(loop, palette_frames)
    if fmt == "WEBP":
        return WebpWriter(loop)
    if fmt == "MP4":
        return Mp4Writer(crf)
    raise ValueError(f"fmt must be one of {', '.join(ANIMATION_FORMATS)}, not {fmt!r}.")


def encode_animation(clip: PaintedClip, fmt: str, *, crf: int = MP4_CRF) -> bytes:
    """Encode `clip` as "GIF", "MP4" or "WEBP", keeping every frame's duration and the loop."""
    if not clip.frames:
        raise ValueError("a clip needs at least one frame")
    writer = clip_writer(fmt, clip.loop, crf=crf, palette_frames=len(clip))
    try:
        for pixels, duration in zip(clip.frames, clip.durations, strict=True):
            writer.add(pixels, duration)
        return writer.finish()
    finally:
        writer.close()


def save_animation_atomic(data: bytes, path: str | os.PathLike[str]) -> None:
    """Replace `path` with an encoded animation in one step (see save_bytes_atomic)."""
    save_bytes_atomic(data, path, what="animation")
