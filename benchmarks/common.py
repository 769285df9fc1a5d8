"""Shared benchmark helpers: mirror paths, test images, and timing that notes the machine's load."""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from bot.assets import PREDICTION_INT8, TRANSFER_FP16, TRANSFER_INT8

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "coffee.jpg"
STYLE = "starry-night"
SIZES = ((512, 512), (1024, 768), (2048, 1536))  # width x height
QUIET = 0.15  # a run is quiet if other processes kept at most this many cores busy meanwhile
patience = 0.0  # seconds each run may wait for a quiet machine first (--patience)


def mirror() -> Path:
    """The offline mirror from $STYLEBOT_MIRROR (models/ and presets/), failing loudly if unset."""
    folder = os.environ.get("STYLEBOT_MIRROR")
    if not folder or not (Path(folder) / "models").is_dir():
        raise SystemExit("set STYLEBOT_MIRROR to the mirror folder (models/, presets/)")
    return Path(folder).resolve()


def model(which: str) -> Path:
    """Path of a mirrored model file: 'prediction', 'fp16' or 'int8' (transfer)."""
    files = {"prediction": PREDICTION_INT8, "fp16": TRANSFER_FP16, "int8": TRANSFER_INT8}
    return mirror() / "models" / files[which].filename


def style_path() -> Path:
    """The starry-night preset image in the mirror."""
    return mirror() / "presets" / f"{STYLE}.jpg"


def content(width: int, height: int) -> Image.Image:
    """The example photo resized (not cropped) to width x height."""
    with Image.open(EXAMPLE) as img:
        return img.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)


def content_pixels(width: int, height: int) -> np.ndarray:
    """The example photo as float32 HxWx3 in [0, 1]."""
    return np.asarray(content(width, height), dtype=np.float32) / 255.0


def jpeg_bytes(width: int, height: int, quality: int = 92) -> bytes:
    """The example photo at width x height as JPEG bytes, as a user would upload it."""
    buffer = io.BytesIO()
    content(width, height).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _busy_seconds() -> float:
    """CPU-seconds all processes have spent busy (from /proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def _own_seconds() -> float:
    """CPU-seconds of this process (all threads) and of its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_quiet(limit: float, window: float = 0.5) -> bool:
    """Wait up to limit seconds for a window in which other processes use <= QUIET cores."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy, own = _busy_seconds(), _own_seconds()
        time.sleep(window)
        if (_busy_seconds() - busy) - (_own_seconds() - own) <= QUIET * window:
            return True
    return False


@dataclass
class Runs:
    """Wall seconds of repeated runs, each with the cores other processes kept busy meanwhile."""

    seconds: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)

    def add(self, fn: Callable[[], object]) -> None:
        """Time one call of fn and note how busy the rest of the machine was."""
        wait_quiet(patience)
        busy, own, start = _busy_seconds(), _own_seconds(), time.perf_counter()
        fn()
        wall = time.perf_counter() - start
        foreign = (_busy_seconds() - busy) - (_own_seconds() - own)
        self.seconds.append(wall)
        self.others.append(max(0.0, foreign / wall))

    def median(self) -> float:
        """Median over all runs."""
        return statistics.median(self.seconds)

    def quiet(self) -> list[float]:
        """Runs during which other processes used at most QUIET cores."""
        return [s for s, o in zip(self.seconds, self.others, strict=True) if o <= QUIET]

    def best(self) -> float:
        """Median of the quiet runs if there are at least 3, else of all runs."""
        quiet = self.quiet()
        return statistics.median(quiet) if len(quiet) >= 3 else self.median()

    def label(self) -> str:
        """'median (quiet median, n quiet)' in ms."""
        quiet = self.quiet()
        inner = f"{statistics.median(quiet) * 1e3:.0f}, n={len(quiet)}" if quiet else "n=0"
        return f"{self.median() * 1e3:.0f} ({inner})"


def interleaved(cases: dict[str, Callable[[], object]], reps: int, warm: int = 1
                ) -> dict[str, Runs]:
    """Run each case warm times, then reps rounds of A, B, ...; returns the runs per case."""
    for fn in cases.values():
        for _ in range(warm):
            fn()
    runs = {name: Runs() for name in cases}
    for _ in range(reps):
        for name, fn in cases.items():
            runs[name].add(fn)
    return runs


def paired_ratio(a: Runs, b: Runs) -> float:
    """Median over rounds of a/b, each round's runs taken back to back."""
    return statistics.median(x / y for x, y in zip(a.seconds, b.seconds, strict=True))


def load() -> str:
    """The 1-minute load average and core count, to judge how noisy the figures are."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def cpu_summary() -> str:
    """lscpu's model name and the CPU's AVX / AMX / bf16 flags, printed with every benchmark."""
    import subprocess

    text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    flags = [f for f in fields.get("Flags", "").split() if f.startswith(("avx", "amx", "fma"))]
    return f"CPU: {fields.get('Model name', '?').strip()}; flags: {' '.join(flags) or 'none'}"


def median(values: list[float]) -> float:
    """The median of values."""
    return statistics.median(values)
