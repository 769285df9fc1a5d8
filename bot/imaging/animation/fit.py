"""Encode a painted clip to fit an upload limit: GIF if it fits, else MP4, else smaller MP4."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bot.errors import ImageError
from bot.imaging.animation.clip import PaintedClip
from bot.imaging.animation.encode import MP4_CRF, SUFFIX_OF, encode_animation
from bot.imaging.limits import describe_bytes

#: After GIF and MP4 at full size: MP4 at a higher CRF, then at these scales of the long side.
_SMALLER_CRF = 28
_SCALES = (0.75, 0.5, 0.35, 0.25, 0.15)


@dataclass(frozen=True)
class FittedAnimation:
    """Encoded bytes that fit, their format ("GIF", "MP4", "WEBP") and frame size."""

    data: bytes
    fmt: str
    size: tuple[int, int]

    @property
    def suffix(self) -> str:
        return SUFFIX_OF[self.fmt]


def encode_to_fit(
    clip: PaintedClip, max_bytes: int, *, prefer: str = "GIF",
    encoded: Mapping[str, bytes] | None = None,
) -> FittedAnimation:
    """The first encoding of `clip` under `max_bytes`: `prefer` (GIF), then MP4 (CRF 20, then
    28), then MP4 with frames scaled down step by step, so a result is never refused for size.
    `encoded` holds full-size encodings already made (format -> bytes, MP4 at CRF 20)."""
    ready = encoded or {}
    tried = [(prefer.upper(), clip, MP4_CRF)]
    if prefer.upper() != "MP4":
        tried.append(("MP4", clip, MP4_CRF))
    tried.append(("MP4", clip, _SMALLER_CRF))
    for fmt, candidate, crf in tried:
        data = ready.get(fmt) if crf == MP4_CRF else None
        if data is None:
            data = encode_animation(candidate, fmt, crf=crf)
        if len(data) <= max_bytes:
            return FittedAnimation(data, fmt, candidate.size)
    width, height = clip.size
    for scale in _SCALES:
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        smaller = scaled(clip, size)
        data = encode_animation(smaller, "MP4", crf=_SMALLER_CRF)
        if len(data) <= max_bytes:
            return FittedAnimation(data, "MP4", size)
    raise ImageError(
        f"The painted animation does not fit in {describe_bytes(max_bytes)} even made small."
    )


def scaled(clip: PaintedClip, size: tuple[int, int]) -> PaintedClip:
    """A copy of `clip` with every frame resized to `size` (timing and loop kept)."""
    frames = [
        np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))
        for pixels in clip.frames
    ]
    return PaintedClip(frames, list(clip.durations), clip.loop)
