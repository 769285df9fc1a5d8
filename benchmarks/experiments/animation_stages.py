"""Where an animation's time goes outside the engine: CPU ms a frame for each stage, alone.

    STYLEBOT_MIRROR=../shared .venv/bin/python -m benchmarks.experiments.animation_stages [--reps N]

The benchmark's 480x270, 72-frame clip (MP4 in and GIF in), each stage timed on its own with
the calling thread's CPU time (time.thread_time, so another process's load does not count, but
libx264's and FFmpeg's own threads do not either, hence the wall column) and wall time; the
best of `--reps` rounds. Stages: decoding (Pillow / PyAV, scaling and RGB included), the
engine's call (with its float conversions), the steadier, and each encoder.

CPU ms a frame (AMD EPYC, avx512_bf16, 2 cores; before 06:46, load 1.5; after 07:17, load
1.1; the machine's own speed drifts by up to 20 % between runs; details: benchmarks/README.md):

| stage                         | before             | after        |
| ----------------------------- | ------------------ | ------------ |
| decode MP4 + image for engine | 0.27 + 0.22        | 0.3-0.55     |
| decode GIF + image for engine | 0.99 + 0.22        | 1.0-1.1      |
| steadier, MP4 / GIF input     | 1.52 / 1.57        | 0.85 / 0.86  |
| MP4 encode (x264)             | 0.42, 1.02 wall    | 0.54, 1 thr. |
| GIF encode, MP4 input         | 1.25 (1022 KiB)    | 0.78 (382)   |
| GIF encode, GIF input         | 2.53 (8705 KiB)    | 1.04 (437)   |
| WebP encode, GIF input        | 2.01 (289 KiB)     | 1.27 (274)   |
| engine call, for reference    | 15-17              | 15-17        |

and every encoder now runs on the helper thread while the engine paints, not after it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from PIL import Image

from benchmarks.animation import LIMITS, animation_of, make_engine
from benchmarks.common import cpu_summary, load, style_path
from bot.imaging.animation import PaintedClip, Steadier, encode_animation
from bot.stylization import style_from_file
from tests.imaging.animation.clips import moving_frames, pillow_animation, video

COUNT = 72


def timed(label: str, run: Callable[[], object], reps: int) -> tuple[float, float]:
    """Best CPU and wall ms a frame of `run` over `reps` rounds, printed."""
    cpu, wall = [], []
    for _ in range(reps):
        start_cpu, start = time.thread_time(), time.perf_counter()
        run()
        cpu.append((time.thread_time() - start_cpu) * 1000 / COUNT)
        wall.append((time.perf_counter() - start) * 1000 / COUNT)
    print(f"  {label:46} cpu {min(cpu):6.2f} ms  wall {min(wall):6.2f} ms a frame")
    return min(cpu), min(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    print(cpu_summary())
    frames = moving_frames(COUNT, (480, 270), step=5)
    inputs = {"MP4": video(frames, "mp4", fps=24),
              "GIF": pillow_animation(frames, "GIF", durations=40)}
    with TemporaryDirectory(prefix="stylebot-stages-") as folder:
        engine = make_engine(Path(folder))
        styles = [style_from_file(style_path(), LIMITS)]
        sources = {kind: [f.pixels for f in animation_of(data).frames()]
                   for kind, data in inputs.items()}
        pictures = [Image.fromarray(p) for p in sources["MP4"]]
        vector = engine.job_vector(styles, 1.0, pictures[0])
        painted = [np.asarray(engine.stylize_with_vector(p, vector)) for p in pictures]
        print(f"stages, {COUNT} frames at 480x270, best of {args.reps} ({load()})")
        for kind, data in inputs.items():
            timed(f"decode {kind} (open + every frame RGB)",
                  lambda data=data: [f.picture for f in animation_of(data).frames()], args.reps)
        timed("engine.stylize_frames (wall is the figure)",
              lambda: list(engine.stylize_frames(pictures, vector)), args.reps)

        images = {kind: [Image.fromarray(p) for p in pixels] for kind, pixels in sources.items()}
        painted_images = [Image.fromarray(p) for p in painted]

        def steady(kind: str) -> list[np.ndarray]:
            """As paint_animation: the images the decoder and engine made in, pixels out."""
            steadier = Steadier()
            return [np.asarray(steadier(s, p))
                    for s, p in zip(images[kind], painted_images, strict=True)]

        for kind in inputs:
            timed(f"steadier ({kind} input)", lambda kind=kind: steady(kind), args.reps)
        clips = {kind: PaintedClip(steady(kind), [40.0] * COUNT, 0) for kind in inputs}
        for kind, fmt in (("MP4", "MP4"), ("MP4", "GIF"), ("GIF", "GIF"), ("GIF", "WEBP")):
            size = len(encode_animation(clips[kind], fmt))
            timed(f"encode {fmt} ({kind} input, {size // 1024} KiB)",
                  lambda kind=kind, fmt=fmt: encode_animation(clips[kind], fmt), args.reps)
        engine.close()


if __name__ == "__main__":
    main()
