"""The discord.py bot: shared session, engine, job queue and store, cogs, and error replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.assets import USER_AGENT, AssetResolver, PresetCatalog
from bot.config import Settings
from bot.discordio.budget import RateLimitWatch
from bot.discordio.fetch import FetchPolicy
from bot.engine import Engine
from bot.errors import StylebotError
from bot.features.presets.lookup import PresetLibrary
from bot.features.stylize.painters import LocalPainter, Painter
from bot.features.stylize.recent import RecentResults
from bot.features.stylize.remote import RemotePainter
from bot.jobs import JobQueue
from bot.loaders import load_engine, make_catalog, make_resolver
from bot.store import Store

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.features.stylize", "bot.features.styles", "bot.features.presets")
# How long close() waits for requests to post their last reply after the queue stops.
REPLY_GRACE = 5.0
HEALTH_TIMEOUT = 3.0  # seconds the start-up check waits for the painting service's /healthz


def intents() -> discord.Intents:
    """Guild messages with their content (for `!stylize`), nothing privileged beyond that."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    return wanted


class HelpCommand(commands.DefaultHelpCommand):
    """discord.py's help with each command's usage line (not its raw parameters), every command
    listed even to members who may not run it, and examples of the main commands."""

    def __init__(self) -> None:
        super().__init__(no_category="Other", show_parameter_descriptions=False,
                         verify_checks=False)

    def get_ending_note(self) -> str:
        prefix = self.context.clean_prefix
        return (
            "Examples:\n"
            f"  {prefix}stylize starry-night    (with a photo attached)\n"
            f"  {prefix}styles                  (a gallery of every preset)\n"
            f"  {prefix}preset add my-mural     (with an image attached; needs Manage Server)\n\n"
            + super().get_ending_note()
        )


