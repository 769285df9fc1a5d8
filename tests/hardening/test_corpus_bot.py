"""The hostile corpus through `!stylize`: one real bot and engine on the loopback Discord."""

from __future__ import annotations

import io
import re
import resource
import time
from pathlib import Path

from PIL import Image

from tests.fakediscord import FakeDiscord, SentMessage
from tests.fakediscord import fixtures as fake_fixtures
from tests.fakediscord.ratelimits import RateLimits
from tests.features import conftest as bot_fixtures
from tests.hardening.corpus import CAP, STYLE, Case, build_corpus

# The end-to-end fixtures of tests/cogs, for this module too.
fake_discord = fake_fixtures.fake_discord
settings = bot_fixtures.settings
make_bot = bot_fixtures.make_bot

CASES = build_corpus()
#: Time limits the bot runs with here: a hostile input must be answered within them.
JOB_TIMEOUT, DOWNLOAD_TIMEOUT = 10.0, 5.0
#: How much the bot process may grow while it works through the whole corpus. The engine is
#: already loaded (shared by the session) and the photo is capped at 128 px, so what remains is
#: one decode at a time: the 36-megapixel grey PNG is the largest (36 MB grey plane + 108 MB RGB,
#: briefly both, plus Pillow's copies), about 0.25 GB. Any decoded bomb (the 400-megapixel PNG
#: alone is 1.2 GB as RGB) or a 500-frame animation held in memory would break 512 MB.
GROWTH_BOUND_MB = 512
#: The whole test process (pytest, every module imported so far, TensorFlow if the hub tests
#: ran first in this session, the engine, the fake Discord) must stay well inside the 24 GB host.
PROCESS_BOUND_MB = 2560
TRACEBACK_MARKERS = ("Traceback", 'File "', "Error:", "Exception", "\n", "<")
#: An animation's status line (deleted when its result comes): not an outcome.
PROGRESS = re.compile(r"^🎨 Painting frame \d+/\d+ [▰▱]+$")


class PeakRss:
    """This process's peak resident set size since `reset()` (Linux: /proc/self/clear_refs
    resets VmHWM). Where that is unavailable the peak is the process's whole-life maximum,
    which can only overstate the figure."""

    def __init__(self) -> None:
        self.exact = True
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.exact = False
        self.baseline_mb = self._status("VmRSS") if self.exact else self.peak_mb()

    def peak_mb(self) -> float:
        if self.exact:
            return self._status("VmHWM")
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @staticmethod
    def _status(field: str) -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
        raise AssertionError(f"no {field} in /proc/self/status")


def is_progress(message: SentMessage) -> bool:
    return PROGRESS.match(message.content or "") is not None and not message.files


async def the_outcome(fake: FakeDiscord, request: dict) -> SentMessage:
    """The bot's new message replying to `request` (a queue line would be one too, but
    requests here are sent one at a time, so none is ever queued behind another; an
    animation's frame count is skipped)."""
    return await fake.wait_for(
        lambda r: r.reply_to == int(request["id"]) and r.source == "channel"
        and r.method == "POST" and not is_progress(r), JOB_TIMEOUT + DOWNLOAD_TIMEOUT + 5,
        kind=SentMessage,
        what=f"the answer to {request['content']!r}")


def check_outcome(case: Case, reply: SentMessage) -> str:
    """The reply is the case's outcome: the painting at the expected size, or exactly the
    expected sentence (one line, no traceback, no file). Returns a short description."""
    expected = case.bot_expected
    text = reply.content or ""
    if expected.size is not None:
        assert len(reply.files) == 1, f"{case.name}: no painting but {text!r}"
        with Image.open(io.BytesIO(reply.file.data)) as painted:
            painted.load()
            assert painted.size == expected.size, (case.name, painted.size)
            # an animation comes back animated (a GIF: palette frames), a still as RGB
            assert painted.mode == "RGB" or painted.format == "GIF", (case.name, painted.mode)
        assert f"{expected.size[0]}×{expected.size[1]}" in text, text
        return f"image {painted.size[0]}x{painted.size[1]} ({reply.file.filename})"
    assert not reply.files and not reply.components, f"{case.name}: {reply!r}"
    assert expected.matches(text), f"{case.name}: {text!r} is not {expected.refusal!r}"
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"{case.name}: {marker!r} in {text!r}"
    assert not re.search(r"[.!?] [A-Z]", text), f"{case.name}: more than one sentence: {text!r}"
    return f"refused: {text}"


async def test_every_case_gets_one_outcome_and_the_bot_stays_healthy(fake_discord, make_bot,
                                                                     settings):
    bot = make_bot(settings, jobs={"cooldown": 0.0, "per_user": 100, "max_queue": 100},
                   limits={"job_timeout": JOB_TIMEOUT, "download_timeout": DOWNLOAD_TIMEOUT})
    answered: dict[str, tuple[dict, SentMessage]] = {}
    fake_discord.limiter.limits = RateLimits().scaled(0.1)  # limits on, windows 10x shorter
    async with fake_discord.running(bot):
        rss = PeakRss()
        started = time.monotonic()
        for case in CASES:
            attachment = fake_discord.add_attachment(case.data, case.filename, **case.claims)
            sent = time.monotonic()
            request = await fake_discord.send_message(f"!stylize {STYLE} size={CAP}",
                                                      attachments=[attachment])
            reply = await the_outcome(fake_discord, request)
            seconds = reply.time - sent  # a figure: a job past its timeout gets the
            shown = check_outcome(case, reply)  # timeout sentence, which check_outcome refuses
            answered[case.name] = (request, reply)
            print(f"bot  {case.name:26} {seconds:5.2f} s  {shown}")
        wall = time.monotonic() - started
        peak = rss.peak_mb()
        gateway = fake_discord.gateway
        gap = gateway.max_heartbeat_gap()
        heartbeats = list(gateway.heartbeats)
        assert bot.is_ready() and not bot.is_closed() and gateway.live.is_set()
    connects = [r for r in fake_discord.gateway_events if r.event == "connect"]
    print(f"bot: {len(CASES)} cases in {wall:.1f} s; peak RSS {peak:.0f} MB "
          f"(+{peak - rss.baseline_mb:.0f} MB over {rss.baseline_mb:.0f} MB before the corpus"
          f"{'' if rss.exact else ', whole-life peak'}); {len(heartbeats)} heartbeats, "
          f"longest gap {gap:.2f} s, {len(connects)} gateway connection(s)")

    # exactly one outcome per case: nothing else ever answered any request
    for name, (request, reply) in answered.items():
        replies = [m.seq for m in fake_discord.messages_created
                   if m.reply_to == int(request["id"]) and not is_progress(m)]
        assert replies == [reply.seq], f"{name}: {len(replies)} answers"
    images = sum(1 for case in CASES if case.bot_expected.size is not None)
    assert len(fake_discord.uploads) == images
    # the gateway stayed up: one connection, one IDENTIFY, no RESUME, every heartbeat acked
    # (the longest gap is a figure: how late a heartbeat comes depends on the machine's load)
    assert len(connects) == 1 and gateway.identify_count == 1 and gateway.resume_count == 0
    assert heartbeats and all(h.acked for h in heartbeats)
    assert peak - rss.baseline_mb < GROWTH_BOUND_MB
    assert peak < PROCESS_BOUND_MB
    fake_discord.assert_clean()
