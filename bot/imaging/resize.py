"""Resize, crop and pad images and arrays to the sizes a network wants."""

import math

import numpy as np
from PIL import Image

_LANCZOS = Image.Resampling.LANCZOS
# Pillow first shrinks by an integer factor while the result stays 3x the target, then
# resamples; the docs call the output indistinguishable from a full Lanczos pass, and it is faster.
_REDUCING_GAP = 3.0


def fit_long_side(img: Image.Image, max_side: int) -> Image.Image:
    """Shrink ``img`` so its longer side is at most ``max_side``, keeping the aspect ratio.

    Never enlarges (a small image comes back as a copy); each side stays at least 1 pixel.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}.")
    width, height = img.size
    long_side = max(width, height)
    if long_side <= max_side:
        return img.copy()
    scale = max_side / long_side
    size = (_scaled(width, scale, max_side), _scaled(height, scale, max_side))
    return img.resize(size, _LANCZOS, reducing_gap=_REDUCING_GAP)


def style_square(img: Image.Image, side: int = 256) -> Image.Image:
    """Return the centred square of ``img`` resized to ``side`` x ``side`` (may enlarge).

    Same as resizing so the short side is ``side`` and then centre-cropping, done in one
    resampling pass over just the square (cheaper and sharper).
    """
    if side < 1:
        raise ValueError(f"side must be positive, not {side}.")
    width, height = img.size
    short_side = min(width, height)
    left = (width - short_side) / 2
    top = (height - short_side) / 2
    box = (left, top, left + short_side, top + short_side)
    return img.resize((side, side), _LANCZOS, box=box)


def pad_to_multiple(arr: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad an HxWxC array at the bottom and right so H and W are multiples of ``multiple``.

    Padding mirrors the image (``reflect``) where the side is long enough, else repeats the
    edge. Returns the padded array (``arr`` itself if no padding is needed) and the original
    ``(h, w)`` for cropping the result back.
    """
    if multiple < 1:
        raise ValueError(f"multiple must be positive, not {multiple}.")
    if arr.ndim != 3:
        raise ValueError(f"expected an HxWxC array, got shape {arr.shape}.")
    height, width = arr.shape[:2]
    padded = arr
    for axis, length in ((0, height), (1, width)):
        extra = -length % multiple
        if extra == 0:
            continue
        widths = [(0, 0)] * arr.ndim
        widths[axis] = (0, extra)
        padded = np.pad(padded, widths, mode="reflect" if extra < length else "edge")
    return padded, (height, width)


def _scaled(length: int, scale: float, max_side: int) -> int:
    """Round half up (not to even), clamped to [1, max_side]."""
    return min(max_side, max(1, math.floor(length * scale + 0.5)))
