"""Encode images as PNG, JPEG or WebP and save them atomically."""

import io
import os
from pathlib import Path

from PIL import Image

from bot.atomic import atomic_write
from bot.errors import ImageError
from bot.imaging.modes import to_rgb
from bot.imaging.png import encode_png

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_WEBP_METHOD = 4
_FULL_CHROMA_QUALITY = 90  # from this JPEG quality up, keep colour at full resolution (4:4:4)


def format_for_path(path: str | os.PathLike[str]) -> str:
    """Return the Pillow format name for an output path from its extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ImageError("Output file must end in .png, .jpg, .jpeg or .webp.")
    return fmt


def encode_image(img: Image.Image, fmt: str, *, quality: int = 92) -> bytes:
    """Encode ``img`` as ``fmt`` ("PNG", "JPEG" or "WEBP") without metadata; return the bytes."""
    fmt = fmt.upper()
    if fmt not in set(FORMATS.values()):
        raise ValueError(f"fmt must be PNG, JPEG or WEBP, not {fmt!r}.")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, not {quality}.")
    keep_alpha = fmt != "JPEG" and img.mode == "RGBA"
    pixels = img if img.mode == "RGB" or keep_alpha else to_rgb(img)
    if fmt == "PNG":
        return encode_png(pixels)
    buffer = io.BytesIO()
    try:
        pixels.save(buffer, fmt, **_options(fmt, quality))
    except (OSError, ValueError) as exc:
        raise ImageError(f"The image could not be encoded as {fmt}.") from exc
    return buffer.getvalue()


def save_image_atomic(img: Image.Image, path: str | os.PathLike[str], *,
                      quality: int = 92) -> None:
    """Encode ``img`` for ``path``'s extension and replace ``path`` with it in one step.

    The bytes go to a temporary file in the same folder, are flushed to disk, then renamed
    over ``path``; on any failure the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    save_bytes_atomic(encode_image(img, format_for_path(target), quality=quality), target)


def save_bytes_atomic(data: bytes, path: str | os.PathLike[str], *, what: str = "image") -> None:
    """Replace ``path`` with ``data`` in one step; a failure is one sentence naming the folder."""
    target = Path(path)
    try:
        with atomic_write(target) as handle:
            handle.write(data)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ImageError(f"The folder “{target.parent}” does not exist.") from exc
    except PermissionError as exc:
        raise ImageError(
            f"There is no permission to write to the folder “{target.parent}”."
        ) from exc
    except OSError as exc:
        reason = f" ({exc.strerror})" if exc.strerror else ""
        raise ImageError(f"The {what} could not be saved to “{target}”{reason}.") from exc


def _options(fmt: str, quality: int) -> dict[str, object]:
    if fmt == "JPEG":
        subsampling = 0 if quality >= _FULL_CHROMA_QUALITY else 2  # 4:4:4, else 4:2:0
        # Plain baseline: Pillow's optimize/progressive writers fail on very detailed images
        # at high quality ("Suspension not allowed here").
        return {"quality": quality, "subsampling": subsampling}
    return {"quality": quality, "method": _WEBP_METHOD}
