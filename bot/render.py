"""One job's work, run off the event loop: decode, paint, and encode to fit a byte limit."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.discordio.upload import encode_for_upload
from bot.engine import Engine
from bot.imaging import ImageLimits, decode_image, style_limits
from bot.pipeline import StylizeOptions, style_from_bytes, stylize


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
class Rendered:
    """A finished painting, encoded for upload."""

    data: bytes
    filename: str
    width: int
    height: int
    seconds: float


def render(
    engine: Engine, request: RenderRequest, limits: ImageLimits, upload_limit: int
) -> Rendered:
    """Decode the photo and styles, paint, and encode within `upload_limit` bytes."""
    start = time.perf_counter()
    content = decode_image(request.content, limits, what="photo")
    for_styles = style_limits(limits)
    styles = [
        style_from_bytes(
            style.data, for_styles, weight=style.weight, what=f"style image {style.name}"
        )
        for style in request.styles
    ]
    painted = stylize(engine, content, styles, request.options)
    upload = encode_for_upload(painted, upload_limit)
    return Rendered(upload.data, upload.filename, *upload.size, time.perf_counter() - start)
