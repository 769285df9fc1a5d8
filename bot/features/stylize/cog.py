"""`!stylize` and `/stylize`: plan a request, journal it, queue the job, post it with buttons."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordio.outbox import Outboxes
from bot.discordio.typing import SharedTyping
from bot.errors import EngineError, StylebotError
from bot.features.stylize.animated import AnimatedJobs
from bot.features.stylize.captions import caption, describe_styles, position_reporter
from bot.features.stylize.grammar import StylizeArgs
from bot.features.stylize.inputs import InputPlanner, Planned
from bot.features.stylize.journal import Journal, interaction_address, message_address
from bot.features.stylize.painting import Rendered, RenderRequest, StyleInput
from bot.features.stylize.recent import RecentResult
from bot.features.stylize.replies import (
    ComponentReplier,
    MessageReplier,
    Replier,
    SlashReplier,
    tell,
)
from bot.features.stylize.restarts import Restarts
from bot.features.stylize.views import (
    COLOURS,
    RESTYLE,
    STRENGTH_STEP,
    STRONGER,
    WEAKER,
    ResultView,
    persistent_result_view,
)
from bot.jobs import OnCooldown, QueueFull, ShuttingDown, UserBusy

if TYPE_CHECKING:
    from bot.app import StyleBot

log = logging.getLogger(__name__)

RESTARTING = "The bot is restarting; your picture will follow shortly."
ADMISSION_RETRY = 1.0  # seconds between tries to queue a redone request the queue refused

USAGE = "[preset[:weight] ...] [strength=0..1] [colors=keep|style] [size=PX] [@member]"
EXAMPLES = """Attach a photo and name a style, or attach a photo and a style image.

Examples:
  !stylize starry-night            (with a photo attached)
  !stylize starry-night:2 great-wave:1 strength=0.7
  !stylize the-scream colors=keep size=1536
  !stylize udnie @someone          (paints their avatar)
  !stylize                         (with a photo and a style image attached)
Reply to a message with a photo to paint that photo. See !styles for every preset.
A GIF or short video (attached, or a GIF from the GIF picker replied to) is painted frame by
frame, as a GIF or MP4; a video's sound is dropped."""


