"""Small helpers shared by the imaging tests: encode test images and check error wording."""

import io
import re
import struct
import zlib
from pathlib import Path

from PIL import Image

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.jpg"))


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    """Return ``img`` saved as ``fmt`` with Pillow."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """Return one PNG chunk with its length and CRC."""
    checksum = struct.pack(">I", zlib.crc32(kind + payload))
    return struct.pack(">I", len(payload)) + kind + payload + checksum


def black_bilevel_png(width: int, height: int, *, with_pixels: bool = True) -> bytes:
    """Return a valid all-black 1-bit PNG built row by row, never holding the pixels in memory.

    With ``with_pixels=False`` the IDAT chunk is left out, so any attempt to decode pixel data
    fails; only a check made on the header alone can reject it as too large.
    """
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunks = [png_chunk(b"IHDR", header)]
    if with_pixels:
        compressor = zlib.compressobj(9)
        row = bytes(1 + (width + 7) // 8)  # filter type 0, then zero bits (black)
        rows_per_block = max(1, (1 << 20) // len(row))
        block = row * rows_per_block
        parts = []
        for start in range(0, height, rows_per_block):
            count = min(rows_per_block, height - start)
            parts.append(compressor.compress(block if count == rows_per_block else row * count))
        parts.append(compressor.flush())
        chunks.append(png_chunk(b"IDAT", b"".join(parts)))
    chunks.append(png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def assert_one_sentence(message: str) -> None:
    """A user-facing message is one sentence: one line, capitalised, ending in a full stop."""
    assert "\n" not in message, message
    assert message[:1].isupper(), message
    assert message.endswith("."), message
    assert not re.search(r"[.!?] [A-Z]", message), message
