"""Harness for benchmarks/bot.py: the loopback Discord in or beside the bot's loop, the real bot."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import psutil
from PIL import Image

from bot.app import StyleBot, create_bot
from bot.config import Settings
from bot.engine import Engine
from bot.loaders import load_engine, make_resolver
from tests.fakediscord import FakeDiscord, SentMessage, run_bot

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "coffee.jpg"
STATUS_PREFIXES = ("⏳", "🎨 Painting")  # the bot's queue-position lines, not answers
MODES = ("same", "thread", "nice")


class FakeHost:
    """A started FakeDiscord with discord.py pointed at it, in one of two places.

    mode "same": the fake's aiohttp server runs in the bot's own event loop (as in the tests),
    so its request parsing and CDN serving delay the bot's callbacks. mode "thread": the fake
    runs in a daemon thread with its own event loop; it then only competes for the GIL and CPU.
    Call the fake's methods through run() (coroutine functions) or do() (plain functions).
    """

    def __init__(self, mode: str, **options: Any) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.fake = FakeDiscord(**options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._patch: contextlib.AbstractContextManager[None] | None = None

    async def __aenter__(self) -> FakeHost:
        if self.mode in ("thread", "nice"):
            self._loop = asyncio.new_event_loop()
            target = self._loop.run_forever if self.mode == "thread" else self._run_niced
            self._thread = threading.Thread(target=target, name="fakediscord", daemon=True)
            self._thread.start()
        await self.run(self.fake.start)
        self._patch = self.fake.patch()
        self._patch.__enter__()
        return self

    def _run_niced(self) -> None:
        """The fake's loop at the lowest CPU priority (Linux: nice applies per thread)."""
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        assert self._loop is not None
        self._loop.run_forever()

    async def __aexit__(self, *exc: object) -> None:
        if self._patch is not None:
            self._patch.__exit__(None, None, None)
        await self.run(self.fake.close)
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Await fn(*args, **kwargs) in the fake's loop."""
        if self._loop is None:
            return await fn(*args, **kwargs)
        future = asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), self._loop)  # type: ignore[arg-type]
        return await asyncio.wrap_future(future)

    async def do(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call the plain function fn(*args, **kwargs) in the fake's loop."""

        async def call() -> T:
            return fn(*args, **kwargs)

        return await self.run(call)


def mirror() -> Path:
    """The offline mirror from $STYLEBOT_MIRROR (models/ and presets/), or exit with a hint."""
    folder = os.environ.get("STYLEBOT_MIRROR", "")
    if not folder or not (Path(folder) / "models").is_dir():
        raise SystemExit("set STYLEBOT_MIRROR to the mirror folder (models/, presets/), "
                         "e.g. STYLEBOT_MIRROR=../shared")
    return Path(folder).resolve()


def photo_jpeg(width: int, height: int, quality: int = 92) -> bytes:
    """examples/coffee.jpg resized (not cropped) to width x height, as JPEG bytes."""
    with Image.open(EXAMPLE) as image:
        resized = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    resized.save(out, "JPEG", quality=quality)
    return out.getvalue()


# -- requests ------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """One `!stylize` request: when it was sent and what the bot answered."""

    sent: float  # time.monotonic() just before MESSAGE_CREATE was written to the gateway
    message_id: int
    answer: SentMessage | None  # the first reply that is not a queue-position line

    @property
    def uploaded(self) -> bool:
        return self.answer is not None and bool(self.answer.files)

    @property
    def latency(self) -> float:
        assert self.answer is not None
        return self.answer.time - self.sent


def is_answer(message_id: int) -> Callable[[Any], bool]:
    """Predicate: a channel POST replying to message_id that is not a queue-position line."""

    def check(record: Any) -> bool:
        return (isinstance(record, SentMessage) and record.source == "channel"
                and record.method == "POST" and record.reply_to == message_id
                and (bool(record.files)
                     or not (record.content or "").startswith(STATUS_PREFIXES)))

    return check


async def _post_and_wait(fake: FakeDiscord, text: str, author: dict[str, Any], photo: bytes,
                         delay: float, timeout: float, forget: bool) -> Outcome:
    """In the fake's loop: wait delay, post the message with photo attached, await the answer."""
    if delay > 0:
        await asyncio.sleep(delay)
    attachment = fake.add_attachment(photo, "photo.jpg")
    sent = time.monotonic()
    message = await fake.send_message(text, author=author, attachments=[attachment])
    message_id = int(message["id"])
    try:
        answer = await fake.wait_for(is_answer(message_id), timeout, what="answer")
    except AssertionError:
        answer = None
    if forget:  # keep the fake's CDN (which also holds the bot's uploads) from growing
        fake.forget_attachment(attachment)
        for uploaded in (answer.message or {}).get("attachments", []) if answer else []:
            fake.forget_attachment(uploaded)
        fake.world.messages.pop(message_id, None)
    return Outcome(sent, message_id, answer)


def trim_fake(fake: FakeDiscord) -> None:
    """Forget the fake's records and gateway replay buffer (call between requests, in its loop),
    so that what grows in a long run is the bot, not the fake's bookkeeping."""
    fake.recorder.clear()
    if fake.gateway.session is not None:
        fake.gateway.session.buffer.clear()


async def stylize(host: FakeHost, photo: bytes, *, author: dict[str, Any] | None = None,
                  text: str = "!stylize starry-night", delay: float = 0.0,
                  timeout: float = 120.0, forget: bool = False) -> Outcome:
    """A user posts `text` with photo attached; returns when the bot has answered."""
    return await host.run(_post_and_wait, host.fake, text, author or host.fake.alice, photo,
                          delay, timeout, forget)


# -- the bot -------------------------------------------------------------------------------


def settings_for(base: Settings, **sections: dict[str, Any]) -> Settings:
    """base with some fields of some sections replaced, e.g. jobs={"workers": 1}."""
    for name, changes in sections.items():
        base = dataclasses.replace(
            base, **{name: dataclasses.replace(getattr(base, name), **changes)})
    return base


def base_settings(tmp: Path, mirror: Path) -> Settings:
    """Benchmark settings: tmp data and cache, the mirror, one worker, no cooldown."""
    base = Settings()
    return settings_for(
        base,
        paths={"data_dir": tmp / "data", "cache_dir": tmp / "cache", "mirror": mirror},
        jobs={"workers": 1, "cooldown": 0.0, "grace_period": 10.0},
        limits={"default_output_side": 1024},
    )


async def make_engine(settings: Settings) -> Engine:
    """The engine exactly as the bot would load it (threads from the settings and cores)."""
    return await load_engine(settings, make_resolver(settings))


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, engine: Engine) -> AsyncIterator[StyleBot]:
    """The real bot (shared engine, loopback CDN allowed) logged in to the patched fake."""
    bot = create_bot(settings, engine=engine, allow_loopback_cdn=True, guild_ready_timeout=0.05)

    async def no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py waits 5 s between IDENTIFYs otherwise

    bot.before_identify_hook = no_identify_wait  # type: ignore[method-assign]
    async with run_bot(bot, token="fake-token", ready_timeout=60.0):
        yield bot


