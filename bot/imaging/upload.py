"""Fit a result image under Discord's upload limit: PNG, then JPEG/WebP, then smaller JPEGs."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from bot.errors import ImageError
from bot.imaging import encode_image

MIN_LIMIT = 2 * 1024  # below this even a tiny JPEG may not fit: a caller's mistake
# (format, quality) tried in turn at full size; PNG ignores quality
FULL_SIZE_FORMATS = (("PNG", 92), ("JPEG", 92), ("WEBP", 90), ("JPEG", 85))
_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
_SHRUNK_QUALITY, _SHRUNK_FALLBACK = 90, 85
_MARGIN = 0.95  # aim a little under the limit when shrinking
_MAX_SCALE_STEP = 0.9  # each shrinking round is at least 10% smaller per side


@dataclass(frozen=True)
class Upload:
    """Encoded bytes ready to send, their filename (extension matches), pixel size, and whether
    the image had to be made smaller than the original to fit."""

    data: bytes
    filename: str
    size: tuple[int, int]
    downscaled: bool


def encode_for_upload(
    image: Image.Image,
    limit: int,
    *,
    stem: str = "stylized",
    formats: Sequence[tuple[str, int]] = FULL_SIZE_FORMATS,
) -> Upload:
    """Encode ``image`` in at most ``limit`` bytes; slow (CPU-bound): run it in an executor.

    Tries ``formats`` (default PNG, JPEG 92, WebP 90, JPEG 85) at full size and returns the
    first that fits; else shrinks by sqrt(limit/size)*0.95 (at least 10% a round) and retries
    JPEG 90 until it fits.
    Raises ValueError if ``limit`` is below ``MIN_LIMIT``.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT} bytes, not {limit}.")
    smallest = None
    for fmt, quality in formats:
        data = _try_encode(image, fmt, quality)
        if data is not None and len(data) <= limit:
            return Upload(data, f"{stem}.{_EXTENSIONS[fmt]}", image.size, False)
        if data is not None:
            smallest = min(len(data), smallest or len(data))
    width, height = image.size
    size = smallest or 3 * width * height
    scale, dims = 1.0, image.size
    while dims != (1, 1):  # scale shrinks geometrically, so dims reach 1×1 in bounded rounds
        scale *= min(math.sqrt(limit / size) * _MARGIN, _MAX_SCALE_STEP)
        new = (max(1, round(width * scale)), max(1, round(height * scale)))
        if new == dims:
            continue  # rounding kept a tiny image the same size; shrink further first
        dims = new
        small = image.resize(dims, Image.Resampling.LANCZOS, reducing_gap=3.0)
        data = _try_encode(small, "JPEG", _SHRUNK_QUALITY)
        if data is None:
            data = encode_image(small, "JPEG", quality=_SHRUNK_FALLBACK)
        if len(data) <= limit:
            return Upload(data, f"{stem}.jpg", dims, True)
        size = len(data)
    raise ValueError(f"Not even a 1×1 image fits in {limit} bytes.")


def _try_encode(image: Image.Image, fmt: str, quality: int) -> bytes | None:
    """Encode, or None if the encoder fails: Pillow's progressive JPEG writer reserves only
    width×height bytes, so JPEG at quality >= 90 (full-resolution colour) of very detailed
    images such as noise fails; a smaller quality or size is then tried instead."""
    try:
        return encode_image(image, fmt, quality=quality)
    except ImageError:
        return None
