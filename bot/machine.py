"""What the machine offers this process: the cores it may run on."""

import os


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
