"""`stylebot stylize` on an animation: the output's format, a progress bar, the one-line report."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.animation import Progress, paint_animation
from bot.config import Settings
from bot.engine import Engine, WeightedStyle
from bot.errors import ImageError
from bot.imaging import ImageLimits, decode_image
from bot.imaging.animation import (
    DEFAULT_FORMAT_OF_KIND,
    SUFFIX_OF,
    Animation,
    AnimationLimits,
    format_for_suffix,
    looks_like_video,
    open_animation,
    save_animation_atomic,
)
from bot.stylization import StylizeOptions

#: A side no frame reaches (the pixel limit stops it first): "do not shrink".
_UNCAPPED = 1 << 20


@dataclass
class AnimationJob:
    """An opened animation and where it goes: the output path (suffix added if it had none)."""

    animation: Animation
    output: Path
    fmt: str
    options: StylizeOptions


def plan_animation(
    data: bytes,
    output: Path,
    settings: Settings,
    limits: ImageLimits,
    options: StylizeOptions,
    max_frames: int | None,
) -> AnimationJob | None:
    """The job if `data` is an animation, else None (a still photo takes the usual path).

    The output's suffix picks the format: .gif, .mp4 or .webp; with no suffix the animation
    keeps its kind (GIF and APNG -> .gif, WebP -> .webp, a video -> .mp4), which is added.
    """
    animation = open_animation(
        data, limits, settings.animation_limits(max_frames), max_side=options.max_side
    )
    if animation is None:
        return None
    suffix = output.suffix.lower()
    if suffix:
        fmt = format_for_suffix(suffix)
        if fmt is None:
            animation.close()
            raise ImageError(
                f"An animation is written as .gif, .mp4 or .webp, not {output.suffix}; "
                "with no suffix it keeps its own kind."
            )
    else:
        fmt = DEFAULT_FORMAT_OF_KIND.get(animation.kind, "MP4")
        output = output.with_name(output.name + SUFFIX_OF[fmt])
    return AnimationJob(animation, output, fmt, options)


def run_animation(
    job: AnimationJob,
    engine: Engine,
    styles: Sequence[WeightedStyle],
    start: float,
    *,
    verbose: bool = False,
) -> int:
    """Paint every frame (a progress bar on a terminal), encode, write atomically, report."""
    try:
        with _progress_bar(job.animation.expected_frames()) as progress:
            result = paint_animation(engine, job.animation, styles, job.options,
                                     progress=progress, encode_as=job.fmt)
        if verbose:
            print(engine.describe(), file=sys.stderr)
    finally:
        engine.close()
        job.animation.close()
    save_animation_atomic(result.encode(job.fmt), job.output)
    width, height = result.size
    seconds = time.perf_counter() - start
    note = f"; {result.note}" if result.note else ""
    print(f"Wrote {job.output} ({width}x{height}, {result.frames} frames, "
          f"{result.seconds:.1f} s) in {seconds:.2f} s{note}.")
    return 0


@contextlib.contextmanager
def _progress_bar(expected: int) -> Iterator[Progress | None]:
    """A tqdm bar over frames on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=expected, unit="frame", desc="Painting", leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


def still_content(data: bytes, limits: ImageLimits) -> Image.Image:
    """The photo for a still output (.png, .jpg): the picture itself, a GIF's first frame as
    before, or a video's first frame (at its own size, capped later like any photo)."""
    if looks_like_video(data) is None:
        return decode_image(data, limits, what="photo")
    first_only = AnimationLimits(max_frames=1, max_side=_UNCAPPED)
    video = open_animation(data, limits, first_only, max_side=_UNCAPPED)
    if video is None:  # looks_like_video said it is one; let the still path word it
        return decode_image(data, limits, what="photo")
    frames = video.frames()
    try:
        return next(frames).picture
    finally:
        frames.close()
