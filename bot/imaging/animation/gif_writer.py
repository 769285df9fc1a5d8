"""A GIF written frame by frame: one palette from the first frames, ordered dither, deltas."""

from __future__ import annotations

import inspect
import os
import struct
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import numpy as np
from PIL import GifImagePlugin, Image, ImageChops

from bot.imaging.animation.clip import RoundedTimeline

#: Colours of the palette; index 255 is left for "unchanged since the frame before".
_COLOURS = 255
_UNCHANGED = 255
#: Colours every palette has besides the clip's own: the corners of the RGB cube.
_CORNERS = [level for r in (0, 255) for g in (0, 255) for b in (0, 255) for level in (r, g, b)]
#: Frames written for each frame added once the palette is made: the new one and one waiting.
_CATCH_UP = 2
#: Pixels sampled for the palette, from all the frames it is made from.
_PALETTE_SAMPLE = 1 << 14
#: Ordered-dither strength (in 0-255 levels, peak to peak). Ordered dithering maps a pixel to
#: the same colour in every frame where it is unchanged, so still areas do not crawl as they
#: do with error diffusion; 16 levels hides the banding of a 256-colour palette.
_DITHER_LEVELS = 16.0
_BAYER = np.array(
    [[0, 32, 8, 40, 2, 34, 10, 42], [48, 16, 56, 24, 50, 18, 58, 26],
     [12, 44, 4, 36, 14, 46, 6, 38], [60, 28, 52, 20, 62, 30, 54, 22],
     [3, 35, 11, 43, 1, 33, 9, 41], [51, 19, 59, 27, 49, 17, 57, 25],
     [15, 47, 7, 39, 13, 45, 5, 37], [63, 31, 55, 23, 61, 29, 53, 21]], dtype=np.float32,
)
_DITHER = ((_BAYER + 0.5) / 64.0 - 0.5) * _DITHER_LEVELS
#: GIF delays are in hundredths of a second; browsers show 0 or 1 as 100 ms, so 2 is the least.
GIF_MIN_CENTISECONDS = 2
#: Graphic control "do not dispose": a frame's transparent pixels show the frame before.
_KEEP = 1


