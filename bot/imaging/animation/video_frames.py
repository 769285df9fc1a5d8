"""MP4, MOV and WebM frames decoded by PyAV (FFmpeg), one at a time; sound is ignored."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bot.errors import ImageError
from bot.imaging.animation.sniff import VideoKind
from bot.imaging.animation.timing import SourceFrame

#: Frame duration when a video gives no usable timestamps or rate (30 fps).
_FALLBACK_MS = 1000.0 / 30.0
#: A video may decode this many frames fewer than its index says (edit lists) and be whole.
_FRAMES_SLACK = 1


@dataclass
class VideoSource:
    """An opened video: its container, first video stream and what its headers say."""

    container: Any
    stream: Any
    width: int
    height: int
    frames: int | None  # as the container says, when it says
    seconds: float | None
    fps: float | None

    _decoder: Any = field(default=None, init=False, repr=False)

    def decoded(self) -> Iterator[Any]:
        """The one iterator of decoded frames (shared by every caller)."""
        if self._decoder is None:
            self._decoder = iter(self.container.decode(self.stream))
        return self._decoder

    def close(self) -> None:
        self.container.close()


def open_video(data: bytes, kind: VideoKind) -> VideoSource:
    """Open `data` with the demuxer of `kind`; refuse it if it is damaged or has no picture."""
    import av  # FFmpeg's bindings cost ~70 ms to import: only when a video comes

    try:
        container = av.open(io.BytesIO(data), mode="r", format=kind.demuxer)
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise damaged() from exc
    try:
        if not container.streams.video:
            sound = " (only sound)" if container.streams.audio else ""
            raise ImageError(f"The video has no picture to paint{sound}.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        context = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        seconds = None
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration:
            seconds = container.duration / 1_000_000
        return VideoSource(
            container, stream, int(context.width), int(context.height),
            int(stream.frames) or None, seconds, float(rate) if rate else None,
        )
    except BaseException:
        container.close()
        raise


def damaged() -> ImageError:
    return ImageError("The video is damaged or incomplete.")


def first_frame(video: VideoSource) -> Any:
    """Decode the video's first frame (which tells its rotation); refuse a video without one."""
    import av

    try:
        return next(video.decoded())
    except StopIteration:
        raise damaged() from None
    except av.FFmpegError as exc:
        raise damaged() from exc


def rotation_of(frame: Any) -> int:
    """The frame's display rotation in degrees (phones record portrait clips on their side)."""
    return int(getattr(frame, "rotation", 0) or 0)


def video_frames(video: VideoSource, first: Any, size: tuple[int, int]) -> Iterator[SourceFrame]:
    """`first`, then every further frame, with its duration; pixels RGB at `size` on load.

    A frame's duration is the gap to the next frame's timestamp, so one frame is held back.
    FFmpeg's errors mid-stream become "damaged or incomplete".
    """
    import av

    fallback = 1000.0 / video.fps if video.fps else _FALLBACK_MS
    previous, count = first, 1
    try:
        for frame in video.decoded():
            yield SourceFrame(_gap(previous, frame, fallback), _loader(previous, size))
            previous = frame
            count += 1
    except av.FFmpegError as exc:
        raise damaged() from exc
    if video.frames and count < video.frames - _FRAMES_SLACK:
        raise damaged()  # the index promised more: the file was cut short
    own = previous.duration * previous.time_base * 1000 if previous.duration else 0
    yield SourceFrame(float(own) if own > 0 else fallback, _loader(previous, size))


def _gap(frame: Any, following: Any, fallback: float) -> float:
    if frame.time is None or following.time is None:
        return fallback
    gap = (following.time - frame.time) * 1000.0
    return gap if gap > 0 else fallback


def upright_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """The frame's size as shown, after the container's rotation."""
    return (height, width) if rotation % 180 else (width, height)


#: Counter-clockwise quarter turns -> Pillow's transpose.
_TURNS = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180,
          3: Image.Transpose.ROTATE_270}


def _loader(frame: Any, size: tuple[int, int]) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        quarter_turns = round(rotation_of(frame) / 90) % 4
        width, height = size if quarter_turns % 2 == 0 else size[::-1]
        rgb = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
        picture = Image.fromarray(rgb.to_ndarray())  # 2x faster than PyAV's to_image()
        if quarter_turns:
            picture = picture.transpose(_TURNS[quarter_turns])
        return picture

    return load
