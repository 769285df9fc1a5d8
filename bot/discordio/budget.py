"""How many messages a channel may still get now: Discord's rate-limit headers, as discord.py sees
them, read through the aiohttp trace hook discord.py offers (`Client(http_trace=...)`)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp

# Discord's long-observed limit for creating messages in one channel, used until the channel's
# own headers say otherwise (Discord asks clients to read the headers, not to hard-code it).
MESSAGES_PER_WINDOW = 5
WINDOW_SECONDS = 5.0
_MESSAGE_CREATE = re.compile(r"/api/v\d+/channels/(\d+)/messages")


@dataclass
class ChannelBudget:
    """The message-create budget of one channel: a window of `limit` messages that ends at
    `resets_at` (time.monotonic()); spent locally as the bot sends, corrected by every answer."""

    limit: int = MESSAGES_PER_WINDOW
    window: float = WINDOW_SECONDS
    remaining: int = MESSAGES_PER_WINDOW
    resets_at: float = 0.0

    def available(self, now: float | None = None) -> int:
        """Messages the channel may get right now without waiting."""
        now = time.monotonic() if now is None else now
        return self.limit if now >= self.resets_at else max(0, self.remaining)

    def wait(self, now: float | None = None) -> float:
        """Seconds until one more message may go (0 when one may go now)."""
        now = time.monotonic() if now is None else now
        return 0.0 if self.available(now) > 0 else max(0.0, self.resets_at - now)

    def spend(self, now: float | None = None) -> None:
        """Count one message about to be sent (a new window opens with the first)."""
        now = time.monotonic() if now is None else now
        if now >= self.resets_at:
            self.remaining, self.resets_at = self.limit, now + self.window
        self.remaining -= 1

    def observe(self, status: int, headers: Mapping[str, str],
                now: float | None = None) -> None:
        """Take Discord's word from one answer's X-RateLimit-* headers (or its 429)."""
        now = time.monotonic() if now is None else now
        try:
            if "X-RateLimit-Limit" in headers:
                self.limit = max(1, int(headers["X-RateLimit-Limit"]))
            if "X-RateLimit-Remaining" in headers and "X-RateLimit-Reset-After" in headers:
                self.remaining = int(headers["X-RateLimit-Remaining"])
                self.resets_at = now + float(headers["X-RateLimit-Reset-After"])
                self.window = max(self.window, float(headers["X-RateLimit-Reset-After"]))
            elif status == 429 and "Retry-After" in headers:
                self.remaining, self.resets_at = 0, now + float(headers["Retry-After"])
        except ValueError:
            pass  # a header we cannot read leaves the local count as it was


class RateLimitWatch:
    """Per-channel budgets kept from the headers of every REST answer discord.py receives.

    Pass `watch.trace` as the client's `http_trace`; aiohttp then calls `_on_request_end` with
    each answer's headers, which discord.py itself reads but does not expose.
    """

    def __init__(self) -> None:
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._on_request_end)
        self._budgets: dict[int, ChannelBudget] = {}

    def budget(self, channel_id: int) -> ChannelBudget:
        """The channel's message-create budget (Discord's documented default until seen)."""
        found = self._budgets.get(channel_id)
        if found is None:
            found = self._budgets[channel_id] = ChannelBudget()
        return found

    def forget(self, channel_id: int) -> None:
        """Drop a channel's budget (it is rebuilt from the defaults when next needed)."""
        self._budgets.pop(channel_id, None)

    async def _on_request_end(self, session: aiohttp.ClientSession, context: SimpleNamespace,
                              params: aiohttp.TraceRequestEndParams) -> None:
        if params.method != "POST":
            return
        match = _MESSAGE_CREATE.fullmatch(params.url.path)
        if match is not None:
            self.budget(int(match.group(1))).observe(params.response.status,
                                                     params.response.headers)
