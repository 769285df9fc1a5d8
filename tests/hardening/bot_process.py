"""`stylebot run` as a real process against a loopback fake Discord: only the URLs differ.

    python -m tests.hardening.bot_process --api http://127.0.0.1:PORT --config bot.toml

points discord.py's REST base, default gateway and CDN base at the fake (as the in-process
tests' patch_discord does), lets the bot fetch images from that loopback CDN, and then runs
the production entry point, bot.cli.main(["run", ...]), whose exit code it returns.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from types import SimpleNamespace


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hardening.bot_process")
    parser.add_argument("--api", required=True, help="the fake's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--config", required=True, help="the bot's TOML settings file")
    args = parser.parse_args(argv)

    import bot.app
    from bot.cli import main as stylebot
    from tests.fakediscord.client import patch_discord

    base = args.api.rstrip("/")
    fake = SimpleNamespace(api_base=f"{base}/api/v10", base_url=base,
                           gateway_url="ws" + base.removeprefix("http") + "/gateway")
    bot.app.create_bot = functools.partial(bot.app.create_bot, allow_loopback_cdn=True)
    with patch_discord(fake):
        return stylebot(["run", "--config", args.config])


if __name__ == "__main__":
    sys.exit(main())