class StyleBot(commands.Bot):
    """stylebot on one gateway connection: settings, the shared session, engine, job queue,
    store and presets, the features, where it may answer, and one sentence per failure.

    `session`, `store`, `engine`, `presets` and `painter` exist from `setup_hook` on, before
    any feature is loaded (with `jobs.backend = "serve"` there is no engine: the painter posts
    each job to the painting service); `close` releases what `setup_hook` opened."""

    session: aiohttp.ClientSession
    store: Store
    presets: PresetLibrary
    painter: Painter

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        allow_loopback_cdn: bool = False,
        **options: Any,
    ) -> None:
        # Each channel's message budget, read from Discord's rate-limit headers (the outbox).
        self.rate_limits = RateLimitWatch()
        options.setdefault("http_trace", self.rate_limits.trace)
        super().__init__(
            command_prefix=commands.when_mentioned_or(settings.discord.prefix),
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=HelpCommand(),
            description="Paints your photos in the style of famous artworks.",
            **options,
        )
        self.settings = settings
        self._engine = engine  # one given here is the caller's to close
        self._opened = contextlib.AsyncExitStack()  # what setup_hook opened, closed by close()
        self.limits = settings.image_limits()
        self.fetch_policy = FetchPolicy(
            max_bytes=settings.limits.max_input_bytes,
            max_pixels=settings.limits.max_input_pixels,
            timeout=settings.limits.download_timeout,
            allow_http_loopback=allow_loopback_cdn,
        )
        jobs = settings.jobs
        # A slot of the queue is a painting in flight: on the engine, or sent to the service.
        workers = jobs.remote_slots if jobs.backend == "serve" else jobs.workers
        self.jobs = JobQueue(workers=workers, max_queue=jobs.max_queue,
                             per_user=jobs.per_user, cooldown=jobs.cooldown,
                             position_interval=jobs.position_interval)
        self.recent = RecentResults(jobs.restyle_ttl)
        self.resolver: AssetResolver = make_resolver(settings)
        self.catalog: PresetCatalog = make_catalog(settings)
        self.requests: set[asyncio.Task[None]] = set()
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.tree.interaction_check = self.allowed_here  # type: ignore[method-assign]
        self.add_check(self._allowed_context)

    @property
    def engine(self) -> Engine:
        """The stylization engine (given, or loaded by setup_hook)."""
        if self._engine is None:
            raise RuntimeError("the engine is loaded in setup_hook")
        return self._engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        self._engine = engine

    # -- start-up --------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Open the session and store, load and warm the engine, add cogs, sync commands."""
        self.session = await self._opened.enter_async_context(
            aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}))
        data_dir = self.settings.paths.resolved_data_dir()
        self.store = await asyncio.to_thread(Store, data_dir / "stylebot.sqlite3")
        self._opened.callback(self.store.close)
        self.presets = PresetLibrary(self.catalog, self.resolver, self.store, self.limits)
        if self.settings.jobs.backend == "serve":
            self.painter = await self._remote_painter()
        else:
            self.painter = await self._local_painter()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self._sync_commands()
        log.info("ready to take jobs with %s", self.painter.name)

    async def _local_painter(self) -> LocalPainter:
        """Load (unless given) and warm the engine, with every catalog preset's style."""
        loaded = self._engine is None
        if self._engine is None:
            self._engine = await load_engine(self.settings, self.resolver)
            self._opened.callback(self._engine.close)
        await self.presets.warm_up(self.engine, self.session)
        if loaded:  # after the warm-up, so the precisions are those really compiled
            log.info("%s", self.engine.describe())
        return LocalPainter(self.engine, self.limits)

    async def _remote_painter(self) -> RemotePainter:
        """The painting service's painter; no engine here. A service that is down now is only
        a warning: the bot starts anyway and each job retries within its timeout."""
        jobs = self.settings.jobs
        painter = RemotePainter(
            self.session, jobs.serve_url, asyncio.get_running_loop(),
            retries=jobs.serve_retries, job_timeout=self.settings.limits.job_timeout,
        )
        if await painter.client.healthy(timeout=HEALTH_TIMEOUT):
            log.info("the painting service at %s is up", jobs.serve_url)
        else:
            log.warning(
                "The painting service at %s is not answering /healthz; starting anyway, and "
                "jobs will retry until it answers (check `stylebot serve` and jobs.serve_url).",
                jobs.serve_url,
            )
        return painter

    async def _sync_commands(self) -> None:
        guild_id = self.settings.discord.test_guild
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d application commands%s", len(synced),
                 f" to guild {guild_id}" if guild_id else "")

    # -- where the bot may answer ----------------------------------------------------------

    def _allowed(self, guild_id: int | None, channel_id: int | None) -> bool:
        rules = self.settings.discord
        if rules.allowed_guilds and guild_id not in rules.allowed_guilds:
            return False
        return not rules.allowed_channels or channel_id in rules.allowed_channels

    async def _allowed_context(self, ctx: commands.Context) -> bool:
        return self._allowed(ctx.guild.id if ctx.guild else None, ctx.channel.id)

    async def allowed_here(self, interaction: discord.Interaction) -> bool:
        """Application commands answer only in the allowed guilds and channels."""
        if self._allowed(interaction.guild_id, interaction.channel_id):
            return True
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])  # the only answer Discord accepts
            return False
        await interaction.response.send_message(
            "I'm not set up to paint in this channel.", ephemeral=True
        )
        return False

    # -- errors ------------------------------------------------------------------------

    async def on_command_error(self, ctx: commands.Context, error: commands.CommandError) -> None:
        """One friendly sentence for every failed prefix command; unexpected ones are logged."""
        if isinstance(error, commands.CommandNotFound | commands.DisabledCommand):
            return
        if isinstance(error, commands.CheckFailure) and not isinstance(
            error, commands.MissingPermissions | commands.NoPrivateMessage
        ):
            return  # a channel the bot is not allowed in: stay silent
        await ctx.reply(explain(error), mention_author=True)

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """The same for slash commands, answered privately."""
        text = explain(error)
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    # -- shutting down -------------------------------------------------------------------

    async def close(self) -> None:
        """Stop taking jobs, let running ones finish within the grace period, then close."""
        cancelled = await self.jobs.shutdown(self.settings.jobs.grace_period)
        if cancelled:
            log.info("told %d queued requests that the bot is restarting", len(cancelled))
        pending = [task for task in self.requests if task is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=REPLY_GRACE)
        await super().close()
        await self._opened.aclose()


class ShardedStyleBot(StyleBot, commands.AutoShardedBot):
    """The same bot over several shards, for large communities: only the gateway differs."""


def create_bot(settings: Settings, **options: Any) -> StyleBot:
    """The plain bot, or the sharded one when `discord.shards` or `discord.shard_count` is set
    (with `discord.shard_ids`, this process runs only those of the bot's shards)."""
    sharding = settings.discord.sharding()
    if sharding is None:
        return StyleBot(settings, **options)
    count, ids = sharding
    return ShardedStyleBot(settings, shard_count=count, shard_ids=list(ids) if ids else None,
                           **options)


def explain(error: Exception) -> str:
    """One sentence for the user; unexpected errors are logged under an id the sentence quotes."""
    original = getattr(error, "original", None) or getattr(error, "__cause__", None) or error
    if isinstance(original, StylebotError):
        return original.message
    if isinstance(error, commands.MissingPermissions | app_commands.MissingPermissions):
        return "You need the Manage Server permission to do that."
    if isinstance(error, commands.NoPrivateMessage | app_commands.NoPrivateMessage):
        return "That only works in a server."
    if isinstance(error, commands.MissingRequiredAttachment):
        return "Attach an image to that command; see `!help` for examples."
    if isinstance(error, commands.UserInputError):  # one sentence, not discord.py's plus ours
        text = str(error).strip().rstrip(".")
        return f"{text[:1].upper()}{text[1:]}; see `!help` for examples."
    error_id = secrets.token_hex(3)
    log.error("unexpected error %s", error_id, exc_info=original)
    return f"Something went wrong on my side (error {error_id}); it has been logged."
