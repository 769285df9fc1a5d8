"""Temporal stability: the flicker of a painted clip, and holding still what did not move."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFilter


def flicker(frames: Sequence[np.ndarray], still: np.ndarray) -> float:
    """Mean absolute difference (0-255) between consecutive frames, inside the `still` mask.

    On a clip whose background does not move, the input's own figure is the floor (compression
    noise); painting each frame independently adds the network's frame-to-frame wobble.
    """
    if len(frames) < 2:
        return 0.0
    total, count = 0.0, 0
    for before, after in zip(frames, frames[1:], strict=False):
        change = np.abs(after.astype(np.int16) - before.astype(np.int16))
        total += float(change[still].sum())
        count += int(still.sum()) * change.shape[2]
    return total / max(count, 1)


class Steadier:
    """Keeps the painting of unchanged areas from one frame to the next.

    The transfer network normalises over the whole frame, so a change anywhere (a moving hand)
    shifts the brushwork everywhere a little, and the still background shimmers. For each pixel
    this remembers the input it was last painted from; where the new input differs from that by
    less than `low` levels (0-255) the previous painted pixel is kept, above `high` the new
    painting is taken, with a soft blend between and around moving areas (the change mask is
    grown by `grow` pixels and smoothed) so they stay sharp without seams. Slow drifts (a fade)
    still come through: once a pixel's input has moved `high` levels from the one it was painted
    from, it is repainted.
    """

    def __init__(self, low: float = 6.0, high: float = 24.0, grow: int = 5) -> None:
        self.low, self.high, self.grow = low, high, grow | 1
        self._source: np.ndarray | None = None  # per pixel: the input it was painted from
        self._shown: np.ndarray | None = None  # the previous output frame

    def __call__(self, source: np.ndarray, painted: np.ndarray) -> np.ndarray:
        """Return the frame to show for `painted`, the painting of input frame `source`."""
        current = source.astype(np.float32)
        fresh = painted.astype(np.float32)
        if self._source is None or self._shown is None or self._source.shape != current.shape:
            self._source, self._shown = current, fresh
            return painted
        change = np.abs(current - self._source).max(axis=2)
        weight = np.clip((change - self.low) / (self.high - self.low), 0.0, 1.0)
        weight = self._spread(weight)[..., np.newaxis]
        self._shown = weight * fresh + (1.0 - weight) * self._shown
        self._source = weight * current + (1.0 - weight) * self._source
        return np.clip(np.rint(self._shown), 0, 255).astype(np.uint8)

    def _spread(self, weight: np.ndarray) -> np.ndarray:
        """Grow the changed areas by `grow` pixels and soften their edges (outwards only)."""
        mask = Image.fromarray(np.rint(weight * 255).astype(np.uint8))
        mask = mask.filter(ImageFilter.MaxFilter(self.grow))
        mask = mask.filter(ImageFilter.BoxBlur(self.grow // 2 + 1))
        return np.maximum(weight, np.asarray(mask, dtype=np.float32) / 255.0)
