"""`stylebot run` start-up as a real process: a plain log in a file, one sentence when it fails."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys

from tests.hardening import test_restarts as restarts
from tests.hardening.processes import ROOT, TOKEN

# The real `stylebot run` process of the restart tests, for this module too.
bot = restarts.bot
bot_cache = restarts.bot_cache

# `python -m tests.hardening.bot_process ARGS` with TensorFlow not installed: a None entry in
# sys.modules makes `import tensorflow` fail as a missing package does.
WITHOUT_TENSORFLOW = (
    "import sys; sys.modules['tensorflow'] = None; "
    "from tests.hardening.bot_process import main; sys.exit(main(sys.argv[1:]))"
)


async def test_the_log_in_a_file_has_no_colours_and_no_voice_warnings(bot):
    await bot.start()
    await bot.stop(signal.SIGTERM)
    log = bot.log
    assert "ready to take jobs with the lite engine" in log, log
    # the precisions the compiled networks report, and what the CPU can do (issue 8)
    engine_line = next(line for line in log.splitlines() if ": lite engine (" in line)
    assert re.search(r"transfer net (f32|bf16|f16)( \(auto\))?, prediction net (f32|f32, not "
                     r"compiled: style vectors cached), \d+ instance norms as MVN", engine_line) \
        or "instance norms as in the file" in engine_line, engine_line
    assert "CPU capabilities " in engine_line and "FP32" in engine_line, engine_line
    assert "\x1b[" not in log, log[:2000]
    assert "PyNaCl" not in log and "davey" not in log, log[:2000]
    for line in log.splitlines():  # discord.py's format, uncoloured
        assert line.startswith("[20") and "] [" in line, line


def bot_process(argv: list[str], *, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.hardening.bot_process"] if code is None else [
        sys.executable, "-c", code]
    return subprocess.run([*command, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "DISCORD_TOKEN": TOKEN}, check=False)


def test_an_unreachable_discord_is_one_sentence(bot):
    with socket.socket() as closed:  # bound, never listening: a connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = bot_process(["--api", f"http://127.0.0.1:{port}", "--config", str(bot.config)])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"error: Could not reach Discord (127.0.0.1:{port}: Connection refused); "
        "check the network and try again.")


async def test_the_hub_engine_without_tensorflow_stops_the_bot_with_one_sentence(fake, bot):
    bot.config.write_text(bot.config.read_text() + '[engine]\nname = "hub"\n')
    argv = ["--api", fake.base_url, "--config", str(bot.config)]
    result = await asyncio.to_thread(bot_process, argv, code=WITHOUT_TENSORFLOW)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        'error: The hub engine needs TensorFlow: pip install "stylebot[hub]".')

