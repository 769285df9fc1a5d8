"""Animation benchmark: frames/s painted against the engine alone, peak RSS, flicker.

    STYLEBOT_MIRROR=../shared .venv/bin/python -m benchmarks.animation [--quick] [--only ...]

- speed: a 480x270, 72-frame clip (MP4 and GIF in; GIF and MP4 out), all-in (decode, paint,
  steady, encode) against the engine alone painting the same frames already in memory with the
  same precomputed vector as an animation does (`stylize_frames`, a frame on each of the
  network's streams; one frame at a time, as a still is painted, is shown too); the overhead
  is all-in / engine-alone - 1 (target <= 15 %), as wall time and CPU-seconds, with the minor
  page faults a frame; each pair in turn on one thread and with the helper thread that decodes,
  steadies and encodes beside the engine.
- rss: peak RSS of a fresh process painting 120 frames at 512 px (MP4 in, GIF and MP4 out).
- flicker: a clip with a still background and a moving square: mean |difference| between
  consecutive frames in the still area, for the input, frames painted independently, and with
  the steadier; and how much the steadier changes the moving area (it should not).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import benchmarks.common
from benchmarks.common import (
    QUIET,
    STYLE,
    cpu_summary,
    interleaved,
    load,
    model,
    paired_ratio,
    style_path,
)
from bot.animation import paint_animation
from bot.engine.lite import LiteEngine
from bot.imaging import ImageLimits
from bot.imaging.animation import AnimationLimits, flicker, open_animation
from bot.stylization import StylizeOptions, style_from_file
from tests.imaging.animation.clips import moving_frames, pillow_animation, still_mask, video

SECTIONS = ("speed", "rss", "flicker")
ALONE = "engine alone (72 frames in memory)"
ONE_AT_A_TIME = "engine alone, one frame at a time"
LIMITS = ImageLimits()
OPTIONS = StylizeOptions(max_side=512)


def make_engine(cache: Path) -> LiteEngine:
    return LiteEngine(model("prediction"), model("fp16"), threads=2,
                      vector_dir=cache / "vectors", compile_cache=cache / "openvino")


def animation_of(data: bytes, max_frames: int = 120):
    opened = open_animation(data, LIMITS, AnimationLimits(max_frames=max_frames), max_side=512)
    assert opened is not None
    return opened


def _cpu_seconds() -> float:
    """CPU-seconds of this process, all threads."""
    times = os.times()
    return times.user + times.system


def _page_faults() -> int:
    """Minor page faults of this process so far (memory the kernel had to hand it afresh)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def speed(engine: LiteEngine, reps: int) -> None:
    frames = moving_frames(72, (480, 270), step=5)
    inputs = {"MP4": video(frames, "mp4", fps=24),
              "GIF": pillow_animation(frames, "GIF", durations=40)}
    styles = [style_from_file(style_path(), LIMITS)]
    pictures = [Image.fromarray(f.pixels) for f in animation_of(inputs["MP4"]).frames()]
    vector = engine.job_vector(styles, 1.0, pictures[0])
    cpu: dict[str, list[float]] = {}
    faults: dict[str, list[int]] = {}
    sizes: dict[str, int] = {}

    def counted(name: str, run: Callable[[], object]) -> Callable[[], None]:
        def counting() -> None:
            start, start_faults = _cpu_seconds(), _page_faults()
            run()
            cpu.setdefault(name, []).append(_cpu_seconds() - start)
            faults.setdefault(name, []).append(_page_faults() - start_faults)
        return counting

    def all_in(name: str, source: str, out: str, steady: bool, overlap: bool
               ) -> Callable[[], None]:
        def run() -> None:
            result = paint_animation(engine, animation_of(inputs[source]), styles, OPTIONS,
                                     steady=steady, overlap=overlap, encode_as=out)
            sizes[name] = len(result.encode(out))
        return counted(name, run)

    cases = {
        ALONE: counted(ALONE, lambda: list(engine.stylize_frames(pictures, vector))),
        ONE_AT_A_TIME: counted(ONE_AT_A_TIME, lambda: [
            engine.stylize_with_vector(picture, vector) for picture in pictures]),
    }
    for pair, source, out, steady in (
        ("MP4 -> MP4", "MP4", "MP4", True), ("MP4 -> MP4, not steadied", "MP4", "MP4", False),
        ("MP4 -> GIF", "MP4", "GIF", True), ("GIF -> GIF", "GIF", "GIF", True),
        ("GIF -> GIF, not steadied", "GIF", "GIF", False), ("GIF -> WebP", "GIF", "WEBP", True),
        ("GIF -> WebP, not steadied", "GIF", "WEBP", False),
    ):
        for overlap in (False, True):
            name = f"{pair}{', helper thread' if overlap else ', in turn'}"
            cases[name] = all_in(name, source, out, steady, overlap)
    runs = interleaved(cases, reps)
    base = runs[ALONE]
    quiet = sum(len(r.quiet()) for r in runs.values())
    total = sum(len(r.seconds) for r in runs.values())
    print(f"speed: 480x270, 72 frames, {STYLE}, {reps} interleaved rounds ({load()}; "
          f"{quiet} of {total} runs quiet: other processes used <= {QUIET} cores, mean "
          f"{statistics.mean(o for r in runs.values() for o in r.others):.2f})")
    print("  wall = all-in / engine alone - 1, median over rounds of back-to-back runs; "
          "cpu = the same for the process's CPU-seconds;\n  faults = minor page faults a "
          "frame (pages the kernel hands the process afresh); the engine alone paints as "
          "an animation does\n  (stylize_frames: a frame on each stream of the network), "
          "one at a time as a still is (stylize_with_vector) for comparison")
    for name, result in runs.items():
        fps = 72 / result.median()
        extra = ""
        if result is not base:
            cpu_ratio = statistics.median(
                a / b for a, b in zip(cpu[name], cpu[ALONE], strict=True)) - 1
            extra = f"  wall {paired_ratio(result, base) - 1:+6.1%}, cpu {cpu_ratio:+6.1%}"
            if name in sizes:
                extra += f", {sizes[name] / 1024:5.0f} KiB"
        extra += (", " if extra else "  ") + f"faults {statistics.median(faults[name]) / 72:.0f}"
        print(f"  {name:38} {result.median():6.2f} s  {fps:5.1f} frames/s{extra}")


