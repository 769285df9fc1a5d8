"""`stylebot run`: start the Discord bot, stopping gracefully on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import discord

from bot.config import Settings, check_permissions
from bot.errors import StylebotError

log = logging.getLogger("bot")

# discord.py's own line format, without its colours (used when stderr is not a terminal).
PLAIN_LOG_FORMAT = logging.Formatter(
    "[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{"
)


def run_bot(settings: Settings, config_path: Path | None) -> int:
    """Log like discord.py does, then run until the bot is closed or signalled."""
    token = settings.discord.require_token()
    setup_logging(settings.logging.level)
    if config_path is not None and (warning := check_permissions(config_path)):
        log.warning(warning)
    # The bot has no voice: discord.py's "PyNaCl / davey is not installed" warnings are noise.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    asyncio.run(_serve(settings, token))
    return 0


def setup_logging(level: str) -> None:
    """discord.py's log lines on stderr, in colour only on a terminal (discord.py would also
    colour them into a file or pipe inside a container)."""
    if sys.stderr.isatty():
        discord.utils.setup_logging(level=getattr(logging, level))
    else:
        discord.utils.setup_logging(formatter=PLAIN_LOG_FORMAT, level=getattr(logging, level))


def unreachable(exc: aiohttp.ClientConnectionError) -> StylebotError:
    """One sentence for a connection to Discord that failed, with its short reason."""
    reason = _first_line(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        if error.errno is not None and error.errno > 0 and not isinstance(error, socket.gaierror):
            cause = os.strerror(error.errno)
        else:  # a name lookup's own message, e.g. "Name or service not known"
            cause = error.strerror or _first_line(error) or type(error).__name__
        reason = f"{exc.host}:{exc.port}: {cause}"
    return StylebotError(f"Could not reach Discord ({reason}); check the network and try again.")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else ""


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
        except aiohttp.ClientConnectionError as exc:
            raise unreachable(exc) from None


def _stop(bot: discord.Client, signum: int) -> None:
    log.info("received %s: finishing running jobs, then stopping", signal.Signals(signum).name)
    if not bot.is_closed():
        asyncio.get_running_loop().create_task(bot.close())
