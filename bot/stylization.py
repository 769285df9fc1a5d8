"""One stylization: styles from bytes or files, content capped, painted, colours optionally kept."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.engine import Engine, WeightedStyle
from bot.engine.base import VectorEngine
from bot.imaging import ImageLimits, decode_image, fit_long_side, keep_colours, read_image_bytes


@dataclass(frozen=True)
class StylizeOptions:
    """How to paint: style strength in [0, 1], colour handling and the output's long side."""

    strength: float = 1.0
    keep_colours: bool = False
    max_side: int = 1024


def parse_weights(text: str, count: int, *, field: str, shown: str) -> list[float]:
    """`2,1` into `count` positive, finite weights; ValueError's message is the one sentence
    (naming `field`, e.g. "--weights", and showing the text as `shown`) for the caller's error."""
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"{field} must be numbers separated by commas, not {shown}.") from None
    if len(weights) != count:
        raise ValueError(f"{field} gives {len(weights)} weights for {count} styles.")
    if not all(weight > 0 and math.isfinite(weight) for weight in weights):
        raise ValueError(f"{field} must all be positive.")
    return weights


def style_from_bytes(
    data: bytes, limits: ImageLimits, *, weight: float = 1.0, what: str = "style image"
) -> WeightedStyle:
    """A style keyed by its bytes' hash, decoded only if its vector is not cached yet."""
    digest = hashlib.sha256(data).hexdigest()
    return WeightedStyle(
        image=lambda: decode_image(data, limits, what=what), weight=weight, key=f"sha256:{digest}"
    )


def style_from_file(
    path: Path, limits: ImageLimits, *, weight: float = 1.0, what: str = "style image"
) -> WeightedStyle:
    """A style from an image file, keyed by its content so renamed copies share a vector."""
    data = read_image_bytes(path, limits, what=what)
    return style_from_bytes(data, limits, weight=weight, what=what)


def stylize(
    engine: Engine, content: Image.Image, styles: Sequence[WeightedStyle], options: StylizeOptions
) -> Image.Image:
    """Cap the content's size, paint it, and keep its colours if asked."""
    capped = fit_long_side(content, options.max_side)
    painted = engine.stylize(capped, styles, options.strength)
    return keep_colours(painted, capped) if options.keep_colours else painted


def frame_painter(
    engine: Engine,
    styles: Sequence[WeightedStyle],
    options: StylizeOptions,
    first_frame: Image.Image,
    *,
    inferring: AbstractContextManager[object] | None = None,
) -> Callable[[Image.Image], Image.Image]:
    """Paint the frames of one animation (all of one size, already capped) as `stylize` would.

    An engine with style vectors computes the job's vector once (strength taken against the
    first frame's own vector), so every frame gets the same style and one compiled shape;
    another engine (hub) is asked per frame. Colours are kept per frame if asked. `inferring`
    is entered while the network runs (engines with style vectors only).
    """
    if isinstance(engine, VectorEngine):
        vector = engine.job_vector(styles, options.strength, first_frame)

        def painted(frame: Image.Image) -> Image.Image:
            return engine.stylize_with_vector(frame, vector, options.strength,
                                              inferring=inferring)
    else:

        def painted(frame: Image.Image) -> Image.Image:
            return engine.stylize(frame, styles, options.strength)

    def paint(frame: Image.Image) -> Image.Image:
        result = painted(frame)
        return keep_colours(result, frame) if options.keep_colours else result

    return paint
