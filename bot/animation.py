"""One animation job: frames streamed in, painted with one style vector, steadied, then encoded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bot.engine import Engine, WeightedStyle
from bot.imaging.animation import (
    Animation,
    FittedAnimation,
    PaintedClip,
    Steadier,
    encode_animation,
    encode_to_fit,
)
from bot.pipeline import StylizeOptions, frame_painter

#: progress(frames painted so far, frames expected in all)
Progress = Callable[[int, int], None]


@dataclass
class AnimationResult:
    """A painted animation, kept as frames so it can be encoded in any format or to fit."""

    clip: PaintedClip
    kind: str  # what came in: "GIF", "APNG", "WebP", "MP4", "MOV", "WebM", "Matroska"
    total: int | None  # frames in the source, when known
    note: str  # what was left out or changed ("" if nothing), e.g. "painted the first 120 ..."

    @property
    def frames(self) -> int:
        return len(self.clip)

    @property
    def seconds(self) -> float:
        return self.clip.seconds

    @property
    def size(self) -> tuple[int, int]:
        return self.clip.size

    def encode(self, fmt: str) -> bytes:
        """The animation as "GIF", "MP4" or "WEBP" bytes."""
        return encode_animation(self.clip, fmt)

    def encode_to_fit(self, max_bytes: int) -> FittedAnimation:
        """GIF if it fits in `max_bytes`, else MP4, else a smaller MP4: never refused for size."""
        return encode_to_fit(self.clip, max_bytes)


def paint_animation(
    engine: Engine,
    animation: Animation,
    styles: Sequence[WeightedStyle],
    options: StylizeOptions,
    *,
    progress: Progress | None = None,
    steady: bool = True,
) -> AnimationResult:
    """Paint every frame `animation` gives (already trimmed, paced and capped in size).

    The style vector is computed once and every frame has one size, so one compiled shape
    serves the whole clip. With `steady`, areas whose input did not change keep their painting
    (see Steadier). Frames are decoded one at a time; the painted ones are kept for encoding.
    Raises ImageError (one sentence) if the input turns out damaged part-way.
    """
    clip = PaintedClip(loop=animation.loop)
    steadier = Steadier() if steady else None
    paint: Callable[[Image.Image], Image.Image] | None = None
    expected = animation.expected_frames()
    for frame in animation.frames():
        image = Image.fromarray(frame.pixels)
        if paint is None:
            paint = frame_painter(engine, styles, options, image)
        painted = np.asarray(paint(image), dtype=np.uint8)
        if steadier is not None:
            painted = steadier(frame.pixels, painted)
        clip.append(painted, frame.duration)
        if progress is not None:
            expected = max(expected, len(clip))
            progress(len(clip), expected)
    if progress is not None and expected != len(clip):
        progress(len(clip), len(clip))
    return AnimationResult(clip, animation.kind, animation.total_frames, animation.note())
