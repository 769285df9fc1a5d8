"""One typing indicator per channel, however many requests are waiting there at once."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord

log = logging.getLogger(__name__)


@dataclass
class _Held:
    holders: int = 0
    indicator: contextlib.AbstractAsyncContextManager | None = None


class SharedTyping:
    """Shows "typing…" in a channel while at least one of its requests waits or runs.

    Discord shows one indicator per channel anyway; sharing it means a queue of many requests
    in one channel sends one typing call every few seconds instead of one per request.
    """

    def __init__(self) -> None:
        self._channels: dict[int, _Held] = {}

    @property
    def channels(self) -> int:
        """Channels with an indicator held right now."""
        return len(self._channels)

    @contextlib.asynccontextmanager
    async def hold(self, channel: discord.abc.Messageable) -> AsyncIterator[None]:
        """Keep the channel's indicator on until every holder has left; a channel that refuses
        it costs nothing."""
        key = _channel_key(channel)
        held = self._channels.get(key)
        first = held is None
        if held is None:
            held = self._channels[key] = _Held()
        held.holders += 1
        try:
            if first:
                held.indicator = await _start(channel)
            yield
        finally:
            held.holders -= 1
            if held.holders == 0:
                del self._channels[key]
                if held.indicator is not None:
                    await held.indicator.__aexit__(None, None, None)


def _channel_key(channel: discord.abc.Messageable) -> int:
    return getattr(channel, "id", id(channel))


async def _start(channel: discord.abc.Messageable) -> contextlib.AbstractAsyncContextManager | None:
    indicator = channel.typing()
    try:
        await indicator.__aenter__()
    except discord.HTTPException:
        log.info("typing indicator refused", exc_info=True)
        return None
    return indicator
