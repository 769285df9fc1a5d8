"""Helpers for the `stylebot` command tests: run the CLI in-process or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import main

#: The console script installed next to the test interpreter (the project venv).
STYLEBOT = Path(sys.executable).with_name("stylebot")


def shared_cache_dir(tmp_path_factory) -> Path:
    """One throwaway cache for every in-process painting of the session, so compiled shapes
    and style vectors are reused (it lives under pytest's temporary folder, never in HOME)."""
    folder = tmp_path_factory.getbasetemp() / "stylebot-cli-cache"
    folder.mkdir(exist_ok=True)
    return folder


def run_cli(argv: Sequence[str]) -> int:
    """Run `stylebot argv` in this process; argparse's SystemExit becomes the exit code."""
    try:
        return main([str(arg) for arg in argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def one_error_line(stderr: str) -> str:
    """The only line on stderr, which must start with 'error: '; return its message."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0].removeprefix("error: ")


def usage_error(stderr: str, command: str | None = None) -> str:
    """The message of an argparse-style usage error (usage lines, then 'prog: error: ...');
    with a command, the usage and the prog must be that subcommand's."""
    prog = f"stylebot {command}" if command else "stylebot"
    assert stderr.startswith(f"usage: {prog} "), stderr
    last = stderr.splitlines()[-1]
    assert last.startswith(f"{prog}: error: "), last
    return last.split(": error: ", 1)[1]


def process_env(home: Path, cache: Path, mirror: Path | None) -> dict[str, str]:
    """An environment for a real `stylebot` process: private HOME and cache, no config file."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STYLEBOT_", "XDG_")) and key != "DISCORD_TOKEN"
    }
    env.update(HOME=str(home), STYLEBOT_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    if mirror is not None:
        env["STYLEBOT_MIRROR"] = str(mirror)
    return env


def run_process(
    args: Sequence[str], env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a real process, capturing text output, failing the test if it outlives timeout."""
    return subprocess.run(
        [str(arg) for arg in args], env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
