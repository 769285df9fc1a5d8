"""One stylization: styles from bytes or files, content capped, painted, colours optionally kept."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from bot.engine import Engine, WeightedStyle
from bot.engine.base import VectorEngine
from bot.imaging import ImageLimits, decode_image, fit_long_side, keep_colours, read_image_bytes

if TYPE_CHECKING:
    from bot.imaging.animation import Frame


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


def paint_frames(
    engine: Engine,
    styles: Sequence[WeightedStyle],
    options: StylizeOptions,
    frames: Iterable[Frame],
) -> Generator[tuple[Frame, Image.Image], None, None]:
    """Paint the frames of one animation (all of one size, already capped) as `stylize` would,
    yielding each frame with its painting, in order.

    An engine with style vectors computes the job's vector once (strength taken against the
    first frame's own vector), so every frame gets the same style and one compiled shape, and
    paints several frames at once (`stylize_frames`: frames are taken ahead of the paintings
    handed back); another engine (hub) is asked per frame. Colours are kept per frame if asked.
    """
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    taken: deque[Frame] = deque()  # taken by the engine, not yet handed back painted

    def pictures() -> Iterator[Image.Image]:
        for frame in itertools.chain([first], frames):
            taken.append(frame)
            yield frame.picture

    painted: Generator[Image.Image, None, None]
    if isinstance(engine, VectorEngine):
        vector = engine.job_vector(styles, options.strength, first.picture)
        painted = engine.stylize_frames(pictures(), vector, options.strength)
    else:
        painted = (engine.stylize(picture, styles, options.strength) for picture in pictures())
    with contextlib.closing(painted):  # an engine stopped early finishes the frames it runs
        for painting in painted:
            frame = taken.popleft()
            if options.keep_colours:
                painting = keep_colours(painting, frame.picture)
            yield frame, painting
