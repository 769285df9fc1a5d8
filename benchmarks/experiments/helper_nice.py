"""A/B: the helper thread's nice value (bot.animation.HELPER_NICE), wall time against the engine.

    STYLEBOT_MIRROR=../shared .venv/bin/python -m benchmarks.experiments.helper_nice [--reps N]

The benchmark's 480x270, 72-frame clip, MP4 -> MP4 and GIF -> GIF with the helper thread,
each nice value in turn within every round (interleaved), against the engine alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from PIL import Image

import bot.animation
from benchmarks.animation import LIMITS, OPTIONS, animation_of, cpu_line, make_engine
from benchmarks.common import load, style_path, wait_quiet
from bot.animation import paint_animation
from bot.stylization import style_from_file
from tests.imaging.animation.clips import moving_frames, pillow_animation, video

NICES = (0, 10, 19)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--patience", type=float, default=0.0,
                        help="seconds each run may first wait for a quiet machine")
    args = parser.parse_args()
    print(cpu_line())
    frames = moving_frames(72, (480, 270), step=5)
    inputs = {"MP4": video(frames, "mp4", fps=24),
              "GIF": pillow_animation(frames, "GIF", durations=40)}
    with TemporaryDirectory(prefix="stylebot-nice-") as folder:
        engine = make_engine(Path(folder))
        styles = [style_from_file(style_path(), LIMITS)]
        pictures = [Image.fromarray(f.pixels) for f in animation_of(inputs["MP4"]).frames()]
        vector = engine.job_vector(styles, 1.0, pictures[0])
        ratios: dict[tuple[str, int], list[float]] = {}
        for round_ in range(args.reps + 1):  # the first round warms up
            wait_quiet(args.patience)
            start = time.perf_counter()
            for picture in pictures:
                engine.stylize_with_vector(picture, vector)
            alone = time.perf_counter() - start
            for kind in inputs:
                for nice in NICES:
                    bot.animation.HELPER_NICE = nice
                    wait_quiet(args.patience)
                    start = time.perf_counter()
                    result = paint_animation(engine, animation_of(inputs[kind]), styles,
                                             OPTIONS, encode_as=kind)
                    result.encode(kind)
                    if round_:
                        ratios.setdefault((kind, nice), []).append(
                            (time.perf_counter() - start) / alone - 1)
        print(f"helper thread's nice, wall all-in / engine alone - 1, median of {args.reps} "
              f"({load()})")
        for (kind, nice), values in ratios.items():
            print(f"  {kind} -> {kind}, nice {nice:2}: {statistics.median(values):+6.1%}  "
                  f"({', '.join(f'{v:+.0%}' for v in values)})")
        engine.close()


if __name__ == "__main__":
    main()
