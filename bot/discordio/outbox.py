"""One outbox per channel: paintings go first; notices are folded and status lines coalesced, and
both are sent only when the channel's message budget can spare them."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discordio.budget import ChannelBudget, RateLimitWatch

log = logging.getLogger(__name__)

MAX_CONTENT = 2000  # Discord's limit on a message's text
Send = Callable[[], Awaitable[Any]]


class Kind(enum.IntEnum):
    """What an outgoing message is, in the order the outbox sends them."""

    PAINTING = 0  # a finished painting: always next, whatever else waits
    NOTICE = 1  # a refusal or error sentence; equal ones waiting together are folded into one
    STATUS = 2  # a queue-position line: only the newest per request, dropped once obsolete


@dataclass(eq=False)
class _Item:
    kind: Kind
    seq: int
    send: Send
    done: asyncio.Future[Any]
    text: str = ""
    user_id: int = 0
    key: object = None

    @property
    def order(self) -> tuple[int, int]:
        return (int(self.kind), self.seq)


@dataclass
class ChannelOutbox:
    """The messages waiting to be created in one channel, sent one at a time, best first.

    Paintings are sent as soon as the budget has room (Discord's per-channel limit on creating
    messages: 5 per 5 s). Notices and status lines ("chatter") are sent when the budget has
    more room than the paintings this channel still owes need (`owe`/`settle`), and otherwise
    at most one per budget window, so they are never starved; a status line sent is always the
    newest. A notice is sent as its own reply while the budget has room for each equal one
    waiting; otherwise the equal ones become one reply-less message naming their users (and
    mentioning only them).
    """

    channel: discord.abc.Messageable
    budget: ChannelBudget
    owed: int = 0
    _items: list[_Item] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _sender: asyncio.Task[None] | None = None
    _chatter_until: float = 0.0

    # -- what callers hand in ----------------------------------------------------------------

    async def painting(self, send: Send) -> Any:
        """Send a painting (send() posts it) before any chatter; returns what send() returned."""
        return await self._put(_Item(Kind.PAINTING, next(self._seq), send, self._future()))

    async def notice(self, user_id: int, text: str, reply: Send) -> None:
        """Tell `user_id` `text`: by reply() when alone, else folded with equal notices."""
        await self._put(_Item(Kind.NOTICE, next(self._seq), reply, self._future(), text=text,
                              user_id=user_id))

    async def status(self, key: object, send: Send) -> Any:
        """Show a status line for `key` (one request): replaces a line still waiting for the
        same key; returns what send() returned, or None when it was replaced or dropped."""
        for item in self._items:
            if item.kind is Kind.STATUS and item.key == key:
                self._items.remove(item)
                item.done.set_result(None)
        return await self._put(_Item(Kind.STATUS, next(self._seq), send, self._future(),
                                     key=key))

    def drop_status(self, key: object) -> None:
        """Forget the status line still waiting for `key`: it is no longer needed."""
        for item in [i for i in self._items if i.kind is Kind.STATUS and i.key == key]:
            self._items.remove(item)
            item.done.set_result(None)

    def owe(self) -> None:
        """One more painting will come for this channel (a job was accepted)."""
        self.owed += 1

    def settle(self) -> None:
        """A painting owed is handed in (or will never come)."""
        self.owed = max(0, self.owed - 1)
        self._wake.set()

    @property
    def waiting(self) -> int:
        """Messages not sent yet."""
        return len(self._items)

    # -- sending ---------------------------------------------------------------------------

    def _future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _put(self, item: _Item) -> Any:
        self._items.append(item)
        self._wake.set()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all(), name="stylebot-outbox")
        return await asyncio.shield(item.done)

    def _chatter_allowed(self, now: float) -> bool:
        spare = self.budget.available(now) > self.owed
        return spare or now >= self._chatter_until

    def _next(self, now: float) -> _Item | None:
        best = min(self._items, key=lambda i: i.order)
        if best.kind is Kind.PAINTING or self._chatter_allowed(now):
            return best
        return None

    async def _send_all(self) -> None:
        while self._items:
            now = time.monotonic()
            item = self._next(now)
            pause = self.budget.wait(now)
            if item is None or pause > 0:
                self._wake.clear()
                # chatter held back: wait for the window to end, a painting, or owed to drop
                timeout = pause if pause > 0 else max(0.05, self._chatter_until - now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                continue
            batch = self._take(item, now)
            self.budget.spend(now)
            try:
                result = await self._deliver(batch)
            except Exception as exc:
                for taken in batch:
                    if not taken.done.done():
                        taken.done.set_exception(exc)
                continue
            if item.kind is not Kind.PAINTING:
                self._chatter_until = max(self.budget.resets_at, time.monotonic())
            for taken in batch:
                if not taken.done.done():
                    taken.done.set_result(result)

    def _take(self, item: _Item, now: float) -> list[_Item]:
        """The item and, for a notice, every waiting notice with the same text, when the budget
        is too short to send each its own reply (then they are folded into one message)."""
        batch = [item]
        if item.kind is Kind.NOTICE:
            batch += [i for i in self._items if i is not item and i.kind is Kind.NOTICE
                      and i.text == item.text]
            if self.budget.available(now) - self.owed >= len(batch):
                batch = [item]  # room for every one of them: a reply each, as in a quiet channel
        batch = batch[:self._fits(batch)]
        for taken in batch:
            self._items.remove(taken)
        return batch

    @staticmethod
    def _fits(batch: list[_Item]) -> int:
        """How many of the batch fit one message of MAX_CONTENT characters (a user is named
        once however many of their requests the message answers)."""
        length = len(batch[0].text) + 2
        named: set[int] = set()
        for n, item in enumerate(batch):
            if item.user_id not in named:
                named.add(item.user_id)
                length += len(f"<@{item.user_id}> (×99), ")
            if length > MAX_CONTENT:
                return max(1, n)
        return len(batch)

    async def _deliver(self, batch: list[_Item]) -> Any:
        if len(batch) == 1:
            return await batch[0].send()
        return await self.channel.send(**folded(batch[0].text, [i.user_id for i in batch]))


def folded(text: str, user_ids: list[int]) -> dict[str, Any]:
    """One message telling several users the same sentence, mentioning only them; a user it
    answers for several requests is named once, with the count: "<@7> (×2)"."""
    counts = Counter(user_ids)
    users = list(counts)
    names = [f"<@{u}>" + (f" (×{counts[u]})" if counts[u] > 1 else "") for u in users]
    named = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return {
        "content": f"{named}: {text}",
        "allowed_mentions": discord.AllowedMentions(
            users=[discord.Object(u) for u in users], everyone=False, roles=False,
            replied_user=False),
    }


class Outboxes:
    """The bot's outboxes, one per channel, all reading the budgets of one RateLimitWatch."""

    def __init__(self, watch: RateLimitWatch) -> None:
        self.watch = watch
        self._boxes: dict[int, ChannelOutbox] = {}

    def of(self, channel: discord.abc.Messageable) -> ChannelOutbox:
        """The channel's outbox (created on first use)."""
        key = int(getattr(channel, "id", 0))
        box = self._boxes.get(key)
        if box is None:
            box = self._boxes[key] = ChannelOutbox(channel, self.watch.budget(key))
        self._forget_idle()
        return box

    def _forget_idle(self) -> None:
        """Let go of outboxes with nothing waiting and nothing owed (bounded memory)."""
        if len(self._boxes) <= 64:
            return
        for key, box in list(self._boxes.items()):
            if box.waiting == 0 and box.owed == 0:
                del self._boxes[key]
                self.watch.forget(key)
