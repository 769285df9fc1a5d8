"""MP4 (H.264 by libx264, through PyAV) and animated WebP (libwebp) written frame by frame."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bot.errors import ImageError
from bot.imaging.animation.clip import RoundedTimeline

MP4_CRF = 20
#: libx264's fastest preset: on the benchmark's steadied clip (480x270, 72 frames) 0.51 ms a
#: frame against 0.78 for "veryfast", for a file 2.3x larger (209 against 91 KiB) that is also
#: closer to the frames (PSNR 33.0 against 31.6 dB) at the same CRF. It runs beside the engine,
#: where every CPU-millisecond costs wall time, and a few hundred KiB upload in no time.
_MP4_PRESET = "ultrafast"
#: libx264 on one thread: it runs on the helper thread beside the engine, which keeps both
#: cores busy; its own threads cost ~20 % more CPU for the same bytes (480x270, 72 frames).
_MP4_THREADS = 1
#: MP4 timestamps count in 1/90000 s, MPEG's clock: 24, 25, 30 and 30000/1001 fps are whole
#: ticks, and any frame's duration (in ms) is kept to 1/90 ms.
_MP4_CLOCK = 90_000
WEBP_QUALITY = 80
#: libwebp's effort, 0-6: 0 takes 25 % less time than 2 for files ~20 % larger (steadied
#: 480x270 clip from a GIF: 1.44 against 1.91 ms a frame, 338 against 281 KiB, PSNR 31.2 against
#: 31.0 dB); 2 took half the time of 4 for files ~4 % larger.
WEBP_METHOD = 0
#: libwebp's animation encoder by default tries every 3rd-5th frame also as a whole key frame
#: (kmin 3, kmax 5) and keeps the smaller: on a steadied clip, whose frames differ only where
#: something moved, that is 3x the encoding time for a file 4x larger (480x270, 72 frames:
#: 654 -> 157 KiB, PSNR 31.2 -> 31.1 dB). kmax 0 turns key frames off (kmin 3 is then
#: ignored; it is what Pillow's save passes).
_WEBP_KMIN, _WEBP_KMAX = 3, 0


def even_frame(pixels: np.ndarray) -> np.ndarray:
    """Pad an odd width or height by repeating the last column or row (H.264 4:2:0 needs even)."""
    height, width = pixels.shape[:2]
    extra = ((0, height % 2), (0, width % 2), (0, 0))
    return np.pad(pixels, extra, mode="edge") if height % 2 or width % 2 else pixels


class Mp4Writer:
    """H.264 (libx264), yuv420p, even sides, the index first (faststart) for inline play.

    Frames are encoded as they are added; FFmpeg's faststart pass re-reads the file when it is
    closed, so it is written to a temporary file. The frame rate given to the encoder is the
    first frame's; every frame's own duration is kept in its timestamp.
    """

    def __init__(self, crf: int = MP4_CRF) -> None:
        self._crf = crf
        self._folder: str | None = None
        self._container: Any = None
        self._stream: Any = None
        self._start_ms = 0.0
        self._ticks: dict[int, int] = {}  # frame's timestamp -> its duration, until muxed

    def _open(self, pixels: np.ndarray, duration: float) -> None:
        import av  # FFmpeg's bindings cost ~70 ms to import: only when an MP4 is written

        height, width = pixels.shape[:2]
        self._folder = tempfile.mkdtemp(prefix="stylebot-")
        path = Path(self._folder) / "clip.mp4"
        self._container = av.open(str(path), "w", format="mp4", options={"movflags": "faststart"})
        rate = Fraction(1000.0 / duration).limit_denominator(1001)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self._crf), "preset": _MP4_PRESET,
                          "threads": str(_MP4_THREADS)}
        stream.codec_context.time_base = Fraction(1, _MP4_CLOCK)
        self._stream = stream

    def add(self, pixels: np.ndarray, duration: float) -> None:
        """Encode one HxWx3 uint8 frame shown for `duration` milliseconds."""
        import av

        try:
            if self._stream is None:
                self._open(pixels, duration)
            frame = av.VideoFrame.from_ndarray(even_frame(pixels), format="rgb24")
            frame.pts = round(self._start_ms * _MP4_CLOCK / 1000)
            self._start_ms += duration
            self._ticks[frame.pts] = round(self._start_ms * _MP4_CLOCK / 1000) - frame.pts
            frame.time_base = self._stream.codec_context.time_base
            self._mux(self._stream.encode(frame))
        except av.FFmpegError as exc:
            self.close()
            raise ImageError("The animation could not be encoded as MP4.") from exc

    def _mux(self, packets: list[Any]) -> None:
        """Write packets, each with its frame's duration (libx264 leaves it unset, and the
        muxer would give the last frame the one before's)."""
        for packet in packets:
            packet.duration = self._ticks.pop(packet.pts, packet.duration)
        self._container.mux(packets)

    def finish(self) -> bytes:
        """The whole MP4: the encoder flushed, the file closed (faststart), its bytes."""
        import av

        if self._stream is None or self._folder is None:
            raise ValueError("a clip needs at least one frame")
        try:
            self._mux(self._stream.encode(None))
            self._container.close()
            self._container = None
            return (Path(self._folder) / "clip.mp4").read_bytes()
        except av.FFmpegError as exc:
            raise ImageError("The animation could not be encoded as MP4.") from exc
        finally:
            self.close()

    def close(self) -> None:
        """Drop the encoder and its temporary file."""
        if self._container is not None:
            container, self._container = self._container, None
            with contextlib.suppress(Exception):  # a half-written file is thrown away anyway
                container.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _anim_encoder(size: tuple[int, int], loop: int) -> Any:
    """Pillow's binding of libwebp's WebPAnimEncoder, or None if this Pillow's differs.

    Pillow's public API encodes an animated WebP only from all its frames at once; its
    encoder object (`PIL._webp.WebPAnimEncoder`, what `Image.save` uses) takes them one at a
    time. Its arguments changed between Pillow versions, so any other binding falls back to
    the public whole-clip save.
    """
    try:
        from PIL import _webp

        background = 0  # packed ARGB, as Pillow's save; every frame is opaque anyway
        return _webp.WebPAnimEncoder(size, background, loop, False, _WEBP_KMIN, _WEBP_KMAX,
                                     False, False)
    except (ImportError, AttributeError, TypeError):
        return None


