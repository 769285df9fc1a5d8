"""Animated GIF, APNG and WebP frames from Pillow, composited, one at a time."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator

from PIL import Image

from bot.imaging.animation.clip import DEFAULT_FRAME_MS, NO_DURATION_MS
from bot.imaging.animation.timing import SourceFrame
from bot.imaging.modes import to_rgb
from bot.imaging.resize import fit_long_side

#: Pillow plug-ins that may hold an animation, and what people call the animated kinds.
ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")
KIND_NAMES = {"GIF": "GIF", "PNG": "APNG", "WEBP": "WebP"}


def open_animated(data: bytes) -> Image.Image | None:
    """The image opened (headers only) if it is an animated GIF, APNG or WebP, else None.

    Anything Pillow cannot open, or opens as a single frame, is None: the still-image path
    decodes it and words any problem.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)
            img = Image.open(io.BytesIO(data), formats=ANIMATED_FORMATS)
            animated = bool(getattr(img, "is_animated", False))
    except Exception:  # not ours to word: the still path refuses it with its own sentence
        return None
    if not animated:
        img.close()
        return None
    return img


def frame_count(img: Image.Image) -> int:
    """How many frames the file says it has (GIF: counted by skipping through the file)."""
    return int(getattr(img, "n_frames", 1))


def loop_count(img: Image.Image) -> int | None:
    """The loop count as Pillow reads it (0 = forever), or None for "play once"."""
    loop = img.info.get("loop")
    return int(loop) if loop is not None else None


def pillow_frames(
    img: Image.Image, size: tuple[int, int], defaulted: list[int]
) -> Iterator[SourceFrame]:
    """Each frame of `img` in turn with its duration; pixels come RGB at `size` when loaded.

    A duration of 0 or 10 ms becomes DEFAULT_FRAME_MS (as browsers show such GIFs), and each
    defaulted frame is counted in `defaulted[0]`. Pillow raises on a damaged frame.
    """
    for index in range(frame_count(img)):
        try:
            img.seek(index)
        except EOFError:
            return  # fewer frames than the header said: the file ends here
        img.load()
        duration = float(img.info.get("duration") or 0.0)
        if duration <= NO_DURATION_MS:
            duration = DEFAULT_FRAME_MS
            defaulted[0] += 1
        yield SourceFrame(duration, _loader(img, size))


def _loader(img: Image.Image, size: tuple[int, int]) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        rgb = to_rgb(img)
        if rgb.size != size:
            rgb = fit_long_side(rgb, max(size))
            if rgb.size != size:  # rounding: make every frame exactly the clip's size
                rgb = rgb.resize(size, Image.Resampling.LANCZOS)
        rgb.load()
        return rgb.copy() if rgb is img else rgb  # the file's image changes at the next seek

    return load
