"""`stylebot run`: start the Discord bot, stopping gracefully on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import discord

from bot.config import Settings, check_permissions

log = logging.getLogger("bot")


def run_bot(settings: Settings, config_path: Path | None) -> int:
    """Log like discord.py does, then run until the bot is closed or signalled."""
    token = settings.discord.require_token()
    discord.utils.setup_logging(level=getattr(logging, settings.logging.level))
    if config_path is not None and (warning := check_permissions(config_path)):
        log.warning(warning)
    asyncio.run(_serve(settings, token))
    return 0


async def _serve(settings: Settings, token: str) -> None:
    from bot.app import create_bot

    bot = create_bot(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stop, bot, signum)
    async with bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            from bot.errors import ConfigError

            raise ConfigError("Discord refused the token; check DISCORD_TOKEN.") from None


def _stop(bot: discord.Client, signum: int) -> None:
    log.info("received %s: finishing running jobs, then stopping", signal.Signals(signum).name)
    if not bot.is_closed():
        asyncio.get_running_loop().create_task(bot.close())
