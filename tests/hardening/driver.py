"""One child process that runs `stylebot stylize` over a corpus manifest, with its peak RSS."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.commands import process_env

#: The driver's "no hang" bound, a kill deadline rather than a speed target (a case takes
#: seconds at most; times per case are printed as figures, speed is benchmarks/' business).
DRIVER_SECONDS = 180.0

# Runs `stylebot stylize` (bot.cli.main) for every case of a JSON manifest in this one
# process, printing one JSON line per case with its exit code, output and the peak RSS so far.
# The peak is VmHWM from /proc: getrusage's ru_maxrss would also count the spawning pytest
# process, because Linux folds the pre-exec (vfork-shared) address space's peak into it.
DRIVER = r"""
import contextlib, io, json, sys, time
from bot.cli import main

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

for item in json.loads(open(sys.argv[1], encoding="utf-8").read()):
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(item["argv"])
        except SystemExit as exc:
            code = exc.code
    print(json.dumps({
        "name": item["name"], "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
        "seconds": time.perf_counter() - start,
        "peak_kb": peak_kb(),
    }), flush=True)
"""


@dataclass
class Driver:
    """The one process running the whole corpus (started with the module's first case, so it
    runs beside the in-process cases), where its output goes, and how it ended."""

    pid: int
    started: float
    folder: Path
    ended: tuple[int, Any, float] | None = None  # wait status, rusage, wall seconds

    def wait(self) -> tuple[int, Any, float]:
        """os.wait4 the child (its own rusage, not every child's), killing it at the deadline."""
        while self.ended is None:
            done, status, usage = os.wait4(self.pid, os.WNOHANG)
            if done:
                self.ended = (status, usage, time.monotonic() - self.started)
            elif time.monotonic() - self.started > DRIVER_SECONDS:
                self.kill()
                pytest.fail(f"the corpus driver was still running after {DRIVER_SECONDS:.0f} s")
            else:
                time.sleep(0.05)
        return self.ended

    def kill(self) -> None:
        if self.ended is None:
            os.kill(self.pid, signal.SIGKILL)
            _, status, usage = os.wait4(self.pid, 0)
            self.ended = (status, usage, time.monotonic() - self.started)


def start_driver(folder: Path, manifest: list[dict[str, Any]], mirror_dir: Path) -> Driver:
    """Start `python -c DRIVER manifest.json` over `manifest` (name and argv per case), with its
    own HOME and cache in `folder` and its stdout and stderr in files there."""
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "home").mkdir()
    env = process_env(folder / "home", folder / "cache", mirror_dir)
    with (folder / "stdout").open("wb") as stdout, (folder / "stderr").open("wb") as stderr:
        pid = os.posix_spawn(
            sys.executable, [sys.executable, "-c", DRIVER, str(folder / "manifest.json")], env,
            file_actions=[(os.POSIX_SPAWN_DUP2, stdout.fileno(), 1),
                          (os.POSIX_SPAWN_DUP2, stderr.fileno(), 2)])
    return Driver(pid, time.monotonic(), folder)