RSS_CHILD = r"""
import json, sys
from pathlib import Path
from PIL import Image
from benchmarks.animation import LIMITS, OPTIONS, animation_of, make_engine
from bot.animation import paint_animation
from bot.stylization import style_from_file
from benchmarks.common import style_path
from tests.imaging.animation.clips import moving_frames, video

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

data = video(moving_frames(120, (512, 288), step=4), "mp4", fps=24)
engine = make_engine(Path(sys.argv[1]))
styles = [style_from_file(style_path(), LIMITS)]
still = Image.fromarray(next(animation_of(data).frames()).pixels)
engine.stylize(still, styles)  # the engine loaded and compiled for the clip's shape
baseline = status("VmHWM")
# the same shape compiled for throughput (an animation's streams), with one frame through it
list(engine.stylize_frames([still], engine.job_vector(styles)))
streams = status("VmHWM")
result = paint_animation(engine, animation_of(data), styles, OPTIONS)
painted = status("VmHWM")
sizes = {fmt: len(result.encode(fmt)) for fmt in ("GIF", "MP4")}
print(json.dumps({"baseline": baseline, "streams": streams, "painted": painted,
                  "peak": status("VmHWM"),
                  "frames": result.frames, "size": result.size, "bytes": sizes}))
"""


def rss(cache: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", RSS_CHILD, str(cache)], capture_output=True,
                          text=True, check=True, cwd=root)
    figures = json.loads(done.stdout)
    width, height = figures["size"]
    print(f"rss: {figures['frames']} frames at {width}x{height} (MP4 in, GIF and MP4 out), "
          "fresh process")
    print(f"  peak RSS with the engine loaded and compiled: {figures['baseline']:.0f} MiB")
    print(f"  ... and compiled for an animation's streams:  {figures['streams']:.0f} MiB "
          "(the same shape, two frames in flight per stream)")
    print(f"  peak RSS after painting:                      {figures['painted']:.0f} MiB")
    print(f"  peak RSS after encoding GIF and MP4:          {figures['peak']:.0f} MiB "
          f"(+{figures['peak'] - figures['baseline']:.0f} MiB for the animation; "
          f"{width * height * 3 * figures['frames'] / 2**20:.0f} MiB of painted frames)")
    print(f"  encoded: GIF {figures['bytes']['GIF'] / 2**20:.1f} MiB, "
          f"MP4 {figures['bytes']['MP4'] / 2**20:.2f} MiB")


def flicker_section(engine: LiteEngine) -> None:
    count, size = 48, (480, 270)
    frames = moving_frames(count, size, step=6)
    sources = {"MP4": video(frames, "mp4", fps=24),
               "GIF": pillow_animation(frames, "GIF", durations=40)}
    styles = [style_from_file(style_path(), LIMITS)]
    mask = still_mask(count, size, margin=24)
    print(f"flicker: {count} frames at 480x270, a square moving over a still photo, {STYLE}; "
          f"mean |frame-to-frame difference| (0-255) in the still area ({mask.mean():.0%} of "
          "the frame); MP4 input (its compression noise) and GIF input (each frame quantised "
          "on its own: dither)")
    for kind, data in sources.items():
        inputs = [f.pixels for f in animation_of(data).frames()]
        naive = paint_animation(engine, animation_of(data), styles, OPTIONS, steady=False)
        steady = paint_animation(engine, animation_of(data), styles, OPTIONS, steady=True)
        moved = []
        for index in range(1, count):
            change = np.abs(inputs[index].astype(int) - inputs[index - 1].astype(int)).max(axis=2)
            where = change > 40
            diff = np.abs(steady.clip.frames[index].astype(int)
                          - naive.clip.frames[index].astype(int))
            moved.append(diff[where].mean())
        print(f"  {kind} input:                      {flicker(inputs, mask):5.2f}")
        print(f"  {kind} painted frame by frame:     {flicker(naive.clip.frames, mask):5.2f}")
        print(f"  {kind} painted and steadied:       {flicker(steady.clip.frames, mask):5.2f}")
        print(f"  {kind} moving area, steadied vs frame by frame: mean |difference| "
              f"{np.mean(moved):.2f} (0 = as sharp as painting each frame)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run per case")
    parser.add_argument("--reps", type=int, default=3, help="interleaved rounds (speed)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--patience", type=float, default=0.0,
                        help="seconds each speed run may first wait for a quiet machine")
    args = parser.parse_args()
    benchmarks.common.patience = args.patience
    print(cpu_summary())
    with tempfile.TemporaryDirectory(prefix="stylebot-bench-") as folder:
        cache = Path(folder)
        engine = make_engine(cache)
        if "speed" in args.only:
            speed(engine, 1 if args.quick else args.reps)
        if "rss" in args.only:
            rss(cache)
        if "flicker" in args.only:
            flicker_section(engine)
        engine.close()


if __name__ == "__main__":
    main()