# -- measuring -------------------------------------------------------------------------------


class LagProbe:
    """A task in the running loop that wakes every `interval` s and records how late it was."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lateness: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.lateness.append(max(0.0, loop.time() - due))

    def __enter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


QUIET = 0.25  # a run is "quiet" when other processes kept at most this many cores busy


def _busy_seconds() -> float:
    """CPU seconds all processes have spent busy, from /proc/stat (not idle, not iowait)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process, all threads."""
    times = os.times()
    return times.user + times.system


class Others:
    """How many cores other processes kept busy, on average, during a `with` block."""

    def __init__(self) -> None:
        self.cores = 0.0
        self._start = (0.0, 0.0, 0.0)

    def __enter__(self) -> Others:
        self._start = (_busy_seconds(), _own_seconds(), time.monotonic())
        return self

    def __exit__(self, *exc: object) -> None:
        busy, own, start = self._start
        wall = max(time.monotonic() - start, 1e-6)
        self.cores = max(0.0, (_busy_seconds() - busy) - (_own_seconds() - own)) / wall

    @property
    def quiet(self) -> bool:
        return self.cores <= QUIET


async def wait_quiet(limit: float, window: float = 0.5) -> bool:
    """Wait up to `limit` s for a `window` in which other processes use <= QUIET cores."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with Others() as others:
            await asyncio.sleep(window)
        if others.quiet:
            return True
    return False