class WebpWriter:
    """Animated WebP (quality 80, method 0, no key frames): each frame after the first is the
    rectangle that changed. Frames are compressed as they are added (libwebp's animation
    encoder through Pillow); timestamps are whole milliseconds on the running total."""

    def __init__(self, loop: int | None) -> None:
        self._loop = 1 if loop is None else loop
        self._encoder: Any = None
        self._frames: list[Image.Image] | None = None  # only without the encoder object
        self._durations: list[int] = []
        self._timeline = RoundedTimeline(1.0)

    def add(self, pixels: np.ndarray, duration: float) -> None:
        """Compress one HxWx3 uint8 frame shown for `duration` milliseconds."""
        frame = Image.fromarray(pixels)
        if self._encoder is None and self._frames is None:
            self._encoder = _anim_encoder(frame.size, self._loop)
            if self._encoder is None:
                self._frames = []
        if self._encoder is not None:
            self._encoder.add(frame.getim(), self._timeline.shown, False, WEBP_QUALITY, 100,
                              WEBP_METHOD)
        else:
            assert self._frames is not None
            self._frames.append(frame)
        self._durations.append(self._timeline.next(duration))

    def finish(self) -> bytes:
        """The whole animated WebP."""
        if self._encoder is not None:
            self._encoder.add(None, self._timeline.shown, False, WEBP_QUALITY, 100, 0)
            data = self._encoder.assemble("", "", "")  # no ICC profile, Exif, XMP
            self._encoder = None
            if data is None:
                raise ImageError("The animation could not be encoded as WebP.")
            return bytes(data)
        if not self._frames:
            raise ValueError("a clip needs at least one frame")
        buffer = io.BytesIO()
        self._frames[0].save(
            buffer, "WEBP", save_all=True, append_images=self._frames[1:],
            duration=self._durations, loop=self._loop, quality=WEBP_QUALITY,
            method=WEBP_METHOD, kmax=_WEBP_KMAX,
        )
        self._frames = None
        return buffer.getvalue()

    def close(self) -> None:
        """Drop the encoder and any frames held."""
        self._encoder, self._frames = None, None
