"""`stylebot run` as a real process against a loopback fake Discord: only the URLs differ.

    python -m tests.hardening.bot_process --api http://127.0.0.1:PORT --config bot.toml [--hold F]

points discord.py's REST base, default gateway and CDN base at the fake (as the in-process
tests' patch_discord does), lets the bot fetch images from that loopback CDN, and then runs
the production entry point, bot.cli.main(["run", ...]), whose exit code it returns. With
--hold, the real engine does not paint while the file F exists (tests/gated.py).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hardening.bot_process")
    parser.add_argument("--api", required=True, help="the fake's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--config", required=True, help="the bot's TOML settings file")
    parser.add_argument("--hold", type=Path, help="no painting while this file exists")
    args = parser.parse_args(argv)

    import bot.app
    from bot.cli import main as stylebot
    from tests.fakediscord.client import patch_discord

    base = args.api.rstrip("/")
    fake = SimpleNamespace(api_base=f"{base}/api/v10", base_url=base,
                           gateway_url="ws" + base.removeprefix("http") + "/gateway")
    bot.app.create_bot = functools.partial(bot.app.create_bot, allow_loopback_cdn=True)
    if args.hold is not None:
        from tests.gated import hold_file_gated

        load_engine = bot.app.load_engine

        async def load_held_engine(*args_, **kwargs):
            return hold_file_gated(await load_engine(*args_, **kwargs), args.hold)

        bot.app.load_engine = load_held_engine
    with patch_discord(fake):
        return stylebot(["run", "--config", args.config])


if __name__ == "__main__":
    sys.exit(main())
