"""One animation job: frames streamed in, painted with one style vector, steadied, then encoded."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from PIL import Image

from bot.engine import Engine, WeightedStyle
from bot.imaging.animation import (
    Animation,
    FittedAnimation,
    Frame,
    PaintedClip,
    Steadier,
    encode_animation,
    encode_to_fit,
)
from bot.imaging.animation.encode import ClipWriter, clip_writer
from bot.stylization import StylizeOptions, paint_frames

T = TypeVar("T")
#: progress(frames painted so far, frames expected in all)
Progress = Callable[[int, int], None]
DECODE_AHEAD = 2  # frames the helper decodes ahead of the ones the engine has taken
KEEP_SLACK = 2  # painted frames that may wait for the helper to steady and encode them


@dataclass
class AnimationResult:
    """A painted animation, kept as frames so it can be encoded in any format or to fit."""

    clip: PaintedClip
    kind: str  # what came in: "GIF", "APNG", "WebP", "MP4", "MOV", "WebM", "Matroska"
    total: int | None  # frames in the source, when known
    note: str  # what was left out or changed ("" if nothing), e.g. "painted the first 120 ..."
    encoded: dict[str, bytes] = field(default_factory=dict)  # written while painted, by format

    @property
    def frames(self) -> int:
        return len(self.clip)

    @property
    def seconds(self) -> float:
        return self.clip.seconds

    @property
    def size(self) -> tuple[int, int]:
        return self.clip.size

    def encode(self, fmt: str) -> bytes:
        """The animation as "GIF", "MP4" or "WEBP" bytes (already written if painted with
        `encode_as` = fmt)."""
        ready = self.encoded.get(fmt.upper())
        return ready if ready is not None else encode_animation(self.clip, fmt)

    def encode_to_fit(self, max_bytes: int) -> FittedAnimation:
        """GIF if it fits in `max_bytes`, else MP4, else a smaller MP4: never refused for size."""
        return encode_to_fit(self.clip, max_bytes, encoded=self.encoded)


class InPlace:
    """An executor that runs each task at once on the calling thread (no overlap)."""

    def submit(self, fn: Callable[..., T], /, *args: object) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as exc:  # handed over, as a thread's future would
            done.set_exception(exc)
        return done

    def shutdown(self) -> None:
        pass


def paint_animation(
    engine: Engine,
    animation: Animation,
    styles: Sequence[WeightedStyle],
    options: StylizeOptions,
    *,
    progress: Progress | None = None,
    steady: bool = True,
    overlap: bool = True,
    encode_as: str | None = None,
) -> AnimationResult:
    """Paint every frame `animation` gives (already trimmed, paced and capped in size).

    The style vector is computed once and every frame has one size, so one compiled shape
    serves the whole clip; the lite engine paints several frames at once, one per stream of
    its network (`stylization.paint_frames`). With `steady`, areas whose input did not change
    keep their painting (see Steadier). One helper thread decodes frames ahead (DECODE_AHEAD)
    and steadies the painted ones (at most KEEP_SLACK waiting); decoding and steadying are C
    code that lets go of the GIL. With `encode_as` ("GIF", "MP4" or "WEBP") the helper also
    encodes each frame once it is steadied, so little is left to do after the last one
    (`result.encode(encode_as)`). `overlap=False` decodes, steadies and encodes on the calling
    thread in turn with the painting (for the benchmark).
    Raises ImageError (one sentence) if the input turns out damaged part-way.
    """
    clip = PaintedClip(loop=animation.loop)
    steadier = Steadier() if steady else None
    expected = animation.expected_frames()
    frames = animation.frames()
    # a GIF's palette comes from the first half of the clip (see gif_writer.palette_of)
    writer: ClipWriter | None = None if encode_as is None else clip_writer(
        encode_as, animation.loop, palette_frames=max(1, expected // 2))

    def keep(frame: Frame, painted: Image.Image) -> None:
        shown = painted if steadier is None else steadier(frame.picture, painted)
        pixels = np.asarray(shown, dtype=np.uint8)  # read-only: nothing writes into frames
        clip.append(pixels, frame.duration)
        if writer is not None:
            writer.add(pixels, frame.duration)

    helper = ThreadPoolExecutor(1, thread_name_prefix="stylebot-frames") if overlap else InPlace()

    def decoded() -> Iterator[Frame]:
        """The frames, decoded by the helper DECODE_AHEAD ahead of the engine's taking them."""
        ahead = deque(helper.submit(next, frames, None) for _ in range(DECODE_AHEAD))
        while (frame := ahead.popleft().result()) is not None:
            ahead.append(helper.submit(next, frames, None))
            yield frame

    kept: deque[Future[None]] = deque()
    try:
        # closed before the frames are: the engine finishes the frames it is painting first
        with contextlib.closing(paint_frames(engine, styles, options, decoded())) as painting:
            for count, (frame, painted) in enumerate(painting, start=1):
                kept.append(helper.submit(keep, frame, painted))
                while len(kept) > KEEP_SLACK:
                    kept.popleft().result()  # raises what steadying an earlier frame raised
                if progress is not None:
                    expected = max(expected, count)
                    progress(count, expected)
        for pending in kept:
            pending.result()
        encoded = {} if writer is None or encode_as is None else {
            encode_as.upper(): writer.finish()}
    finally:
        # the helper alone ever runs the frames' generator: it closes it too (closing the file)
        helper.submit(frames.close).result()
        helper.shutdown()
        if writer is not None:
            writer.close()
    if progress is not None and expected != len(clip):
        progress(len(clip), len(clip))
    return AnimationResult(clip, animation.kind, animation.total_frames, animation.note(),
                           encoded)
