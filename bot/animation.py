"""One animation job: frames streamed in, painted with one style vector, steadied, then encoded."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
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
from bot.stylization import StylizeOptions, frame_painter

T = TypeVar("T")
#: progress(frames painted so far, frames expected in all)
Progress = Callable[[int, int], None]
#: How long the helper thread waits at most for the network to finish before working anyway.
HELPER_PATIENCE = 0.25
DECODE_AHEAD = 2  # frames the helper decodes ahead of the one being painted
KEEP_SLACK = 2  # painted frames that may wait for the helper to steady and encode them


class InferenceWindow:
    """Entered by the painting thread for exactly the network's run; the helper thread waits
    for it to close before each step. The network runs on every core, so a helper step during
    it holds one of its threads back and the others wait at the next barrier: the step's whole
    time is added to the frame's. Between runs (the conversions before and after, on one
    thread) a core is free, and the helper's steps cost no wall time there."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = False

    def __enter__(self) -> None:
        with self._changed:
            self._running = True

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._running = False
            self._changed.notify_all()

    def wait_closed(self, timeout: float = HELPER_PATIENCE) -> None:
        """Return once the network is not running (or after `timeout` seconds regardless)."""
        with self._changed:
            self._changed.wait_for(lambda: not self._running, timeout)


class Pacing:
    """When the helper thread takes its next step: between the network's runs while it is
    ahead (DECODE_AHEAD frames decoded, at most KEEP_SLACK painted frames waiting for it), at
    once when the painting thread would otherwise soon wait for it. The counts are written by
    one thread each; a stale read only makes a step wait or hurry once."""

    def __init__(self, window: InferenceWindow | None) -> None:
        self.window = window
        self.decoded = 0  # by the helper
        self.kept = 0  # by the helper
        self.painted = 0  # by the painting thread

    def behind(self) -> bool:
        return (self.decoded < self.painted + DECODE_AHEAD
                or self.painted - self.kept >= KEEP_SLACK)

    def wait_turn(self) -> None:
        """Before a helper step: wait for the network's run to end, unless behind."""
        if self.window is not None and not self.behind():
            self.window.wait_closed()


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
    serves the whole clip. With `steady`, areas whose input did not change keep their painting
    (see Steadier). One helper thread decodes frames ahead (DECODE_AHEAD) and steadies the
    painted ones (at most KEEP_SLACK waiting); decoding and steadying are C code that lets go
    of the GIL. Its steps wait while the network runs, unless it falls behind (Pacing): the
    network uses every core, so a step beside it would add its whole time to the frame's.
    With `encode_as` ("GIF", "MP4" or "WEBP") the helper also encodes each frame once it is
    steadied, so little is left to do after the last one (`result.encode(encode_as)`).
    `overlap=False` does all of it in turn on the calling thread (for the benchmark).
    Raises ImageError (one sentence) if the input turns out damaged part-way.
    """
    clip = PaintedClip(loop=animation.loop)
    steadier = Steadier() if steady else None
    paint: Callable[[Image.Image], Image.Image] | None = None
    expected = animation.expected_frames()
    frames = animation.frames()
    # a GIF's palette comes from the first half of the clip (see gif_writer.palette_of)
    writer: ClipWriter | None = None if encode_as is None else clip_writer(
        encode_as, animation.loop, palette_frames=max(1, expected // 2))

    # the helper's steps wait while the network runs, unless behind (InferenceWindow, Pacing)
    window = InferenceWindow() if overlap else None
    pacing = Pacing(window)

    def decode() -> Frame | None:
        pacing.wait_turn()
        frame = next(frames, None)
        if frame is not None:
            pacing.decoded += 1
        return frame

    def keep(frame: Frame, painted: Image.Image) -> None:
        pacing.wait_turn()
        shown = painted if steadier is None else steadier(frame.picture, painted)
        pixels = np.asarray(shown, dtype=np.uint8)  # read-only: nothing writes into frames
        clip.append(pixels, frame.duration)
        if writer is not None:
            pacing.wait_turn()
            writer.add(pixels, frame.duration)
        pacing.kept += 1

    helper = ThreadPoolExecutor(1, thread_name_prefix="stylebot-frames") if overlap else InPlace()
    kept: deque[Future[None]] = deque()
    try:
        ahead = deque(helper.submit(decode) for _ in range(DECODE_AHEAD))
        painted_count = 0
        while (frame := ahead.popleft().result()) is not None:
            ahead.append(helper.submit(decode))  # more frames, while this one is painted
            if paint is None:
                paint = frame_painter(engine, styles, options, frame.picture, inferring=window)
            kept.append(helper.submit(keep, frame, paint(frame.picture)))
            painted_count += 1
            pacing.painted = painted_count
            while len(kept) > KEEP_SLACK:
                kept.popleft().result()  # raises what steadying an earlier frame raised
            if progress is not None:
                expected = max(expected, painted_count)
                progress(painted_count, expected)
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