def dither_pattern(height: int, width: int) -> np.ndarray:
    """The ordered-dither offsets for a frame of this size (HxWx1 int16, -8..7).

    The offsets are whole levels, rounded down: a whole pixel plus a fractional offset,
    truncated to uint8, is the pixel plus the offset rounded down, so integer sums give the
    same bytes as float32 ones.
    """
    tiles = np.tile(np.floor(_DITHER).astype(np.int16), (-(-height // 8), -(-width // 8)))
    return np.ascontiguousarray(tiles[:height, :width, np.newaxis])


def dithered(pixels: np.ndarray, pattern: np.ndarray) -> Image.Image:
    """`pixels` (HxWx3 uint8) plus the dither offsets (`dither_pattern`), clipped to 0-255.

    In numpy, which lets go of the GIL in each pass: the writer runs on the helper thread
    beside the painting one, and Pillow's one-pass ImageChops.add held the GIL for 0.4 ms a
    frame (480x270), which the painting thread then waited for between the network's runs.
    """
    total = np.add(pixels, pattern, dtype=np.int16)
    np.clip(total, 0, 255, out=total)
    return Image.fromarray(total.astype(np.uint8))


def _frame_data_writer() -> Callable[[BinaryIO, Image.Image, tuple[int, int], dict[str, Any]],
                                     None] | None:
    """Pillow's GifImagePlugin._write_frame_data (one frame's header and LZW data written to a
    file), or None if this Pillow's differs (then GifImagePlugin.getdata, the public one).

    getdata writes into a BytesIO, and Pillow's encoder holds the GIL while it compresses into
    one (1.6 ms for a 480x270 frame); into a file with a descriptor it lets go of the GIL.
    """
    write = getattr(GifImagePlugin, "_write_frame_data", None)
    try:
        names = list(inspect.signature(write).parameters) if write is not None else []
    except (TypeError, ValueError):
        return None
    return write if names == ["fp", "im_frame", "offset", "params"] else None


_WRITE_FRAME_DATA = _frame_data_writer()


def _scratch_file() -> BinaryIO:
    """An unbuffered read-write file with a descriptor: in memory where Linux allows."""
    if hasattr(os, "memfd_create"):
        try:
            return os.fdopen(os.memfd_create("stylebot-gif"), "w+b", buffering=0)
        except OSError:
            pass
    return tempfile.TemporaryFile(buffering=0)


def palette_of(frames: Sequence[np.ndarray]) -> Image.Image:
    """255 colours for the whole clip: median cut over pixels sampled from `frames`, plus the
    8 corners of the colour cube (black, white, the primaries and secondaries), so that a
    colour none of them shows still has a near end to dither from.

    The clip's frames are painted with one style vector, hence share one set of colours:
    `paint_animation` takes the first half of the clip, which maps the frames as well as all
    of them do (benchmark's clip, 72 frames: PSNR 30.54 dB against 30.18 from all frames; with
    a cut to another photo halfway 30.53 against 30.37), and lets every frame after it be
    written as soon as it is painted. The first frame alone did as well on those, but a clip
    fading in from black over its first second was then mapped to its dark colours (16.5 dB,
    against 30.4 from the first half). Median cut over 16 384 pixels sampled from 36 frames
    takes 5 ms (4096 gave 29.5 dB).
    """
    per_frame = max(1, _PALETTE_SAMPLE // len(frames))
    samples = []
    for pixels in frames:
        flat = pixels.reshape(-1, 3)
        step = max(1, flat.shape[0] // per_frame) | 1  # odd: not the same columns every row
        samples.append(flat[::step])
    sample = np.concatenate(samples)
    width = 128
    rows = -(-sample.shape[0] // width)
    padded = np.resize(sample, (rows * width, 3))  # repeats a few sampled pixels to fill
    image = Image.fromarray(padded.reshape(rows, width, 3))
    adaptive = image.quantize(_COLOURS - len(_CORNERS) // 3, method=Image.Quantize.MEDIANCUT,
                              dither=Image.Dither.NONE)
    palette = Image.new("P", (1, 1))
    palette.putpalette((adaptive.getpalette() or []) + _CORNERS)
    return palette


def _header(size: tuple[int, int], palette: bytes, loop: int | None) -> bytes:
    width, height = size
    table = palette[: 3 * 256].ljust(3 * 256, b"\0")
    # global colour table of 256 entries (flags: table present, 8 bits, size 2^(7+1))
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0) + table
    if loop is not None:  # NETSCAPE2.0: repeat `loop` times, 0 = forever; none = play once
        head += b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\0"
    return head


class GifWriter:
    """Frames in, GIF bytes out: each frame is mapped and compressed as it is added.

    Every frame is mapped to one palette, made from the first `palette_frames` frames (`finish`
    makes it from fewer if the clip is shorter). Frames wait until then; afterwards each added
    frame is written with one waiting frame, so the backlog is gone by the end without a burst
    of work at any one frame. Ordered dithering maps a pixel that did not change to the same
    colour in every frame; pixels equal to the frame
    before are written as the transparent index (kept from the frame before), and only the box
    around what changed is written, so a steadied clip's still areas cost almost nothing to
    compress. A frame identical to the one before lengthens it instead. Delays are rounded to
    hundredths on the running total, so the clip keeps its length.
    """

    def __init__(self, loop: int | None, palette_frames: int = 1) -> None:
        self._out: BinaryIO | None = None  # opened with the header (see _scratch_file)
        self._loop = loop
        self._palette_frames = max(1, palette_frames)
        self._waiting: deque[tuple[np.ndarray, float]] = deque()  # frames not written yet
        self._palette: Image.Image | None = None
        self._pattern: np.ndarray | None = None
        self._previous: Image.Image | None = None  # the last frame's palette indices
        self._pending: tuple[Image.Image, tuple[int, int], int] | None = None  # frame, offset, cs
        self._timeline = RoundedTimeline(10.0, GIF_MIN_CENTISECONDS)

    def add(self, pixels: np.ndarray, duration: float) -> None:
        """Map and compress one HxWx3 uint8 frame shown for `duration` milliseconds (the
        array is kept, not copied, until the palette is made: it must not change)."""
        self._waiting.append((pixels, duration))
        if self._palette is None:
            if len(self._waiting) >= self._palette_frames:
                self._start()
            return
        for _ in range(min(_CATCH_UP, len(self._waiting))):
            self._write(*self._waiting.popleft())

    def _start(self) -> None:
        """Make the palette from the waiting frames and write the header."""
        self._palette = palette_of([pixels for pixels, _ in self._waiting])
        height, width = self._waiting[0][0].shape[:2]
        self._pattern = dither_pattern(height, width)
        colours = self._palette.getpalette() or []
        self._out = _scratch_file()
        self._out.write(_header((width, height), bytes(colours), self._loop))

    def _write(self, pixels: np.ndarray, duration: float) -> None:
        assert self._pattern is not None
        indices = dithered(pixels, self._pattern).quantize(
            palette=self._palette, dither=Image.Dither.NONE)
        ticks = self._timeline.next(duration)
        if self._previous is None:
            written, offset = indices, (0, 0)
        else:
            delta = ImageChops.subtract_modulo(indices, self._previous)
            box = delta.getbbox(alpha_only=False)
            if box is None and self._pending is not None:  # the same picture: show it longer
                image, at, shown = self._pending
                self._pending = (image, at, shown + ticks)
                return
            box = box or (0, 0, 1, 1)
            unchanged = delta.crop(box).point([255] + [0] * 255, "1")
            written = indices.crop(box)
            written.paste(_UNCHANGED, mask=unchanged)
            offset = box[:2]
        self._previous = indices
        self._flush()
        self._pending = (written, offset, ticks)

    def _flush(self) -> None:
        if self._pending is None:
            return
        image, offset, ticks = self._pending
        assert self._out is not None
        params = {"duration": 10 * ticks, "transparency": _UNCHANGED, "disposal": _KEEP}
        if _WRITE_FRAME_DATA is not None:
            _WRITE_FRAME_DATA(self._out, image, offset, params)
        else:
            for chunk in GifImagePlugin.getdata(image, offset, **params):
                self._out.write(chunk)
        self._pending = None

    def finish(self) -> bytes:
        """The whole GIF (the last frame written, then the trailer)."""
        if self._palette is None and self._waiting:
            self._start()
        if self._palette is None:
            raise ValueError("a clip needs at least one frame")
        while self._waiting:
            self._write(*self._waiting.popleft())
        self._flush()
        assert self._out is not None
        self._out.write(b";")
        self._out.seek(0)
        data = self._out.read()
        self.close()
        return data

    def close(self) -> None:
        """Drop what was written and the frames waiting for the palette."""
        out, self._out, self._waiting = self._out, None, deque()
        if out is not None:
            out.close()