class CpuSplit:
    """CPU seconds (user + system) used by each kind of thread of this process over a period.

    Kinds: "bot loop" (the calling thread, which runs the event loop), "fake loop" (the thread
    named fakediscord), "job worker" (stylebot-job threads: decode, numpy, PNG, and the engine's
    own share), "other" (OpenVINO's inference threads, asyncio.to_thread helpers). Unlike wall
    times these hardly depend on what else the machine is running.
    """

    def __init__(self) -> None:
        self._before: dict[int, float] = {}
        self.used: dict[str, float] = {}

    @staticmethod
    def _sample() -> dict[int, float]:
        return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}

    @staticmethod
    def _kind(tid: int, me: int, names: dict[int, str]) -> str:
        name = names.get(tid, "")
        if tid == me:
            return "bot loop"
        if name == "fakediscord":
            return "fake loop"
        if name.startswith("stylebot-job"):
            return "job worker"
        return "other"

    def __enter__(self) -> CpuSplit:
        self._before = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._sample()
        me = threading.get_native_id()
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
        self.used = {}
        for tid, seconds in after.items():
            kind = self._kind(tid, me, names)
            self.used[kind] = self.used.get(kind, 0.0) + seconds - self._before.get(tid, 0.0)

    @property
    def total(self) -> float:
        return sum(self.used.values())


class SlowCallbacks:
    """Records event-loop callbacks (in this thread) taking longer than `threshold` s of wall time.

    Wraps asyncio.events.Handle._run while active; each entry is (wall s, CPU s of this thread,
    description). Wall much larger than CPU means the loop thread was waiting for the GIL or
    the OS, not computing.
    """

    def __init__(self, threshold: float = 0.005) -> None:
        self.threshold = threshold
        self.slow: list[tuple[float, float, str]] = []
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> SlowCallbacks:
        original = asyncio.events.Handle._run
        me = threading.get_ident()
        probe = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            if threading.get_ident() != me:
                return original(handle)
            wall, cpu = time.monotonic(), time.thread_time()
            try:
                return original(handle)
            finally:
                took = time.monotonic() - wall
                if took >= probe.threshold:
                    probe.slow.append((took, time.thread_time() - cpu, _describe(handle)))

        self._original = original
        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign]


def _describe(handle: asyncio.events.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = ""
        if frame is not None:
            where = f" at {frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}"
        return f"task {getattr(coro, '__qualname__', coro)}{where}"
    return repr(callback)[:100]


class StageTimer:
    """Timing wrappers around the real functions a request passes through (behaviour unchanged).

    Each function below is replaced, wherever a loaded bot module holds it (found by
    identity, so refactors that move call sites keep working), by a wrapper that appends
    (stage, start, end) in time.monotonic() to `spans`.
    """

    STAGES = (  # (module, function, stage)
        ("bot.discordio.fetch", "fetch_image_bytes", "download"),
        # the job in the worker (after its decode)
        ("bot.features.stylize.painting", "paint_inputs", "paint"),
        ("bot.imaging.decode", "decode_image", "decode"),
        ("bot.stylization", "stylize", "engine"),  # size cap + engine.stylize
        ("bot.imaging.upload", "encode_for_upload", "encode"),  # after the worker
    )

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []
        self._saved: list[tuple[Any, str, Any]] = []

    def _wrapper(self, original: Any, stage: str) -> Any:
        if asyncio.iscoroutinefunction(original):
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.monotonic()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.spans.append((stage, start, time.monotonic()))

            return timed_async

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                self.spans.append((stage, start, time.monotonic()))

        return timed

    def install(self) -> None:
        """Wrap the live modules; call after the bot has loaded its cogs (discord.py loads
        extensions as fresh module objects)."""
        wrappers = {}
        for module_name, attr, stage in self.STAGES:
            original = getattr(sys.modules[module_name], attr)
            wrappers[id(original)] = (original, self._wrapper(original, stage))
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "bot" or name.startswith("bot.")):
                continue
            for attr, value in list(vars(module).items()):
                found = wrappers.get(id(value))
                if found is not None and found[0] is value:
                    self._saved.append((module, attr, value))
                    setattr(module, attr, found[1])

    def remove(self) -> None:
        """Put the original functions back."""
        for module, attr, original in reversed(self._saved):
            setattr(module, attr, original)
        self._saved.clear()

    def between(self, start: float, end: float) -> dict[str, tuple[float, float]]:
        """{stage: (first start, last end)} of the spans inside [start, end]."""
        found: dict[str, tuple[float, float]] = {}
        for stage, begin, finish in self.spans:
            if begin >= start and finish <= end:
                old = found.get(stage)
                found[stage] = (min(begin, old[0]), max(finish, old[1])) if old else (begin,
                                                                                       finish)
        return found


def decoded_size(data: bytes) -> tuple[int, int]:
    """Pixel size of uploaded image bytes (raises if they are not an image)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size
