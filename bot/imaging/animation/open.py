"""Open an animation from untrusted bytes: what it is, its size and timing, its frames streamed."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Generator, Iterator

from PIL import Image

from bot.errors import ImageError, ImageTooLarge
from bot.imaging.animation.clip import DEFAULT_FRAME_MS, AnimationLimits, Frame
from bot.imaging.animation.pillow_frames import (
    KIND_NAMES,
    frame_count,
    loop_count,
    open_animated,
    pillow_frames,
)
from bot.imaging.animation.sniff import VideoKind, looks_like_video
from bot.imaging.animation.timing import Pacing, SourceFrame, paced
from bot.imaging.animation.video_frames import (
    first_frame,
    open_video,
    rotation_of,
    upright_size,
    video_frames,
)
from bot.imaging.limits import ImageLimits, describe_pixels


class Animation:
    """An opened animation. Its frames can be read once, as a stream: at most
    `limits.max_frames` frames covering at most `limits.max_seconds`, at most `limits.max_fps`,
    each RGB at `size` (the long side capped). `note()` then says what was left out.
    """

    def __init__(
        self,
        kind: str,
        source_size: tuple[int, int],
        size: tuple[int, int],
        sources: Iterator[SourceFrame],
        limits: AnimationLimits,
        *,
        total_frames: int | None,
        total_seconds: float | None,
        loop: int | None,
        closer: Callable[[], None],
        defaulted: list[int] | None = None,
        what: str = "photo",
    ) -> None:
        self.kind = kind
        self.source_size = source_size
        self.size = size
        self.limits = limits
        self.total_frames = total_frames
        self.total_seconds = total_seconds
        self.loop = loop
        self.pacing = Pacing()
        self._sources = sources
        self._closer = closer
        self._defaulted = defaulted if defaulted is not None else [0]
        self._what = what
        self._read = False

    def frames(self) -> Generator[Frame, None, None]:
        """The frames, paced and trimmed; damage anywhere raises ImageError (one sentence)."""
        if self._read:
            raise RuntimeError("an animation's frames can be read once")
        self._read = True
        try:
            yield from paced(self._sources, self.limits, self.pacing)
        except ImageError:
            raise
        except (OSError, ValueError, EOFError, SyntaxError, MemoryError) as exc:
            raise ImageError(f"The {self._what} is damaged or incomplete.") from exc
        finally:
            self.close()
        self.pacing.defaulted = self._defaulted[0]

    def expected_frames(self) -> int:
        """About how many frames `frames()` will give (for a progress bar)."""
        limit = self.limits.max_frames
        if self.total_seconds:
            seconds = min(self.total_seconds, self.limits.max_seconds)
            by_rate = math.ceil(seconds * self.limits.max_fps - 1e-9)
            if self.total_frames:
                by_rate = min(by_rate, self.total_frames)
            return max(1, min(limit, by_rate))
        return max(1, min(limit, self.total_frames or limit))

    def note(self) -> str:
        """What was left out or changed, for the one-line report ("" when nothing was)."""
        pacing = self.pacing
        parts = []
        rate_capped = pacing.dropped > 0
        if pacing.trimmed:
            total_s = self.total_seconds
            if pacing.trimmed == "frames" and not rate_capped and self.total_frames:
                parts.append(f"painted the first {pacing.kept} frames of {self.total_frames}")
            elif total_s:
                parts.append(f"painted the first {pacing.kept_ms / 1000:.1f} s of {total_s:.1f} s")
            else:
                parts.append(f"painted the first {pacing.kept_ms / 1000:.1f} s")
        if rate_capped and pacing.source_ms > 0:
            source_fps = pacing.decoded * 1000 / pacing.source_ms
            parts.append(f"{source_fps:.0f} fps reduced to {self.limits.max_fps:g}")
        if pacing.defaulted:
            parts.append(
                f"{pacing.defaulted} frame{'s' if pacing.defaulted != 1 else ''} without a "
                f"duration shown for {DEFAULT_FRAME_MS / 1000:g} s"
            )
        return "; ".join(parts)

    def close(self) -> None:
        self._closer()


def open_animation(
    data: bytes,
    limits: ImageLimits,
    animation_limits: AnimationLimits,
    *,
    max_side: int | None = None,
    what: str = "photo",
) -> Animation | None:
    """Open `data` as an animation (animated GIF, APNG or WebP; MP4, MOV or WebM video).

    Returns None for anything else, which the still-image path then decodes (or refuses) as
    before: the kind is told by the bytes, never by a file name. The long side is capped at
    `max_side` and `animation_limits.max_side`, whichever is smaller. Raises ImageError or
    ImageTooLarge (one sentence) for a damaged video, one without a picture, or one whose frames
    are over the pixel limit; the first frame is decoded here, so a file whose very first frame
    is damaged is refused before any painting.
    """
    if len(data) > limits.max_input_bytes:
        return None  # the still path refuses it with its sentence about bytes
    side = min(max_side or animation_limits.max_side, animation_limits.max_side)
    kind = looks_like_video(data)
    if kind is not None:
        return _open_video(data, kind.name, kind, limits, animation_limits, side)
    img = open_animated(data)
    if img is None:
        return None
    try:
        _check_pixels(img.size, limits, what)
        size = fitted_size(img.size, side)
        defaulted = [0]
        frames = pillow_frames(img, size, defaulted)
        first = _first(frames, what)
        return Animation(
            KIND_NAMES.get(img.format or "", img.format or "animation"), img.size, size,
            itertools.chain([first], frames), animation_limits,
            total_frames=frame_count(img), total_seconds=None, loop=loop_count(img),
            closer=img.close, defaulted=defaulted, what=what,
        )
    except ImageError:
        img.close()
        raise
    except (Image.DecompressionBombError, MemoryError) as exc:
        img.close()
        raise ImageTooLarge(f"The {what} has too many pixels to process safely.") from exc
    except Exception as exc:
        img.close()
        raise ImageError(f"The {what} is damaged or incomplete.") from exc


def _open_video(
    data: bytes, name: str, kind: VideoKind, limits: ImageLimits,
    animation_limits: AnimationLimits, side: int,
) -> Animation:
    video = open_video(data, kind)
    try:
        _check_pixels((video.width, video.height), limits, "video")
        first = first_frame(video)
        shown = upright_size(video.width, video.height, rotation_of(first))
        size = fitted_size(shown, side)
        total = video.frames
        if total is None and video.seconds and video.fps:
            total = round(video.seconds * video.fps)
        return Animation(
            name, shown, size, video_frames(video, first, size), animation_limits,
            total_frames=total, total_seconds=video.seconds, loop=0, closer=video.close,
            what="video",
        )
    except BaseException:
        video.close()
        raise


def _first(frames: Iterator[SourceFrame], what: str) -> SourceFrame:
    try:
        return next(frames)
    except StopIteration:
        raise ImageError(f"The {what} has no frames.") from None


def _check_pixels(size: tuple[int, int], limits: ImageLimits, what: str) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"The {what} has no pixels.")
    if width * height > limits.max_input_pixels:
        raise ImageTooLarge(
            f"The {what} is {width}×{height} pixels, more than the limit of "
            f"{describe_pixels(limits.max_input_pixels)}."
        )


def fitted_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` shrunk so its long side is at most `max_side` (never enlarged), as fit_long_side."""
    width, height = size
    long_side = max(width, height)
    if long_side <= max_side:
        return size
    scale = max_side / long_side
    return (min(max_side, max(1, math.floor(width * scale + 0.5))),
            min(max_side, max(1, math.floor(height * scale + 0.5))))


__all__ = ["Animation", "fitted_size", "open_animation"]
