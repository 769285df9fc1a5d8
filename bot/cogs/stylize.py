"""`!stylize` and `/stylize`: gather a photo and styles, queue the job, post it with buttons."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import secrets
from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordio.fetch import avatar_url, check_attachment, fetch_image_bytes
from bot.discordio.grammar import ArgumentError, StylizeArgs, parse_words
from bot.discordio.replies import ComponentReplier, MessageReplier, Replier, SlashReplier
from bot.discordio.views import (
    COLOURS,
    RESTYLE,
    STRENGTH_STEP,
    STRONGER,
    WEAKER,
    ResultView,
    persistent_result_view,
)
from bot.errors import EngineError, StylebotError
from bot.pipeline import StylizeOptions
from bot.recent import RecentResult
from bot.render import Rendered, RenderRequest, StyleInput, render

log = logging.getLogger(__name__)

USAGE = "[preset[:weight] ...] [strength=0..1] [colors=keep|style] [size=PX] [@member]"
EXAMPLES = """Attach a photo and name a style, or attach a photo and a style image.

Examples:
  !stylize starry-night            (with a photo attached)
  !stylize starry-night:2 great-wave:1 strength=0.7
  !stylize the-scream colors=keep size=1536
  !stylize udnie @someone          (paints their avatar)
  !stylize                         (with a photo and a style image attached)
