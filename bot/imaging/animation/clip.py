"""What an animation is made of: frames with durations, the limits on a clip, a painted clip."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image

#: A frame whose duration is 0 or 10 ms is shown for this long, as browsers do with GIFs.
DEFAULT_FRAME_MS = 100.0
#: Durations at or under this count as "none given" (GIF's 0 and 1 centisecond).
NO_DURATION_MS = 10.0
#: Frame rates above this are reduced by dropping frames evenly.
MAX_FPS = 30.0


@dataclass(frozen=True)
class AnimationLimits:
    """How much of an animation is painted: frames, long side, seconds and frame rate."""

    max_frames: int = 120
    max_side: int = 512
    max_seconds: float = 10.0
    max_fps: float = MAX_FPS

    def __post_init__(self) -> None:
        if self.max_frames < 1 or self.max_side < 1:
            raise ValueError("max_frames and max_side must be positive.")
        if not self.max_seconds > 0 or not self.max_fps > 0:
            raise ValueError("max_seconds and max_fps must be positive.")


@dataclass(frozen=True)
class Frame:
    """One frame: an RGB image, as the decoder made it, and how long it is shown (ms).

    The engine and the steadier take the image itself; `pixels` (HxWx3 uint8, read-only) is
    made only when asked for.
    """

    picture: Image.Image
    duration: float

    @cached_property
    def pixels(self) -> np.ndarray:
        return np.asarray(self.picture, dtype=np.uint8)


@dataclass
class PaintedClip:
    """Painted frames (all of one size) with their durations and the loop count.

    `loop` follows Pillow: 0 repeats forever, N > 0 is the count the source gave, None plays once.
    """

    frames: list[np.ndarray] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    loop: int | None = 0

    def append(self, pixels: np.ndarray, duration: float) -> None:
        if self.frames and pixels.shape != self.frames[0].shape:
            raise ValueError(f"frame of shape {pixels.shape}, not {self.frames[0].shape}")
        self.frames.append(pixels)
        self.durations.append(duration)

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of every frame."""
        height, width = self.frames[0].shape[:2]
        return width, height

    @property
    def seconds(self) -> float:
        return sum(self.durations) / 1000.0

    def __len__(self) -> int:
        return len(self.frames)


class RoundedTimeline:
    """Frame durations in whole `unit`s (ms), rounded on the running total, so that a clip
    of 24 fps written in hundredths of a second (4, 4, 5, 4, 4, 5, ...) keeps its length."""

    def __init__(self, unit: float, least: int = 1) -> None:
        self.unit, self.least = unit, least
        self.total = 0.0  # milliseconds given so far
        self.shown = 0  # units handed out so far

    def next(self, duration: float) -> int:
        """The next frame's duration, `duration` ms, in units (at least `least`)."""
        self.total += duration
        ticks = max(self.least, round(self.total / self.unit) - self.shown)
        self.shown += ticks
        return ticks

