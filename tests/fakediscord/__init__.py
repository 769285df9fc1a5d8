"""Loopback fake Discord (REST + gateway + CDN on 127.0.0.1) for driving a real discord.py bot.

The `fake_discord` fixture (fixtures.py) starts a FakeDiscord and patches discord.py's REST
base, default gateway and CDN base to it::

    async def test_echo(fake_discord):
        bot = make_bot()                               # any discord.Client / commands.Bot
        async with fake_discord.running(bot):          # login, READY, GUILD_CREATE, on_ready
            img = fake_discord.add_attachment(png_bytes, "cat.png")
            await fake_discord.send_message("!echo", attachments=[img])
            upload = await fake_discord.next_upload()  # SentMessage; upload.file.data is bytes
        fake_discord.assert_clean()                    # no unknown routes, no fake errors

Modules: server (FakeDiscord), actions (acting as users), recorded (records and waits),
messages (bot message bodies), rest (REST routes), gateway, cdn, faults, ratelimits (Discord's
rate limits, on by default), state (record types),
world (guild/channels/users), payloads (JSON builders), client (URL patch, run_bot).
"""

from .client import patch_discord, run_bot
from .faults import Faults, RouteFault
from .ratelimits import Bucket, RateLimiter, RateLimitHit, RateLimits
from .server import FakeDiscord, SentInteraction
from .state import (
    CommandSync,
    DeletedMessage,
    GatewayRecord,
    HeartbeatRecord,
    ReactionCall,
    Record,
    RequestRecord,
    SentMessage,
    ServerError,
    TypingCall,
    UploadedFile,
    WaitTimeout,
)

__all__ = [
    "Bucket",
    "CommandSync",
    "DeletedMessage",
    "FakeDiscord",
    "Faults",
    "GatewayRecord",
    "HeartbeatRecord",
    "ReactionCall",
    "Record",
    "RequestRecord",
    "RateLimitHit",
    "RateLimiter",
    "RateLimits",
    "RouteFault",
    "SentInteraction",
    "SentMessage",
    "ServerError",
    "TypingCall",
    "UploadedFile",
    "WaitTimeout",
    "patch_discord",
    "run_bot",
]
