"""decode_image and read_image_file: refusals, limits, formats, frames, modes, orientation."""

import io
import struct
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageFile

from bot.errors import ImageError, ImageTooLarge
from bot.imaging import ImageLimits, decode_image, read_image_file

from .helpers import EXAMPLES, assert_one_sentence, black_bilevel_png, encoded, png_chunk

LIMITS = ImageLimits()
ALL_FORMATS = [
    ("PNG", {}),
    ("JPEG", {"quality": 95}),
    ("GIF", {}),
    ("WEBP", {"lossless": True}),
    ("BMP", {}),
    ("TIFF", {}),
]


def refused(data: bytes, *, limits: ImageLimits = LIMITS, what: str = "content image",
            kind: type[ImageError] = ImageError) -> str:
    """Decode ``data`` expecting ``kind``; return its (checked one-sentence) message."""
    with pytest.raises(kind) as caught:
        decode_image(data, limits, what=what)
    message = str(caught.value)
    assert_one_sentence(message)
    return message


def pixel(img: Image.Image, xy: tuple[int, int] = (0, 0)) -> tuple[int, int, int]:
    assert img.mode == "RGB"
    return img.getpixel(xy)


def close_to(actual, expected, tolerance: int = 6) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- the example photos -------------------------------------------------------------------

def test_examples_exist():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_photos_decode_to_rgb(path):
    img = decode_image(path.read_bytes(), LIMITS)
    with Image.open(path) as original:
        assert img.size == original.size
    assert img.mode == "RGB"
    assert img.info == {}  # metadata (EXIF with GPS, ...) is not carried along


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_read_image_file_matches_decode_image(path):
    from_file = read_image_file(path, LIMITS, what="content image")
    from_bytes = decode_image(path.read_bytes(), LIMITS)
    assert np.array_equal(np.asarray(from_file), np.asarray(from_bytes))


# --- refusals -----------------------------------------------------------------------------

def test_zero_bytes_is_an_image_error_not_too_large():
    with pytest.raises(ImageError) as caught:
        decode_image(b"", LIMITS, what="content image")
    assert not isinstance(caught.value, ImageTooLarge)
    assert str(caught.value) == "The content image is empty."


def test_more_bytes_than_the_limit_is_too_large():
    data = encoded(Image.new("RGB", (64, 64), "red"), "BMP")
    message = refused(data, limits=ImageLimits(max_input_bytes=len(data) - 1),
                      kind=ImageTooLarge)
    assert message.startswith("The content image is ")
    assert "limit" in message
    decode_image(data, ImageLimits(max_input_bytes=len(data)))  # exactly at the limit is fine