class Stylize(commands.Cog):
    """Paint photos in the style of artworks."""

    def __init__(self, bot: StyleBot) -> None:
        self.bot = bot
        self.inputs = InputPlanner(bot)
        self.journal = Journal(bot.store)
        self.typing = SharedTyping()  # one indicator per channel, shared by its requests
        self.outboxes = Outboxes(bot.rate_limits)  # one per channel: paintings go first
        self.restarts = Restarts(bot, self.journal, self.inputs, self.typing, self.serve_again,
                                 outboxes=self.outboxes)
        self.animations = AnimatedJobs(bot, self.journal, self._view)

    async def cog_load(self) -> None:
        self.bot.add_view(persistent_result_view(self.on_result_action))
        if not self.bot.is_ready():  # read before connecting, so no new request is among them
            self.restarts.read_journal()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Once connected after a start, redo what the journal holds from the last run."""
        await self.restarts.redo_unfinished()

    # -- commands ----------------------------------------------------------------------

    @commands.command(name="stylize", aliases=["stylise", "paint"], usage=USAGE, help=EXAMPLES,
                      brief="Paint a photo in the style of an artwork.")
    async def stylize_command(self, ctx: commands.Context[StyleBot], *, words: str = "") -> None:
        limit = self._upload_limit(ctx.filesize_limit)
        replier = MessageReplier(ctx.message, limit, self.typing, self.outboxes.of(ctx.channel))
        address = message_address(ctx.message, limit)
        await self.serve_new(replier, self.inputs.from_message(ctx.message, words, address))

    @app_commands.command(name="stylize", description="Paint a photo in the style of an artwork.")
    @app_commands.describe(
        content="The photo to paint (a GIF or short video is painted frame by frame)",
        style="A preset style (see /styles)",
        style_image="Or your own style image",
        strength="0 gives the photo unchanged, 1 the full style (default 1)",
        keep_colors="Keep the photo's colours, take only the brushwork",
    )
    async def stylize_slash(
        self,
        interaction: discord.Interaction[StyleBot],
        content: discord.Attachment,
        style: str | None = None,
        style_image: discord.Attachment | None = None,
        strength: app_commands.Range[float, 0.0, 1.0] = 1.0,
        keep_colors: bool = False,
    ) -> None:
        if (style is None) == (style_image is None):
            await interaction.response.send_message(
                "Choose exactly one of style (a preset) or style_image (your own picture).",
                ephemeral=True,
            )
            return
        await interaction.response.defer(thinking=True)
        replier = SlashReplier(interaction)
        replier.filesize_limit = self._upload_limit(interaction.filesize_limit)
        args = StylizeArgs(styles=((style, 1.0),) if style else (), strength=strength,
                           keep_colours=keep_colors)
        images = [style_image] if style_image else []
        address = interaction_address(interaction, replier.filesize_limit)
        await self.serve_new(replier, self.inputs.plan(address, args, content, images))

    @stylize_slash.autocomplete("style")
    async def style_autocomplete(
        self, interaction: discord.Interaction[StyleBot], current: str
    ) -> list[app_commands.Choice[str]]:
        names = await self.bot.presets.names(interaction.guild_id)
        typed = current.strip().lower()
        matches = [n for n in names if typed in n] if typed else names
        return [app_commands.Choice(name=n, value=n) for n in matches[:25]]

    # -- serving: exactly one outcome per request --------------------------------------------

    async def serve_new(self, replier: Replier, planning: Coroutine[Any, Any, Planned]) -> None:
        """A new request: refused at once if its user may not queue now, else planned by
        reference, journaled before the user sees anything, fetched and painted."""
        async with self._outcome(replier, planning) as journaled:
            self.bot.jobs.check(replier.user_id)
            recipe, presets = await planning
            journaled.job_id = self.journal.add(recipe)
            request = await self.inputs.gather(recipe, presets)
            await self.run_job(replier, request, journal_id=journaled.job_id)

    async def serve_again(self, replier: Replier, inputs: Awaitable[RenderRequest],
                          journal_id: str | None = None) -> None:
        """Inputs known already: a result's button (refused at once if its user may not queue
        now; not journaled), or with `journal_id` a journaled request redone after a restart
        (it waits for the queue to admit it)."""
        async with self._outcome(replier, inputs, journal_id):
            if journal_id is None:
                self.bot.jobs.check(replier.user_id)
            request = await inputs
            await self.run_job(replier, request, journal_id=journal_id,
                               patient=journal_id is not None)

    @contextlib.asynccontextmanager
    async def _outcome(self, replier: Replier, inputs: Awaitable[object],
                       journal_id: str | None = None) -> AsyncIterator[_Journaled]:
        """Around serving one request: an exception becomes its one sentence. A journaled
        request leaves the journal once its outcome is delivered; if the bot stops first it
        stays there and the user is told RESTARTING, to be redone at the next start."""
        task = asyncio.current_task()
        assert task is not None
        self.bot.requests.add(task)
        journaled = _Journaled(journal_id)
        keep = True  # a cancelled request (the loop going down) stays journaled
        try:
            yield journaled
            keep = False
        except Exception as exc:
            keep = journaled.job_id is not None and (
                isinstance(exc, ShuttingDown) or self.bot.is_closed())
            if keep:
                await tell(replier, RESTARTING)
            else:
                await self._fail(replier, exc)
        finally:
            if inspect.iscoroutine(inputs):
                with contextlib.suppress(Exception):
                    inputs.close()  # never awaited when the user was refused early
            if journaled.job_id is not None and not keep:
                self.journal.remove(journaled.job_id)
            self.bot.requests.discard(task)

    async def run_job(self, replier: Replier, request: RenderRequest, *,
                      journal_id: str | None = None, patient: bool = False) -> None:
        """Queue the painting, show the queue position, then post it with its buttons.

        A journaled job is marked running when it starts; a `patient` one (a redo after a
        restart) waits for the queue to admit it instead of being refused."""
        if await self.animations.wants(request):  # a GIF or video: painted frame by frame
            await self.animations.run_job(replier, request, journal_id=journal_id,
                                          patient=patient)
            return
        painter = self.bot.painter  # the engine here, or the painting service (jobs.backend)
        steps = painter.steps(request, replier.status)
        report = position_reporter(replier)
        if journal_id is not None:
            report = self.journal.marking_running(journal_id, report)
        while True:
            try:
                job = self.bot.jobs.submit(
                    replier.user_id, steps.paint, prepare=steps.prepare,
                    timeout=self.bot.settings.limits.job_timeout,
                    label=describe_styles(request), on_position=report,
                )
                break
            except (UserBusy, OnCooldown, QueueFull) as exc:
                if not patient:
                    raise
                await asyncio.sleep(getattr(exc, "retry_after", ADMISSION_RETRY))
        replier.accepted()
        async with replier.typing():
            rendered: Rendered = await painter.finish(await job.result(), replier.filesize_limit)
        file = discord.File(io.BytesIO(rendered.data), filename=rendered.filename)
        message_id = await replier.result(caption(request, rendered), file,
                                          await self._view(request, replier))
        self.bot.recent.put(message_id, RecentResult(replier.user_id, request))

    async def _view(self, request: RenderRequest, replier: Replier) -> ResultView:
        """The result's buttons, for display only: clicks are routed by custom id to the one
        persistent view registered in cog_load, so this copy is stopped before it is sent
        and discord.py does not keep a view per result message (memory stays bounded by
        the recent-results cache)."""
        names = await self.bot.presets.names(replier.guild_id)
        view = ResultView(
            self.on_result_action, strength=request.options.strength,
            keep_colours=request.options.keep_colours, presets=names, timeout=None,
        )
        view.stop()
        return view

    async def _fail(self, replier: Replier, exc: BaseException) -> None:
        if isinstance(exc, StylebotError) and not isinstance(exc, EngineError):
            text = exc.message
        else:
            error_id = secrets.token_hex(3)
            log.error("job failed, error %s", error_id, exc_info=exc)
            reason = exc.message if isinstance(exc, EngineError) else "Something went wrong"
            text = f"{reason.rstrip('.')} (error {error_id}); it has been logged."
        await tell(replier, text)

    # -- buttons and menu under a result -----------------------------------------------------

    async def on_result_action(
        self, interaction: discord.Interaction[StyleBot], action: str, choice: str | None
    ) -> None:
        """Weaker/Stronger/colours/restyle: re-run the result's inputs for its owner only."""
        entry = self.bot.recent.get(interaction.message.id) if interaction.message else None
        if entry is None:
            await interaction.response.send_message(
                "These buttons have expired; run /stylize again.", ephemeral=True)
            return
        if interaction.user.id != entry.owner_id:
            await interaction.response.send_message(
                "This isn't yours; run /stylize to paint your own.", ephemeral=True)
            return
        await interaction.response.defer()
        replier = ComponentReplier(interaction)
        replier.filesize_limit = self._upload_limit(interaction.filesize_limit)
        await self.serve_again(replier, self._adjusted(interaction.guild_id, entry.request,
                                                       action, choice))

    async def _adjusted(self, guild_id: int | None, request: RenderRequest, action: str,
                        choice: str | None) -> RenderRequest:
        options = request.options
        if action == WEAKER:
            options = replace(options, strength=max(0.0, options.strength - STRENGTH_STEP))
        elif action == STRONGER:
            options = replace(options, strength=min(1.0, options.strength + STRENGTH_STEP))
        elif action == COLOURS:
            options = replace(options, keep_colours=not options.keep_colours)
        elif action == RESTYLE and choice:
            name, data = await self.bot.presets.image(guild_id, choice)
            return replace(request, styles=(StyleInput(name, data),))
        return replace(request, options=options)

    def _upload_limit(self, discord_limit: int) -> int:
        configured = self.bot.settings.limits.max_upload_bytes
        return min(discord_limit, configured) if configured else discord_limit


@dataclass
class _Journaled:
    """The journal id of the request being served, once it has one."""

    job_id: str | None = None