Reply to a message with a photo to paint that photo. See !styles for every preset."""


class Stylize(commands.Cog):
    """Paint photos in the style of artworks."""

    def __init__(self, bot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_view(persistent_result_view(self.on_result_action))

    # -- entry points ----------------------------------------------------------------

    @commands.command(name="stylize", aliases=["stylise", "paint"], usage=USAGE, help=EXAMPLES,
                      brief="Paint a photo in the style of an artwork.")
    async def stylize_command(self, ctx: commands.Context, *, words: str = "") -> None:
        replier = MessageReplier(ctx.message, self._upload_limit(ctx.filesize_limit))
        await self._serve(replier, self._from_message(ctx.message, words))

    @app_commands.command(name="stylize", description="Paint a photo in the style of an artwork.")
    @app_commands.describe(
        content="The photo to paint",
        style="A preset style (see /styles)",
        style_image="Or your own style image",
        strength="0 keeps the photo, 1 is the full style (default 1)",
        keep_colors="Keep the photo's colours, take only the brushwork",
    )
    async def stylize_slash(
        self,
        interaction: discord.Interaction,
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
        await self._serve(replier, self._collect(interaction.guild_id, args, content, images))

    @stylize_slash.autocomplete("style")
    async def style_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = await self.bot.presets.names(interaction.guild_id)
        typed = current.strip().lower()
        matches = [n for n in names if typed in n] if typed else names
        return [app_commands.Choice(name=n, value=n) for n in matches[:25]]

    # -- collecting inputs --------------------------------------------------------------

    async def _from_message(self, message: discord.Message, words: str) -> RenderRequest:
        args = parse_words(words)
        attachments = list(message.attachments)
        content: discord.Attachment | str | None = None
        if args.member_ids:
            member = next((m for m in message.mentions if m.id == args.member_ids[0]), None)
            if member is None:
                raise ArgumentError("I can't see the member you mentioned.")
            content = avatar_url(member)
        elif message.reference is not None:
            content = await self._replied_image(message)
        if content is None:
            if not attachments:
                raise ArgumentError(
                    "Attach a photo (or reply to one, or mention someone) to paint it; "
                    "see `!help stylize`."
                )
            content = attachments.pop(0)
        guild_id = message.guild.id if message.guild else None
        return await self._collect(guild_id, args, content, attachments)

    async def _replied_image(self, message: discord.Message) -> discord.Attachment | None:
        reference = message.reference
        replied = reference.resolved if reference else None
        if not isinstance(replied, discord.Message) and reference and reference.message_id:
            try:
                replied = await message.channel.fetch_message(reference.message_id)
            except discord.HTTPException:
                raise ArgumentError("I can't read the message you replied to.") from None
        if not isinstance(replied, discord.Message):
            return None
        return next((a for a in replied.attachments if _is_image(a)), None)

    async def _collect(
        self,
        guild_id: int | None,
        args: StylizeArgs,
        content: discord.Attachment | str,
        style_images: list[discord.Attachment],
    ) -> RenderRequest:
        limits = self.bot.settings.limits
        count = len(args.styles) + len(style_images)
        if count == 0:
            raise ArgumentError(
                "Pick a style: a preset such as starry-night (see `!styles`) "
                "or a second image attached."
            )
        if count > limits.max_styles:
            raise ArgumentError(f"I can blend at most {limits.max_styles} styles at once.")
        presets = [await self.bot.presets.image(guild_id, name) for name, _ in args.styles]
        for index, image in enumerate(style_images, start=1):
            check_attachment(image, self.bot.fetch_policy, what=f"style image {index}")
        if isinstance(content, discord.Attachment):
            check_attachment(content, self.bot.fetch_policy, what="photo")
        downloads = [self._download(content, "photo")] + [
            self._download(image, f"style image {i}") for i, image in enumerate(style_images, 1)
        ]
        content_bytes, *style_bytes = await asyncio.gather(*downloads)
        styles = [StyleInput(name, data, weight)
                  for (name, data), (_, weight) in zip(presets, args.styles, strict=True)]
        styles += [StyleInput(f"image {i}", data) for i, data in enumerate(style_bytes, 1)]
        size = min(args.size or limits.default_output_side, limits.max_output_side)
        options = StylizeOptions(
            strength=1.0 if args.strength is None else args.strength,
            keep_colours=bool(args.keep_colours),
            max_side=size,
        )
        return RenderRequest(content_bytes, tuple(styles), options)

    async def _download(self, source: discord.Attachment | str, what: str) -> bytes:
        url = source.url if isinstance(source, discord.Attachment) else source
        return await fetch_image_bytes(self.bot.session, url, self.bot.fetch_policy, what=what)

    # -- running -------------------------------------------------------------------------

    async def _serve(self, replier: Replier, collecting) -> None:
        """Turn a request into exactly one outcome: the painting, or one sentence why not."""
        task = asyncio.current_task()
        self.bot.requests.add(task)
        try:
            self.bot.jobs.check(replier.user_id)
            request = await collecting
            await self.run_job(replier, request)
        except Exception as exc:
            await self._fail(replier, exc)
        finally:
            with contextlib.suppress(Exception):
                collecting.close()  # never awaited when the user was refused early
            self.bot.requests.discard(task)

    async def run_job(self, replier: Replier, request: RenderRequest) -> None:
        """Queue the painting, show the queue position, then post it with its buttons."""
        work = functools.partial(render, self.bot.engine, request, self.bot.limits,
                                 replier.filesize_limit)
        job = self.bot.jobs.submit(
            replier.user_id, work, timeout=self.bot.settings.limits.job_timeout,
            label=_describe_styles(request), on_position=_position_reporter(replier),
        )
        async with replier.typing():
            rendered: Rendered = await job.result()
        file = discord.File(io.BytesIO(rendered.data), filename=rendered.filename)
        message_id = await replier.result(_caption(request, rendered), file,
                                          await self._view(request, replier))
        self.bot.recent.put(message_id, RecentResult(replier.user_id, request))

    async def _view(self, request: RenderRequest, replier: Replier) -> ResultView:
        names = await self.bot.presets.names(replier.guild_id)
        return ResultView(
            self.on_result_action, strength=request.options.strength,
            keep_colours=request.options.keep_colours, presets=names,
            timeout=self.bot.settings.jobs.restyle_ttl,
        )

    async def _fail(self, replier: Replier, exc: BaseException) -> None:
        if isinstance(exc, StylebotError) and not isinstance(exc, EngineError):
            text = exc.message
        else:
            error_id = secrets.token_hex(3)
            log.error("job failed, error %s", error_id, exc_info=exc)
            reason = exc.message if isinstance(exc, EngineError) else "Something went wrong"
            text = f"{reason.rstrip('.')} (error {error_id}); it has been logged."
        try:
            await replier.error(text)
        except discord.HTTPException:
            log.warning("could not deliver an error reply", exc_info=True)

    # -- buttons and menu under a result -----------------------------------------------------

    async def on_result_action(
        self, interaction: discord.Interaction, action: str, choice: str | None
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
        await self._serve(replier, self._adjusted(interaction.guild_id, entry.request,
                                                  action, choice))

    async def _adjusted(self, guild_id, request: RenderRequest, action: str, choice: str | None):
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


def _is_image(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or ""
    return kind.startswith("image/") or attachment.width is not None


def _position_reporter(replier: Replier):
    shown = False

    async def report(position: int) -> None:
        nonlocal shown
        if position > 0:
            shown = True
            await replier.status(f"⏳ You're number {position} in the queue.")
        elif shown:
            await replier.status("🎨 Painting…")

    return report


def _describe_styles(request: RenderRequest) -> str:
    parts = []
    for style in request.styles:
        weight = "" if len(request.styles) == 1 or style.weight == 1 else f" ×{style.weight:g}"
        parts.append(f"{style.name}{weight}")
    return " + ".join(parts)


def _caption(request: RenderRequest, rendered: Rendered) -> str:
    options = request.options
    bits = [f"🎨 {_describe_styles(request)}", f"strength {options.strength:g}"]
    if options.keep_colours:
        bits.append("colours kept")
    bits += [f"{rendered.width}×{rendered.height}", f"{rendered.seconds:.1f} s"]
    return " · ".join(bits)


async def setup(bot) -> None:
    await bot.add_cog(Stylize(bot))
