"""One job's work, run off the event loop: decode and paint (needs the engine), then encode."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from bot.engine import Engine, WeightedStyle
from bot.imaging import ImageLimits, decode_image, fit_long_side, style_limits
from bot.imaging.upload import FULL_SIZE_FORMATS, encode_for_upload
from bot.stylization import StylizeOptions, style_from_bytes, stylize


@dataclass(frozen=True)
class StyleInput:
    """One style of a request: a display name, its weight and its image bytes."""

    name: str
    data: bytes
    weight: float = 1.0


@dataclass(frozen=True)
class RenderRequest:
    """Everything needed to (re)paint a result: kept for the result's buttons."""

    content: bytes
    styles: tuple[StyleInput, ...]
    options: StylizeOptions


@dataclass(frozen=True)
class Painted:
    """A painting before encoding, and the seconds painting it took."""

    image: Image.Image
    seconds: float


@dataclass(frozen=True)
class Rendered:
    """A finished painting, encoded for upload."""

    data: bytes
    filename: str
    width: int
    height: int
    seconds: float


@dataclass(frozen=True)
class Inputs:
    """A request's photo decoded, and its styles ready for the engine (decoded on demand)."""

    content: Image.Image
    styles: list[WeightedStyle]


def decode_inputs(request: RenderRequest, limits: ImageLimits) -> Inputs:
    """Decode the photo, capped to the output size at once (a photo decoded ahead of its turn
    then holds little memory), and wrap the styles: the part of a job that needs no engine."""
    photo = decode_image(request.content, limits, what="photo")
    content = fit_long_side(photo, request.options.max_side)
    for_styles = style_limits(limits)
    styles = [
        style_from_bytes(
            style.data, for_styles, weight=style.weight, what=f"style image {style.name}"
        )
        for style in request.styles
    ]
    return Inputs(content, styles)


def paint_inputs(engine: Engine, options: StylizeOptions, inputs: Inputs) -> Painted:
    """Paint decoded inputs: the part of a job that needs the engine."""
    start = time.perf_counter()
    painted = stylize(engine, inputs.content, inputs.styles, options)
    return Painted(painted, time.perf_counter() - start)


def encode(
    painted: Painted, upload_limit: int, *, formats: Sequence[tuple[str, int]] = FULL_SIZE_FORMATS
) -> Rendered:
    """Encode a painting in at most `upload_limit` bytes, trying `formats` in turn at full size.
    It needs no engine, so a queue can run it after freeing the job's worker: the next painting
    then starts at once."""
    start = time.perf_counter()
    upload = encode_for_upload(painted.image, upload_limit, formats=formats)
    seconds = painted.seconds + time.perf_counter() - start
    return Rendered(upload.data, upload.filename, *upload.size, seconds)
