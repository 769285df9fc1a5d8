"""Point the real discord.py client at the fake (URL patch) and run a bot for one test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, TypeVar

import discord
import discord.asset
import discord.gateway
import discord.http
import yarl

if TYPE_CHECKING:
    from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def patch_discord(fake: FakeDiscord) -> Iterator[None]:
    """Redirect discord.py's REST base, default gateway and CDN base to `fake`; restore after."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
             discord.asset.Asset.BASE)
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    discord.asset.Asset.BASE = fake.base_url
    try:
        yield
    finally:
        (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
         discord.asset.Asset.BASE) = saved


@contextlib.asynccontextmanager
async def run_bot(bot: ClientT, *, token: str = "fake-token",
                  ready_timeout: float = 5.0) -> AsyncIterator[ClientT]:
    """Log `bot` in, connect it in a task, wait for on_ready; on exit close it cleanly.

    The URL patch must already be active (the `fake_discord` fixture does that).
    Errors raised by the bot's connect task are re-raised on exit.
    """
    task: asyncio.Task[None] | None = None
    body_failed = False
    try:
        await bot.login(token)
        task = asyncio.create_task(bot.connect(), name="fakediscord-bot-connect")
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()
                raise RuntimeError("bot.connect() returned before the bot became ready")
            raise TimeoutError(f"bot not ready within {ready_timeout}s")
        yield bot
    except BaseException:
        body_failed = True
        raise
    finally:
        await bot.close()
        if task is not None:
            try:
                await asyncio.wait_for(task, 5.0)
            except Exception:
                if not body_failed:
                    raise