def test_truncated_jpeg_is_damaged():
    data = EXAMPLES[0].read_bytes()
    message = refused(data[: len(data) // 2])
    assert message == "The content image is damaged or incomplete."


def test_truncated_png_is_damaged():
    data = encoded(Image.open(EXAMPLES[0]), "PNG")
    assert refused(data[: len(data) // 2]) == "The content image is damaged or incomplete."


def _png(ihdr: bytes, *chunks: bytes) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(chunks) + png_chunk(
        b"IEND", b""
    )


def _damaged_samples() -> dict[str, bytes]:
    png = encoded(Image.new("RGB", (8, 8), "red"), "PNG")
    bad_header_crc = bytearray(png)
    bad_header_crc[29] ^= 0xFF
    rgb_8x8 = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    tiff = encoded(Image.new("RGB", (64, 64)), "TIFF")
    return {
        "png signature only": png[:8],
        "png cut in header": png[:20],
        "png bad header crc": bytes(bad_header_crc),
        "png bad bit depth": _png(struct.pack(">IIBBBBB", 8, 8, 3, 2, 0, 0, 0)),
        "png zero width": _png(struct.pack(">IIBBBBB", 0, 8, 8, 2, 0, 0, 0)),
        "png garbage pixels": _png(rgb_8x8, png_chunk(b"IDAT", b"garbage!" * 6)),
        "jpeg header only": EXAMPLES[0].read_bytes()[:300],
        "gif header only": encoded(Image.new("P", (8, 8)), "GIF")[:20],
        "bmp cut": encoded(Image.new("RGB", (8, 8)), "BMP")[:60],
        "tiff cut": tiff[: len(tiff) // 2],
        "webp cut": encoded(Image.new("RGB", (64, 64)), "WEBP")[:40],
    }


@pytest.mark.parametrize(("name", "data"), sorted(_damaged_samples().items()))
def test_broken_files_of_allowed_formats_are_damaged(name, data):
    assert refused(data) == "The content image is damaged or incomplete."


def test_decoding_does_not_switch_on_load_truncated_images():
    data = EXAMPLES[0].read_bytes()
    refused(data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.png", encoded(Image.new("RGB", (4, 4)), "PNG"))
    return buffer.getvalue()


NOT_IMAGES = {
    "text": b"this is not a picture, just some text\n",
    "html": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    "svg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><rect width="10" height="10" fill="red"/></svg>'),
    "zip": _zip_bytes(),
    "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
    "nul": bytes(100),
}


@pytest.mark.parametrize("name", sorted(NOT_IMAGES))
def test_non_images_are_refused_as_unsupported(name):
    message = refused(NOT_IMAGES[name])
    assert message == "The content image is not a PNG, JPEG, GIF, WebP, BMP or TIFF image."


@pytest.mark.parametrize("fmt", ["PPM", "TGA", "PCX", "ICO", "SGI", "DDS", "QOI"])
def test_images_pillow_knows_but_we_do_not_allow_are_refused(fmt):
    data = encoded(Image.new("RGB", (16, 16), "red"), fmt)
    assert Image.open(io.BytesIO(data)).format == fmt  # Pillow alone would accept it
    assert "not a PNG, JPEG" in refused(data)


def test_text_file_named_png_is_refused(tmp_path):
    path = tmp_path / "photo.png"
    path.write_text("definitely not a PNG")
    with pytest.raises(ImageError) as caught:
        read_image_file(path, LIMITS, what="style image")
    assert str(caught.value) == "The style image is not a PNG, JPEG, GIF, WebP, BMP or TIFF image."


@pytest.mark.parametrize("what", ["image", "content image", "style image"])
def test_messages_name_what_was_decoded(what):
    assert refused(b"nonsense", what=what).startswith(f"The {what} is ")


# --- pixel limits and decompression bombs -------------------------------------------------

def test_header_claiming_30000_square_is_too_large_without_decoding():
    # No pixel data at all: had the decoder run, this would be "damaged", not "too large".
    data = black_bilevel_png(30_000, 30_000, with_pixels=False)
    assert len(data) < 100
    message = refused(data, kind=ImageTooLarge)
    assert message.startswith("The content image ")


def test_header_over_our_limit_but_under_pillows_is_too_large_without_decoding():
    data = black_bilevel_png(5_000, 5_000, with_pixels=False)
    message = refused(data, limits=ImageLimits(max_input_pixels=1_000_000), kind=ImageTooLarge)
    assert message == (
        "The content image is 5000×5000 pixels, more than the limit of 1 megapixels."
    )


@pytest.fixture(scope="module")
def bomb_12000() -> bytes:
    """A valid, all-black 12000x12000 PNG (144 megapixels) in a few kilobytes."""
    return black_bilevel_png(12_000, 12_000)


@pytest.mark.parametrize("max_input_pixels", [40_000_000, 1_000_000, 200_000_000])
def test_small_file_bomb_is_too_large_and_never_a_warning(bomb_12000, max_input_pixels):
    # 200 megapixels is above the bomb but the bomb trips Pillow's own threshold, which must
    # also come out as ImageTooLarge rather than a DecompressionBombWarning.
    assert len(bomb_12000) < 100_000
    limits = ImageLimits(max_input_pixels=max_input_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refused(bomb_12000, limits=limits, kind=ImageTooLarge)  # refused at open, not decoded


def test_small_file_bomb_under_pillows_threshold_is_refused_by_our_limit():
    data = black_bilevel_png(4_000, 4_000)
    assert len(data) < 10_000
    message = refused(data, limits=ImageLimits(max_input_pixels=15_999_999), kind=ImageTooLarge)
    assert "4000×4000" in message
    img = decode_image(data, ImageLimits(max_input_pixels=16_000_000))  # at the limit: decoded
    assert img.size == (4_000, 4_000)
    assert img.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_decoding_leaves_pillow_and_warning_settings_alone(bomb_12000):
    before_filters = list(warnings.filters)
    before_max = Image.MAX_IMAGE_PIXELS
    refused(bomb_12000, kind=ImageTooLarge)
    decode_image(encoded(Image.new("RGB", (4, 4)), "PNG"), LIMITS)
    assert warnings.filters == before_filters
    assert before_max == Image.MAX_IMAGE_PIXELS


def test_concurrent_decoding_of_bombs_and_photos(bomb_12000):
    photo = EXAMPLES[0].read_bytes()
    before_filters = list(warnings.filters)

    def attempt(data: bytes) -> str:
        try:
            return decode_image(data, LIMITS).mode
        except ImageTooLarge:
            return "too large"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(attempt, [bomb_12000, photo] * 16))
    assert results == ["too large", "RGB"] * 16
    assert warnings.filters == before_filters


# --- formats, frames and sizes ------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "options"), ALL_FORMATS, ids=[f for f, _ in ALL_FORMATS])
def test_every_allowed_format_decodes(fmt, options):
    colour = (200, 40, 90)
    data = encoded(Image.new("RGB", (24, 16), colour), fmt, **options)
    img = decode_image(data, LIMITS)
    assert img.size == (24, 16)
    assert close_to(pixel(img, (12, 8)), colour)


@pytest.mark.parametrize(("fmt", "options"), ALL_FORMATS, ids=[f for f, _ in ALL_FORMATS])
def test_one_pixel_images_decode(fmt, options):
    data = encoded(Image.new("RGB", (1, 1), (10, 200, 30)), fmt, **options)
    img = decode_image(data, LIMITS)
    assert img.size == (1, 1)
    assert close_to(pixel(img), (10, 200, 30))


@pytest.mark.parametrize(
    ("fmt", "options"), [("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True})]
)
def test_animated_images_use_the_first_frame(fmt, options):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "lime", "blue")]
    data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100,
                   loop=0, **options)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert close_to(pixel(decode_image(data, LIMITS), (4, 4)), (255, 0, 0))


def test_multi_picture_jpeg_uses_the_first_picture():
    pictures = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    data = encoded(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"  # what cameras write; still a JPEG
    assert close_to(pixel(decode_image(data, LIMITS), (4, 4)), (255, 0, 0))


def test_multi_page_tiff_uses_the_first_page():
    pages = [Image.new("RGB", (8, 8), colour) for colour in ("blue", "red")]
    data = encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert pixel(decode_image(data, LIMITS)) == (0, 0, 255)


# --- colour modes -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cmyk", "rgb"),
    [
        ((255, 0, 0, 0), (0, 255, 255)),
        ((0, 255, 0, 0), (255, 0, 255)),
        ((0, 0, 255, 0), (255, 255, 0)),
        ((0, 0, 0, 255), (0, 0, 0)),
        ((0, 0, 0, 0), (255, 255, 255)),
    ],
)
@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb_with_the_right_colours(cmyk, rgb, fmt):
    source = Image.new("CMYK", (16, 16), cmyk)
    data = encoded(source, fmt, quality=95) if fmt == "JPEG" else encoded(source, fmt)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert close_to(pixel(decode_image(data, LIMITS), (8, 8)), rgb)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_is_scaled_to_8_bit_not_clipped(fmt):
    ramp = np.tile(np.linspace(0, 65535, 300).round().astype(np.uint16), (4, 1))
    data = encoded(Image.fromarray(ramp), fmt)
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    img = decode_image(data, LIMITS)
    values = np.asarray(img)[0, :, 0].astype(int)
    assert np.all(np.diff(values) >= 0)  # monotonic
    assert values[0] == 0
    assert values[-1] == 255
    assert abs(values[150] - 128) <= 1  # mid-grey stays mid-grey (clipping would give 255)
    assert len(np.unique(values)) > 250  # the full range is used
    assert np.array_equal(np.asarray(img)[..., 0], np.asarray(img)[..., 2])  # still grey


def test_rgba_transparent_pixels_become_white():
    source = Image.new("RGBA", (4, 4), (255, 0, 0, 255))
    source.putpixel((0, 0), (0, 0, 255, 0))  # fully transparent blue
    source.putpixel((1, 0), (0, 0, 0, 128))  # half-transparent black
    img = decode_image(encoded(source, "PNG"), LIMITS)
    assert pixel(img, (0, 0)) == (255, 255, 255)
    assert close_to(pixel(img, (1, 0)), (127, 127, 127), 1)
    assert pixel(img, (3, 3)) == (255, 0, 0)


def test_la_alpha_is_composited_over_white():
    source = Image.new("LA", (4, 4), (0, 255))
    source.putpixel((0, 0), (0, 0))
    img = decode_image(encoded(source, "PNG"), LIMITS)
    assert pixel(img, (0, 0)) == (255, 255, 255)
    assert pixel(img, (2, 2)) == (0, 0, 0)


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_transparency_becomes_white(fmt):
    source = Image.new("P", (4, 4), 0)
    source.putpalette([0, 255, 0, 0, 0, 255])
    source.putpixel((3, 3), 1)
    data = encoded(source, fmt, transparency=0)
    assert Image.open(io.BytesIO(data)).mode == "P"
    img = decode_image(data, LIMITS)
    assert pixel(img, (0, 0)) == (255, 255, 255)
    assert pixel(img, (3, 3)) == (0, 0, 255)


def test_palette_without_transparency_keeps_its_colours():
    source = Image.new("P", (4, 4), 1)
    source.putpalette([0, 0, 0, 250, 100, 5])
    assert pixel(decode_image(encoded(source, "PNG"), LIMITS)) == (250, 100, 5)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "GIF"])
def test_one_bit_images_become_black_and_white(fmt):
    source = Image.new("1", (9, 3), 0)
    source.putpixel((8, 2), 1)
    img = decode_image(encoded(source, fmt), LIMITS)
    assert pixel(img, (0, 0)) == (0, 0, 0)
    assert pixel(img, (8, 2)) == (255, 255, 255)


def test_grey_l_images_become_rgb():
    img = decode_image(encoded(Image.new("L", (3, 3), 77), "PNG"), LIMITS)
    assert pixel(img) == (77, 77, 77)


def test_float_tiff_becomes_rgb():
    ramp = np.tile(np.linspace(0.0, 1.0, 11, dtype=np.float32), (2, 1))
    img = decode_image(encoded(Image.fromarray(ramp), "TIFF"), LIMITS)
    assert [p[0] for p in (pixel(img, (x, 0)) for x in (0, 5, 10))] == [0, 128, 255]


# --- EXIF orientation ---------------------------------------------------------------------

def _red_left_half(size: tuple[int, int] = (40, 20)) -> Image.Image:
    img = Image.new("RGB", size, (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    return img


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientation_6_rotates_the_picture(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    source = _red_left_half()
    if fmt == "TIFF":
        data = encoded(source, fmt, tiffinfo={0x0112: 6})
    else:
        data = encoded(source, fmt, exif=exif.tobytes(), quality=95)
    img = decode_image(data, LIMITS)
    assert img.size == (20, 40)  # width and height swapped
    assert close_to(pixel(img, (10, 5)), (255, 0, 0), 40)  # the left half is now on top
    assert close_to(pixel(img, (10, 35)), (0, 0, 255), 40)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_corrupt_exif_is_ignored_quietly(fmt):
    # One IFD entry (orientation) whose value field is cut short.
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06"
    data = encoded(_red_left_half(), fmt, exif=exif)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        img = decode_image(data, LIMITS)
    assert img.size == (40, 20)


# --- read_image_file ----------------------------------------------------------------------

def test_missing_file(tmp_path):
    path = tmp_path / "nope.jpg"
    with pytest.raises(ImageError) as caught:
        read_image_file(path, LIMITS, what="content image")
    assert str(caught.value) == f"The content image file “{path}” was not found."
    assert_one_sentence(str(caught.value))


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ImageError) as caught:
        read_image_file(tmp_path, LIMITS)
    assert str(caught.value).endswith("is not a file.")
    assert_one_sentence(str(caught.value))


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(encoded(Image.new("RGB", (32, 32)), "PNG"))

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr("pathlib.Path.open", no_reading)
    with pytest.raises(ImageTooLarge) as caught:
        read_image_file(path, ImageLimits(max_input_bytes=10))
    assert_one_sentence(str(caught.value))


def test_read_image_file_accepts_str_paths(tmp_path):
    path = tmp_path / "ok.webp"
    path.write_bytes(encoded(Image.new("RGB", (5, 6), "white"), "WEBP", lossless=True))
    assert read_image_file(str(path), LIMITS).size == (5, 6)
