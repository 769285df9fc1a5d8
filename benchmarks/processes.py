"""Fresh-process figures: peak RSS of one stylization, and `stylebot stylize` wall time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import REPO, STYLE, Runs

HERE = Path(__file__).resolve().parent


def peak_rss(side: int, cache: Path) -> dict:
    """Run rss_child.py for a long side; add the peak RSS psutil saw from outside (MiB)."""
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.rss_child", str(side), str(cache)],
                             cwd=HERE.parent,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, sampled = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            sampled = max(sampled, watched.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.005)
    out, err = child.communicate()
    if child.returncode:
        raise RuntimeError(f"rss_child.py {side} failed: {err.strip()[-400:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["psutil_mb"] = sampled / 2**20
    return result


def run_cli(cache: Path, output: Path) -> None:
    """One `stylebot stylize examples/astronaut.jpg -s starry-night -o output` in a new process."""
    command = [str(Path(sys.executable).with_name("stylebot")), "stylize",
               str(REPO / "examples" / "astronaut.jpg"), "-s", STYLE, "-o", str(output)]
    env = {**os.environ, "STYLEBOT_CACHE_DIR": str(cache)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f"stylebot stylize failed: {done.stderr.strip()[-400:]}")


def cli_runs(reps: int, first_reps: int) -> tuple[Runs, Runs]:
    """Warm-cache runs (cache used once first) interleaved with first runs (empty cache)."""
    with tempfile.TemporaryDirectory(prefix="stylebot-bench-") as tmp:
        root = Path(tmp)
        warm_cache, output = root / "warm", root / "x.png"
        run_cli(warm_cache, output)  # populate: preset vector, compiled network
        warm, first = Runs(), Runs()
        for i in range(max(reps, first_reps)):
            if i < first_reps:
                first.add(lambda i=i: run_cli(root / f"empty{i}", output))
            if i < reps:
                warm.add(lambda: run_cli(warm_cache, output))
        return warm, first


def import_runs(module: str, reps: int = 3) -> Runs:
    """Wall times of `python -c 'import module'` in fresh processes."""
    runs = Runs()
    for _ in range(reps):
        runs.add(lambda: subprocess.run([sys.executable, "-c", f"import {module}"], check=True))
    return runs
