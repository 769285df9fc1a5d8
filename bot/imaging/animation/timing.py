"""Frame timing: missing durations defaulted, frame rate capped by dropping frames, clip trimmed."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from PIL import Image

from bot.imaging.animation.clip import AnimationLimits, Frame

_EPSILON_MS = 1e-6


@dataclass(frozen=True)
class SourceFrame:
    """A decoded frame not yet converted: its duration (ms) and how to get it as RGB at the
    clip's size (an image of its own, which later frames do not change)."""

    duration: float
    load: Callable[[], Image.Image]


@dataclass
class Pacing:
    """What pacing did to a clip, filled in as its frames are read."""

    decoded: int = 0  # source frames read
    kept: int = 0  # frames handed on (to be painted)
    source_ms: float = 0.0  # time covered by the frames read
    kept_ms: float = 0.0  # time covered by the frames handed on
    trimmed: str | None = None  # "frames" or "seconds" when the clip was cut short
    defaulted: int = 0  # frames whose missing duration was defaulted

    @property
    def dropped(self) -> int:
        """Source frames left out to cap the frame rate (not counting the trimmed tail)."""
        return self.decoded - self.kept - (1 if self.trimmed == "frames" else 0)


def paced(
    frames: Iterable[SourceFrame], limits: AnimationLimits, pacing: Pacing
) -> Iterator[Frame]:
    """Hand on at most `limits.max_frames` frames covering at most `limits.max_seconds`.

    Frames closer together than 1/max_fps are dropped evenly: a frame is kept when it starts on
    or after the next slot of a 1/max_fps grid, and each kept frame lasts until the next kept
    one starts, so the clip's total time is unchanged. Only kept frames are loaded.
    """
    interval = 1000.0 / limits.max_fps
    max_ms = limits.max_seconds * 1000.0
    pending: tuple[Image.Image, float] | None = None
    next_slot = 0.0
    start = 0.0  # when the current source frame starts
    for source in frames:
        if start >= max_ms - _EPSILON_MS:
            pacing.trimmed = "seconds"
            break
        pacing.decoded += 1
        if start >= next_slot - _EPSILON_MS:
            if pending is not None:
                if pacing.kept == limits.max_frames:
                    pacing.trimmed = "frames"
                    break
                yield _finish(pending, start, pacing)
            pending = (source.load(), start)
            pacing.kept += 1
            next_slot = (math.floor((start + _EPSILON_MS) / interval) + 1) * interval
        start += source.duration
        pacing.source_ms = start
    if pending is not None:
        yield _finish(pending, min(start, max_ms), pacing)


def _finish(pending: tuple[Image.Image, float], end: float, pacing: Pacing) -> Frame:
    picture, begin = pending
    pacing.kept_ms = end
    return Frame(picture, end - begin)
