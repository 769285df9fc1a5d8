"""The real engine behind a gate: a job's painting waits until the test lets it go on.

Not a mock: every call reaches the real engine. The gate only decides *when* `stylize` runs, so
a test that needs a job to be still running (or queued behind one) at some point does not
depend on how fast this machine paints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GATE_TIMEOUT = 60.0  # a gate never opened fails the job instead of hanging the test


class GatedEngine:
    """Wraps an engine; `stylize` first calls `wait(timeout)`, which returns True once open
    (`stylize_frames` calls it before the engine takes each frame).
    Records the threads `stylize` ran on (never the event loop's, if the bot is right)."""

    def __init__(self, real: Any, wait: Callable[[float], bool]) -> None:
        self._real = real
        self._wait = wait
        self.threads: set[int] = set()

    def __getattr__(self, name: str) -> Any:  # name, warm_up, close, ...: the real engine's
        return getattr(self._real, name)

    def stylize(self, content, styles, strength: float = 1.0):
        self.threads.add(threading.get_ident())
        if not self._wait(GATE_TIMEOUT):
            raise RuntimeError("the test never opened the engine's gate")
        return self._real.stylize(content, styles, strength)

    def stylize_frames(self, frames, vector, strength: float = 1.0):  # a clip's frames
        def gated():  # each frame waits for the gate before the engine takes it
            for frame in frames:
                self.threads.add(threading.get_ident())
                if not self._wait(GATE_TIMEOUT):
                    raise RuntimeError("the test never opened the engine's gate")
                yield frame

        return self._real.stylize_frames(gated(), vector, strength)


def event_gated(real: Any) -> tuple[GatedEngine, threading.Event]:
    """An engine that paints once the returned event is set (for a bot in the test's process)."""
    gate = threading.Event()
    return GatedEngine(real, gate.wait), gate


def hold_file_gated(real: Any, hold: Path) -> GatedEngine:
    """An engine that does not paint while the file `hold` exists (for a bot in another
    process: the test creates the file to hold jobs in the worker and deletes it to go on)."""

    def wait(timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while hold.exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    return GatedEngine(real, wait)
