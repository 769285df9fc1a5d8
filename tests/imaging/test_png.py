"""encode_png: exact round trips, a strictly valid file (CRCs, adler32), bands and sizes."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bot.imaging.png import adler32_combine, encode_png

from .helpers import EXAMPLES


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (kind, payload), checking the signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    found, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, payload = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + payload), kind
        found.append((kind, payload))
        pos += 12 + length
    assert pos == len(data)
    return found


def raw_scanlines(data: bytes) -> bytes:
    """The IDAT stream inflated by zlib, which also verifies its adler32 checksum."""
    stream = b"".join(payload for kind, payload in chunks(data) if kind == b"IDAT")
    inflater = zlib.decompressobj()
    raw = inflater.decompress(stream) + inflater.flush()
    assert inflater.eof and not inflater.unused_data
    return raw


def noisy(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    """Random pixels with a flat top half: both kinds of rows a painting can have."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), np.uint8)
    pixels[: height // 2] = 17
    return pixels


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 5, 4), (63, 7, 3), (130, 129, 3),
                                   (300, 200, 4), (513, 97, 3)])
@pytest.mark.parametrize("threads", [1, 2, 3, 16])
def test_round_trip_is_exact(shape, threads):
    pixels = noisy(*shape)
    mode = "RGBA" if shape[2] == 4 else "RGB"
    data = encode_png(Image.fromarray(pixels, mode), threads=threads)
    with Image.open(io.BytesIO(data)) as back:
        back.load()
        assert back.mode == mode
        assert np.array_equal(np.asarray(back), pixels)


@pytest.mark.parametrize("threads", [1, 4])
def test_file_is_strictly_valid(threads):
    height, width = 300, 41
    pixels = noisy(height, width, 3, seed=1)
    data = encode_png(Image.fromarray(pixels), threads=threads)
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert set(kinds[1:-1]) == {b"IDAT"}
    assert chunks(data)[0][1] == struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = raw_scanlines(data)
    assert len(raw) == height * (1 + 3 * width)
    assert {raw[row * (1 + 3 * width)] for row in range(height)} == {3}  # Average filter


def test_more_threads_make_more_bands_with_the_same_pixels():
    pixels = noisy(512, 64, 3, seed=2)
    one, four = (encode_png(Image.fromarray(pixels), threads=n) for n in (1, 4))
    idat = [sum(kind == b"IDAT" for kind, _ in chunks(data)) for data in (one, four)]
    assert idat[1] == idat[0] + 3
    assert raw_scanlines(one) == raw_scanlines(four)


def test_size_is_close_to_pillows_on_a_photo():
    """Run-length deflate gives up a little on photos (paintings: under 1 %) for speed."""
    with Image.open(EXAMPLES[0]) as img:
        photo = img.convert("RGB")
    ours = len(encode_png(photo))
    pillow = io.BytesIO()
    photo.save(pillow, "PNG")
    assert ours < 1.15 * len(pillow.getvalue())


def test_flat_image_is_tiny():
    data = encode_png(Image.new("RGB", (1024, 768), (40, 90, 200)))
    assert len(data) < 20_000


@pytest.mark.parametrize("mode", ["L", "P", "LA", "CMYK"])
def test_other_modes_are_refused(mode):
    with pytest.raises(ValueError, match="RGB or RGBA"):
        encode_png(Image.new(mode, (4, 4)))


@pytest.mark.parametrize("split", [0, 1, 7, 65521, 70000, 99_999])
def test_adler32_combine_matches_zlib(split):
    data = np.random.default_rng(3).integers(0, 256, 100_000, np.uint8).tobytes()
    first, second = data[:split], data[split:]
    combined = adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(data)
