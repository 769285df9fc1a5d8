"""Decode untrusted image bytes or files into RGB Pillow images, within limits."""

import io
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import ImageError, ImageTooLarge, StylebotError
from bot.imaging.limits import ImageLimits, describe_bytes, describe_pixels
from bot.imaging.modes import to_rgb

#: Pillow plug-ins that may parse untrusted input; nothing else is ever tried.
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
#: File name endings of those formats.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"})
#: What ``Image.format`` may then say (the JPEG plug-in calls multi-picture JPEGs "MPO").
_OPENED_FORMATS = frozenset(ALLOWED_FORMATS) | {"MPO"}

#: How files of the allowed formats begin; such a file that will not open is damaged, not alien.
_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM",
    b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+",
)

_WARNINGS_LOCK = threading.Lock()


def decode_image(data: bytes, limits: ImageLimits, *, what: str = "image") -> Image.Image:
    """Decode ``data`` to an RGB image: first frame, EXIF orientation applied, alpha on white.

    The pixel count is checked against ``limits`` before any pixel data is decoded. The effective
    pixel limit is also capped by Pillow's own ``Image.MAX_IMAGE_PIXELS`` bomb threshold.
    Raises ImageTooLarge (too many bytes or pixels) or ImageError (empty, not a supported
    format, damaged), each with one sentence about ``what``, e.g. "The content image is ...".
    """
    size = len(data)
    if size == 0:
        raise ImageError(f"The {what} is empty.")
    if size > limits.max_input_bytes:
        raise _too_many_bytes(what, size, limits)
    try:
        with _open(io.BytesIO(data)) as img:
            _check_pixels(img, limits, what)
            img.load()
            rgb = to_rgb(_oriented(img))
            if rgb is img:
                rgb = img.copy()
    except StylebotError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as exc:
        raise ImageTooLarge(f"The {what} has too many pixels to process safely.") from exc
    except UnidentifiedImageError as exc:
        if _has_allowed_signature(data):
            raise ImageError(f"The {what} is damaged or incomplete.") from exc
        raise ImageError(f"The {what} is not a PNG, JPEG, GIF, WebP, BMP or TIFF image.") from exc
    except Exception as exc:  # Pillow raises many kinds on corrupt input; all mean "damaged".
        raise ImageError(f"The {what} is damaged or incomplete.") from exc
    rgb.info = {}
    return rgb


def read_image_file(path: str | os.PathLike[str], limits: ImageLimits, *,
                    what: str = "image") -> Image.Image:
    """Read and decode an image file, refusing it by its size before reading it."""
    return decode_image(read_image_bytes(path, limits, what=what), limits, what=what)


def read_image_bytes(path: str | os.PathLike[str], limits: ImageLimits, *,
                     what: str = "image") -> bytes:
    """Read an image file's bytes, refusing a missing file or one over the byte limit."""
    shown = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise ImageError(f"The {what} file “{shown}” was not found.") from exc
    except OSError as exc:
        raise ImageError(f"The {what} file “{shown}” could not be read.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"The {what} “{shown}” is not a file.")
    if info.st_size > limits.max_input_bytes:
        raise _too_many_bytes(what, info.st_size, limits)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(limits.max_input_bytes + 1)
    except OSError as exc:
        raise ImageError(f"The {what} file “{shown}” could not be read.") from exc
    return data


def _open(buffer: io.BytesIO) -> Image.Image:
    """Open (parse headers only) with the allowed plug-ins, nothing else."""
    with _pillow_warnings():
        img = Image.open(buffer, formats=ALLOWED_FORMATS)
    if img.format not in _OPENED_FORMATS:
        img.close()
        raise UnidentifiedImageError(f"unexpected format {img.format!r}")
    return img


@contextmanager
def _pillow_warnings() -> Iterator[None]:
    """Make Pillow's bomb warning an error and silence its "Corrupt EXIF data" user warnings.

    warnings.catch_warnings swaps process-wide state, so overlapping uses from worker threads
    could restore each other's filters; the lock keeps our own (brief) uses apart.
    """
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _has_allowed_signature(data: bytes) -> bool:
    head = bytes(data[:16])
    return head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _check_pixels(img: Image.Image, limits: ImageLimits, what: str) -> None:
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageError(f"The {what} has no pixels.")
    if width * height > limits.max_input_pixels:
        raise ImageTooLarge(
            f"The {what} is {width}×{height} pixels, more than the limit of "
            f"{describe_pixels(limits.max_input_pixels)}."
        )


def _oriented(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; unreadable EXIF is ignored rather than fatal."""
    try:
        with _pillow_warnings():
            orientation = img.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF must not reject an otherwise good picture
        return img
    if orientation == 1:
        return img
    return ImageOps.exif_transpose(img)


def _too_many_bytes(what: str, size: int, limits: ImageLimits) -> ImageTooLarge:
    return ImageTooLarge(
        f"The {what} is {describe_bytes(size)}, more than the limit of "
        f"{describe_bytes(limits.max_input_bytes)}."
    )
