"""`stylebot run` as a child process against the loopback Discord: BotProcess and its token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bot.store import Store
from tests.fakediscord import FakeDiscord, GatewayRecord

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "restart-test-token"  # the bot processes' DISCORD_TOKEN; the `fake` fixture accepts it
GRACE = 20.0  # jobs.grace_period of the bots under test
START_TIMEOUT = 60.0  # a cold start compiles the engine into the (shared) cache


class BotProcess:
    """`python -m tests.hardening.bot_process` as a child process; its log goes to a file."""

    def __init__(self, fake: FakeDiscord, config: Path, data_dir: Path, log: Path) -> None:
        self.fake = fake
        self.config = config
        self.data_dir = data_dir
        self.log_path = log
        self.hold_path = log.with_name("hold")  # while it exists, the engine does not paint
        self.proc: asyncio.subprocess.Process | None = None
        self.starts: list[float] = []  # seconds from spawn to the gateway's READY, per start

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Spawn the bot and wait until it has identified on the fake gateway."""
        assert not self.running
        mark = self.fake.mark()
        began = time.monotonic()
        with self.log_path.open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.hardening.bot_process",
                "--api", self.fake.base_url, "--config", str(self.config),
                "--hold", str(self.hold_path),
                cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env={**os.environ, "DISCORD_TOKEN": TOKEN})
        ready = asyncio.ensure_future(self.fake.wait_for(
            lambda r: r.event == "ready", START_TIMEOUT, kind=GatewayRecord, after=mark))
        died = asyncio.ensure_future(self.proc.wait())
        await asyncio.wait({ready, died}, return_when=asyncio.FIRST_COMPLETED)
        died.cancel()
        if not ready.done() or ready.exception() is not None:
            ready.cancel()
            raise AssertionError(f"the bot did not start (exit {self.proc.returncode}):\n"
                                 f"{self.log[-3000:]}")
        self.starts.append(time.monotonic() - began)

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = GRACE + 10) -> float:
        """Send `signum`, wait for the exit (code 0 unless killed); return the seconds taken."""
        assert self.proc is not None and self.running
        began = time.monotonic()
        self.proc.send_signal(signum)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        expected = -signal.SIGKILL if signum == signal.SIGKILL else 0
        assert code == expected, f"exit code {code}:\n{self.log[-3000:]}"
        return time.monotonic() - began

    def hold(self) -> None:
        """From now on, jobs wait in the worker before painting (the test decides when)."""
        self.hold_path.touch()

    def release(self) -> None:
        """Let held jobs paint."""
        self.hold_path.unlink(missing_ok=True)

    def journal(self) -> list[tuple[str, dict[str, Any]]]:
        """The journal's unfinished entries (read while the bot is stopped)."""
        assert not self.running
        with Store(self.data_dir / "stylebot.sqlite3") as store:
            return store.journal_pending()

    def bump_attempts(self, times: int) -> None:
        """Count `times` more restarts against every journaled request, as if each had died."""
        assert not self.running
        with Store(self.data_dir / "stylebot.sqlite3") as store:
            for job_id, _ in store.journal_pending():
                for _ in range(times):
                    store.journal_bump_attempts(job_id)
