"""Hostile input corpus: named cases built at test time (Pillow, zlib, struct), never committed."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: Every case is painted with this cap on the output's long side (`--max-size` / `size=`).
CAP = 128
#: The style every case is painted in (a built-in preset, so only the photo is hostile).
STYLE = "udnie"
#: The photo most cases are made from: examples/chelsea.jpg shrunk to this size.
PHOTO_SIZE = (120, 80)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The one sentence each refusal must be (regexes, matched against the whole reply or line).
NOT_AN_IMAGE = r"The photo is not a PNG, JPEG, GIF, WebP, BMP or TIFF image\."
DAMAGED = r"The photo is damaged or incomplete\."
EMPTY = r"The photo is empty\."
#: Pillow's own bomb check (past 2× its 89-megapixel threshold) fires while the header is read.
BOMB = r"The photo has too many pixels to process safely\."


def too_many_pixels(width: int, height: int) -> str:
    """The sentence for a size over the 40 megapixel default (a header, or Discord's claim)."""
    return rf"The photo is {width}×{height} pixels, more than the limit of 40 megapixels\."


@dataclass(frozen=True)
class Outcome:
    """What must come of a case: an image of `size` (after the cap), or one refusal sentence."""

    size: tuple[int, int] | None = None
    refusal: str | None = None  # a regex the whole sentence must match
    frames: int | None = None  # an animation: how many frames it must have
    note: str = ""  # an animation: what the report line must add after "in N s"

    @property
    def kind(self) -> str:
        return "image" if self.size is not None else "refused"

    def describe(self) -> str:
        if self.size is not None and self.frames is not None:
            return f"animation {self.size[0]}x{self.size[1]}, {self.frames} frames"
        if self.size is not None:
            return f"image {self.size[0]}x{self.size[1]}"
        return f"refused: {self.refusal}"

    def matches(self, sentence: str) -> bool:
        """Whether `sentence` is exactly the expected refusal."""
        return self.refusal is not None and re.fullmatch(self.refusal, sentence) is not None


def image(width: int, height: int) -> Outcome:
    return Outcome(size=(width, height))


def refused(pattern: str) -> Outcome:
    return Outcome(refusal=pattern)


def animation(width: int, height: int, frames: int, note: str = "") -> Outcome:
    return Outcome(size=(width, height), frames=frames, note=note)


@dataclass(frozen=True)
class Case:
    """One hostile input: its file name and bytes, what Discord claims about it, the outcomes.

    `expected` holds for the CLI (which sees only the bytes) and for `!stylize`; `bot` overrides
    it when Discord's claims (`claims`: content_type, width, height, size passed to the fake's
    add_attachment) make the bot refuse what the bytes alone would allow.
    """

    name: str
    filename: str
    data: bytes = field(repr=False)
    expected: Outcome
    why: str  # one line: what the case is
    claims: dict[str, Any] = field(default_factory=dict)
    bot: Outcome | None = None
    output: str = "painted.png"  # the CLI's -o (the animation corpus writes .gif or .mp4)

    @property
    def bot_expected(self) -> Outcome:
        return self.bot or self.expected


# -- building blocks -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _chelsea() -> Image.Image:
    with Image.open(EXAMPLES / "chelsea.jpg") as img:
        return img.convert("RGB")


def photo(size: tuple[int, int] = PHOTO_SIZE) -> Image.Image:
    """The example cat photo resized to `size` (a fresh copy each call)."""
    return _chelsea().resize(size, Image.Resampling.LANCZOS)


def encoded(img: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    """A PNG from its IHDR fields and its zlib-compressed, filtered rows (one IDAT chunk)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def zlib_zeros(count: int, block: int = 1 << 20) -> bytes:
    """A zlib stream inflating to `count` zero bytes, made in milliseconds whatever `count`.

    One block of zeros is deflated with a full flush (which resets the compressor, so its
    output stands alone) and repeated; the Adler-32 checksum is summed block by block. All-zero
    bytes are also a PNG's rows of black (or zero-grey) pixels, each with filter byte 0.
    """
    zeros = bytes(block)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate
    body = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(count, block)
    tail = compressor.compress(bytes(rest)) + compressor.flush()
    checksum = 1
    for _ in range(whole):
        checksum = zlib.adler32(zeros, checksum)
    checksum = zlib.adler32(bytes(rest), checksum)
    return b"\x78\xda" + body * whole + tail + struct.pack(">I", checksum)


def black_png(width: int, height: int, bit_depth: int) -> bytes:
    """A real all-black greyscale PNG of any size (1-bit or 8-bit) in a few kilobytes."""
    row_bytes = 1 + (width * bit_depth + 7) // 8
    return raw_png(width, height, bit_depth, 0, zlib_zeros(row_bytes * height))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height RGB but whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF0 frame header is rewritten to claim width×height."""
    data = bytearray(encoded(photo((16, 16)), "JPEG", quality=80))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    """A real 16×16 GIF whose logical screen claims width×height."""
    data = bytearray(encoded(photo((16, 16)).convert("P"), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def animated(fmt: str, frames: int, size: tuple[int, int]) -> bytes:
    """`frames` frames of a moving gradient, saved as an animated GIF or WebP."""
    width, height = size
    ramp = np.add.outer(np.arange(height), np.arange(width))
    images = [Image.fromarray(((ramp + 3 * i) % 256).astype(np.uint8)) for i in range(frames)]
    options: dict[str, Any] = {"save_all": True, "append_images": images[1:], "duration": 20,
                               "loop": 0}
    if fmt == "WEBP":
        options.update(quality=30, method=0)
    return encoded(images[0], fmt, **options)


def exif_rotated_jpeg() -> bytes:
    """A 120×80 JPEG whose EXIF orientation 6 says: show it turned 90° clockwise (80×120)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(photo(), "JPEG", quality=85, exif=exif.tobytes())


def bad_exif_jpeg() -> bytes:
    """A JPEG whose APP1 Exif segment is garbage after its header."""
    data = encoded(photo(), "JPEG", quality=85)
    garbage = b"Exif\x00\x00" + b"MM\x00*\x00\x00\x00\x08" + b"\xff\x12\x01\x02" * 40
    app1 = b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage
    return data[:2] + app1 + data[2:]


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def gif_html_zip_polyglot() -> bytes:
    """A valid GIF that is also a zip (archive appended, as in GIFAR) and carries HTML in a
    comment and after its trailer: a browser sniffing it as HTML would run the script."""
    gif = encoded(photo().convert("P"), "GIF", comment=b"<script>alert(1)</script>")
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    return gif + html + zip_bytes({"payload.html": html, "evil.sh": b"rm -rf /\n"})


def sixteen_bit_rgb_png(size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """A 48-bit (16 bits per channel) RGB PNG built from the photo, which Pillow cannot write."""
    pixels = np.asarray(photo(size), dtype=np.uint16) * 257
    rows = pixels.astype(">u2").reshape(size[1], -1).tobytes()
    stride = size[0] * 6
    filtered = b"".join(b"\x00" + rows[i * stride:(i + 1) * stride] for i in range(size[1]))
    return raw_png(size[0], size[1], 16, 2, zlib.compress(filtered))


def ztxt_bomb_png() -> bytes:
    """A real 120×80 PNG with a zTXt chunk that inflates from ~50 KB to 50 MB of text (Pillow
    refuses text chunks past its 1 MB MAX_TEXT_CHUNK as it opens the file)."""
    chunk = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib_zeros(50 << 20))
    data = encoded(photo(), "PNG")
    end = data.index(b"IDAT") - 4
    return data[:end] + chunk + data[end:]


def palette_with_transparency() -> bytes:
    img = photo().convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    return encoded(img, "PNG", transparency=0)


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


# -- the corpus ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def build_corpus() -> tuple[Case, ...]:
    """Every hostile case, built once per process (about half a second; no file over 300 KB)."""
    cat = photo()
    jpeg, png = encoded(cat, "JPEG", quality=90), encoded(cat, "PNG")
    gif, webp = encoded(cat.convert("P"), "GIF"), encoded(cat, "WEBP", quality=80)
    full = PHOTO_SIZE
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"
    svg = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="60000" '
           b'height="60000"><circle cx="5" cy="5" r="4"/></svg>\n')
    cases = [
        # -- controls and wrong names
        Case("control-jpeg", "cat.jpg", jpeg, image(*full), "an ordinary small JPEG photo"),
        Case("full-size-photo", "chelsea.jpg", encoded(_chelsea(), "JPEG", quality=90),
             image(128, 85), "a 451×300 photo, capped to 128 px"),
        Case("png-named-jpg", "cat.jpg", png, image(*full), "a PNG with a .jpg name"),
        Case("jpeg-named-png", "cat.png", jpeg, image(*full), "a JPEG with a .png name"),
        Case("webp-named-gif", "cat.gif", webp, image(*full), "a WebP with a .gif name"),
        # -- empty, truncated and alien bytes
        Case("zero-bytes", "empty.png", b"", refused(EMPTY), "an empty file"),
        Case("truncated-jpeg", "cut.jpg", half(jpeg), refused(DAMAGED), "half a JPEG"),
        Case("truncated-png", "cut.png", half(png), refused(DAMAGED), "half a PNG"),
        Case("truncated-gif", "cut.gif", half(gif), refused(DAMAGED), "half a GIF"),
        Case("truncated-webp", "cut.webp", half(webp), refused(DAMAGED), "half a WebP"),
        Case("jpeg-magic-only", "soi.jpg", b"\xff\xd8\xff", refused(DAMAGED),
             "nothing but a JPEG's first three bytes"),
        Case("bad-png-magic", "cat.png", b"\x89PNX" + png[4:], refused(NOT_AN_IMAGE),
             "a PNG whose signature has one wrong byte"),
        Case("html-named-png", "page.png", html, refused(NOT_AN_IMAGE), "an HTML page"),
        Case("svg-named-png", "vector.png", svg, refused(NOT_AN_IMAGE),
             "an SVG (never rasterised) claiming 60000×60000"),
        Case("text-named-png", "notes.png", b"just some text, honestly\n" * 40,
             refused(NOT_AN_IMAGE), "plain text"),
        Case("zip-named-png", "archive.png", zip_bytes({"cat.jpg": jpeg}),
             refused(NOT_AN_IMAGE), "a zip archive holding a JPEG"),
        Case("pcx-named-png", "cat.png", encoded(cat, "PCX"), refused(NOT_AN_IMAGE),
             "a real PCX image: Pillow could read it, but only allowed formats are parsed"),
        # -- bombs
        Case("png-header-60000x60000", "bomb.png", png_claiming(60_000, 60_000), refused(BOMB),
             "a 69-byte PNG whose header claims 3.6 gigapixels",
             bot=refused(too_many_pixels(60_000, 60_000))),
        Case("jpeg-header-65000x65000", "bomb.jpg", jpeg_claiming(65_000, 65_000),
             refused(BOMB), "a JPEG frame header claiming 65000×65000",
             bot=refused(too_many_pixels(65_000, 65_000))),
        Case("gif-screen-65535x65535", "bomb.gif", gif_claiming(65_535, 65_535),
             refused(BOMB), "a GIF logical screen claiming 65535×65535",
             bot=refused(too_many_pixels(65_535, 65_535))),
        Case("bomb-20000x20000-1bit", "bomb.png", black_png(20_000, 20_000, 1), refused(BOMB),
             "a real 400-megapixel black 1-bit PNG in 50 KB (inflates to 50 MB)",
             bot=refused(too_many_pixels(20_000, 20_000))),
        Case("bomb-7000x7000-grey", "bomb.png", black_png(7_000, 7_000, 8),
             refused(too_many_pixels(7_000, 7_000)),
             "a real 49-megapixel grey PNG in 50 KB: over our 40 MP limit, under Pillow's"),
        Case("bomb-6000x6000-grey", "bomb.png", black_png(6_000, 6_000, 8), image(CAP, CAP),
             "a real 36-megapixel grey PNG in 36 KB, just under the 40 MP limit: decoded"),
        Case("ztxt-bomb", "text.png", ztxt_bomb_png(), refused(DAMAGED),
             "a PNG whose zTXt comment inflates to 50 MB: Pillow stops past 1 MB"),
        # -- extreme shapes
        Case("1x1", "dot.png", encoded(Image.new("RGB", (1, 1), (200, 30, 40)), "PNG"),
             image(1, 1), "a single pixel"),
        Case("1x5000", "pole.png", encoded(photo((1, 5000)), "PNG"), image(1, CAP),
             "one pixel wide, 5000 tall"),
        Case("5000x1", "line.png", encoded(photo((5000, 1)), "PNG"), image(CAP, 1),
             "5000 wide, one pixel tall"),
        # -- modes
        Case("rgb-16bit-png", "deep.png", sixteen_bit_rgb_png(), image(*full),
             "48-bit RGB PNG"),
        Case("i16-png", "deep-grey.png",
             encoded(Image.fromarray(np.asarray(cat.convert("L"), np.uint16) * 257), "PNG"),
             image(*full), "16-bit greyscale (I;16) PNG"),
        Case("cmyk-jpeg", "print.jpg", encoded(cat.convert("CMYK"), "JPEG", quality=90),
             image(*full), "CMYK JPEG"),
        Case("cmyk-tiff", "print.tif", encoded(cat.convert("CMYK"), "TIFF"), image(*full),
             "CMYK TIFF"),
        Case("float-tiff", "float.tif",
             encoded(Image.fromarray(np.asarray(cat.convert("L"), np.float32) / 255), "TIFF"),
             image(*full), "32-bit float greyscale TIFF"),
        Case("palette-transparency", "sticker.png", palette_with_transparency(), image(*full),
             "palette PNG with a transparent colour"),
        Case("la-png", "grey-alpha.png", encoded(cat.convert("LA"), "PNG"), image(*full),
             "greyscale with alpha"),
        Case("rgba-png", "alpha.png", encoded(cat.convert("RGBA"), "PNG"), image(*full),
             "RGBA PNG"),
        Case("1bit-png", "bilevel.png", encoded(cat.convert("1"), "PNG"), image(*full),
             "1-bit PNG"),
        Case("bmp", "cat.bmp", encoded(cat, "BMP"), image(*full), "Windows bitmap"),
        Case("progressive-jpeg", "prog.jpg", encoded(cat, "JPEG", progressive=True),
             image(*full), "progressive JPEG"),
        # -- metadata, animation, polyglots, names
        Case("exif-rotated", "portrait.jpg", exif_rotated_jpeg(), image(80, 120),
             "EXIF orientation 6: a 120×80 JPEG shown as 80×120"),
        Case("bad-exif", "odd.jpg", bad_exif_jpeg(), image(*full), "garbage EXIF segment"),
        Case("animated-gif-500", "anim.gif", animated("GIF", 500, (32, 24)), image(32, 24),
             "a 500-frame animated GIF (the first frame is painted)"),
        Case("animated-webp-500", "anim.webp", animated("WEBP", 500, (32, 24)), image(32, 24),
             "a 500-frame animated WebP (the first frame is painted)"),
        Case("polyglot-gif-html-zip", "innocent.gif", gif_html_zip_polyglot(), image(*full),
             "a valid GIF that is also HTML and a zip"),
        Case("long-name", "c" * 246 + ".png", png, image(*full), "a 250-character file name"),
        # -- Discord's claims lie
        Case("says-png-is-html", "cat.png", html, refused(NOT_AN_IMAGE),
             "Discord says image/png with dimensions; the bytes are HTML",
             claims={"content_type": "image/png", "width": 120, "height": 80}),
        Case("says-png-is-zip", "cat.png", zip_bytes({"a.txt": b"a"}), refused(NOT_AN_IMAGE),
             "Discord says image/png; the bytes are a zip",
             claims={"content_type": "image/png"}),
        Case("says-text-is-png", "cat.png", png, image(*full),
             "Discord says text/plain about a real PNG: the bot believes it and refuses",
             claims={"content_type": "text/plain"},
             bot=refused(r"The photo is not an image \(it is a text file\)\.")),
        Case("says-small-is-bomb", "bomb.png", png_claiming(60_000, 60_000), refused(BOMB),
             "Discord says 64×64 and 100 bytes; the header claims 60000×60000",
             claims={"width": 64, "height": 64, "size": 100}),
        Case("says-size-1", "cat.jpg", jpeg, image(*full),
             "Discord says the file is 1 byte; it is a normal JPEG", claims={"size": 1}),
        Case("says-huge-size", "cat.jpg", jpeg, image(*full),
             "Discord says 2 GB; the bot refuses before downloading",
             claims={"size": 2 * 1024**3},
             bot=refused(r"The photo is 2048 MB; the limit is 25 MB\.")),
        Case("says-wrong-dimensions", "cat.jpg", jpeg, image(*full),
             "Discord says 1×9999; the real size decides the output",
             claims={"width": 1, "height": 9_999}),
        Case("says-too-many-pixels", "cat.jpg", jpeg, image(*full),
             "Discord says 9000×6000 of a small JPEG: the bot refuses before downloading",
             claims={"width": 9_000, "height": 6_000},
             bot=refused(r"The photo is 9000×6000 pixels, more than the limit of "
                         r"40 megapixels\.")),
    ]
    names = [case.name for case in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    return tuple(cases)


# -- the animation corpus (issue 12) ------------------------------------------------------------

VIDEO_DAMAGED = r"The video is damaged or incomplete\."
NO_PICTURE = r"The video has no picture to paint \(only sound\)\."


def _clip_frames(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    from tests.imaging.animation.clips import moving_frames

    return moving_frames(count, size)


def four_k_60fps(frames: int = 30) -> bytes:
    """Half a second of 3840x2160 at 60 fps (H.264): decoded, scaled down, halved to 30 fps."""
    from tests.imaging.animation.clips import video

    base = np.asarray(_chelsea().resize((3840, 2160), Image.Resampling.BILINEAR))
    images = []
    for index in range(frames):
        frame = base.copy()
        frame[800:1200, index * 40:index * 40 + 400] = (230, 30, 40)
        images.append(frame)
    return video(images, "mp4", fps=60)


@lru_cache(maxsize=1)
def build_animation_corpus() -> tuple[Case, ...]:
    """Hostile animations for `stylebot stylize ... -o painted.gif|.mp4` (about 5 s to build)."""
    from tests.imaging.animation.clips import audio_only, long_gif, pillow_animation, video

    frames = _clip_frames(8, (96, 64))
    gif = pillow_animation(frames, "GIF", durations=60)
    mp4 = video(frames, "mp4", fps=20)
    screen = bytearray(gif)
    screen[6:10] = struct.pack("<HH", 30_000, 30_000)
    cases = [
        Case("anim-control-gif", "clip.gif", gif, animation(96, 64, 8),
             "an ordinary 8-frame GIF", output="painted.gif"),
        Case("anim-control-apng", "clip.png", pillow_animation(frames, "PNG", durations=60),
             animation(96, 64, 8), "an 8-frame APNG", output="painted.gif"),
        Case("anim-control-webp", "clip.webp", pillow_animation(frames, "WEBP", durations=60),
             animation(96, 64, 8), "an 8-frame animated WebP", output="painted.webp"),
        Case("anim-gif-10000-frames", "long.gif", long_gif(10_000), animation(
            16, 12, 120, "painted the first 120 frames of 10000"),
             "a GIF of 10 000 frames (8 MB): trimmed to limits.max_frames, streamed",
             output="painted.gif"),
        Case("anim-gif-zero-durations", "fast.gif", pillow_animation(frames, "GIF", durations=0),
             animation(96, 64, 8, "8 frames without a duration shown for 0.1 s"),
             "every frame with a zero duration: shown 100 ms each, as browsers do",
             output="painted.gif"),
        Case("anim-gif-screen-30000x30000", "bomb.gif", bytes(screen), refused(BOMB),
             "an animated GIF whose logical screen claims 30000x30000", output="painted.gif"),
        Case("anim-gif-truncated", "cut.gif", gif[: len(gif) * 2 // 3], refused(DAMAGED),
             "two thirds of an animated GIF", output="painted.gif"),
        Case("anim-mp4-cut-in-half", "cut.mp4", half(mp4), refused(VIDEO_DAMAGED),
             "the first half of an MP4 (its index is at the end)", output="painted.mp4"),
        Case("anim-mp4-faststart-cut", "cut.mp4", half(video(frames, "mp4", faststart=True)),
             refused(VIDEO_DAMAGED), "the first half of a faststart MP4: fewer frames than "
             "its index promises", output="painted.mp4"),
        Case("anim-mp4-audio-only", "sound.mp4", audio_only(), refused(NO_PICTURE),
             "an MP4 with a sound track and no video", output="painted.mp4"),
        Case("anim-4k-60fps", "uhd.mp4", four_k_60fps(), animation(
            CAP, 72, 15, "60 fps reduced to 30"),
             "half a second of 4K at 60 fps: scaled down while decoding, every other frame",
             output="painted.mp4"),
        Case("anim-mp4-named-gif", "clip.gif", mp4, animation(96, 64, 8),
             "an MP4 whose name says GIF: read by its content", output="painted.gif"),
        Case("anim-webm-333x517", "odd.webm",
             video(_clip_frames(8, (333, 517)), "webm", fps=20), animation(82, CAP, 8),
             "a VP9 WebM of odd size 333x517 (even-padded for H.264)", output="painted.mp4"),
    ]
    names = [case.name for case in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    return tuple(cases)
