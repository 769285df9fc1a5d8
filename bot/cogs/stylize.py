"""`!stylize` and `/stylize`: gather a photo and styles, queue the job, post it with buttons."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import secrets
from collections import defaultdict
from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordio.fetch import avatar_url, check_attachment, fetch_image_bytes
from bot.discordio.grammar import ArgumentError, StylizeArgs, parse_words
from bot.discordio.replies import (
    REPLY_MENTIONS,
    ComponentReplier,
    MessageReplier,
    Replier,
    SlashReplier,
)
from bot.discordio.views import (
    COLOURS,
    RESTYLE,
    STRENGTH_STEP,
    STRONGER,
    WEAKER,
    ResultView,
    persistent_result_view,
)
from bot.errors import EngineError, ImageError, StylebotError
from bot.imaging.limits import MIN_OUTPUT_SIDE
from bot.jobs import OnCooldown, QueueFull, ShuttingDown, UserBusy
from bot.journal import (
    MAX_RERUNS,
    Recipe,
    StyleSource,
    interaction_address,
    message_address,
)
from bot.pipeline import StylizeOptions
from bot.recent import RecentResult
from bot.render import Rendered, RenderRequest, StyleInput, render

log = logging.getLogger(__name__)

RESTARTING = "The bot is restarting; your picture will follow shortly."
REFETCH_FAILED = "I restarted and could not fetch your photo again; please send it once more."
GAVE_UP = (f"I could not finish your picture after restarting {MAX_RERUNS} times; "
           "please send it once more.")
# A new request's recipe and the (name, image bytes) of its presets, looked up while planning.
Planned = tuple[Recipe, list[tuple[str, bytes]]]
ADMISSION_RETRY = 1.0  # seconds between tries to queue a redone request the queue refused

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
        self._unfinished: list[tuple[str, dict]] = []

    async def cog_load(self) -> None:
        self.bot.add_view(persistent_result_view(self.on_result_action))
        if not self.bot.is_ready():  # read before connecting, so no new request is among them
            self._unfinished = self._journal(self.bot.store.journal_pending) or []

    # -- entry points ----------------------------------------------------------------

    @commands.command(name="stylize", aliases=["stylise", "paint"], usage=USAGE, help=EXAMPLES,
                      brief="Paint a photo in the style of an artwork.")
    async def stylize_command(self, ctx: commands.Context, *, words: str = "") -> None:
        limit = self._upload_limit(ctx.filesize_limit)
        replier = MessageReplier(ctx.message, limit)
        address = message_address(ctx.message, limit)
        await self._serve(replier, self._from_message(ctx.message, words, address))

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
        address = interaction_address(interaction, replier.filesize_limit)
        await self._serve(replier, self._plan(address, args, content, images))

    @stylize_slash.autocomplete("style")
    async def style_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = await self.bot.presets.names(interaction.guild_id)
        typed = current.strip().lower()
        matches = [n for n in names if typed in n] if typed else names
        return [app_commands.Choice(name=n, value=n) for n in matches[:25]]

    # -- collecting inputs --------------------------------------------------------------

    async def _from_message(self, message: discord.Message, words: str, address: dict) -> Planned:
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
        return await self._plan(address, args, content, attachments)

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

    async def _plan(
        self,
        address: dict,
        args: StylizeArgs,
        content: discord.Attachment | str,
        style_images: list[discord.Attachment],
    ) -> Planned:
        """Check the styles and attachments and name every input by reference; download nothing
        (the preset images looked up on the way come along, so _gather need not look again)."""
        limits = self.bot.settings.limits
        count = len(args.styles) + len(style_images)
        if count == 0:
            raise ArgumentError(
                "Pick a style: a preset such as starry-night (see `!styles`) "
                "or a second image attached."
            )
        if count > limits.max_styles:
            raise ArgumentError(f"I can blend at most {limits.max_styles} styles at once.")
        guild_id = address["guild_id"]
        presets = [await self.bot.presets.image(guild_id, name) for name, _ in args.styles]
        for index, image in enumerate(style_images, start=1):
            check_attachment(image, self.bot.fetch_policy, what=f"style image {index}")
        if isinstance(content, discord.Attachment):
            check_attachment(content, self.bot.fetch_policy, what="photo")
        styles = [StyleSource(preset=name, weight=weight)
                  for (name, _), (_, weight) in zip(presets, args.styles, strict=True)]
        styles += [StyleSource(url=image.url) for image in style_images]
        wanted = args.size or limits.default_output_side
        size = max(MIN_OUTPUT_SIDE, min(wanted, limits.max_output_side))
        options = StylizeOptions(
            strength=1.0 if args.strength is None else args.strength,
            keep_colours=bool(args.keep_colours),
            max_side=size,
        )
        url = content.url if isinstance(content, discord.Attachment) else content
        return Recipe(**address, content_url=url, styles=tuple(styles), options=options), presets

    async def _gather(self, recipe: Recipe, presets: list[tuple[str, bytes]] | None = None, *,
                      again: bool = False) -> RenderRequest:
        """Fetch a recipe's presets (unless given) and images; `again` (after a restart): a
        failed download is the one sentence REFETCH_FAILED."""
        named = [style for style in recipe.styles if style.preset is not None]
        if presets is None:
            presets = [await self.bot.presets.image(recipe.guild_id, s.preset) for s in named]
        urls = [style.url for style in recipe.styles if style.preset is None]
        downloads = [self._download(recipe.content_url, "photo")] + [
            self._download(url, f"style image {i}") for i, url in enumerate(urls, 1)
        ]
        try:
            content_bytes, *style_bytes = await asyncio.gather(*downloads)
        except ImageError:
            if again:
                raise StylebotError(REFETCH_FAILED) from None
            raise
        styles = [StyleInput(name, data, style.weight)
                  for (name, data), style in zip(presets, named, strict=True)]
        styles += [StyleInput(f"image {i}", data) for i, data in enumerate(style_bytes, 1)]
        return RenderRequest(content_bytes, tuple(styles), recipe.options)

    async def _download(self, url: str, what: str) -> bytes:
        return await fetch_image_bytes(self.bot.session, url, self.bot.fetch_policy, what=what)

    # -- running -------------------------------------------------------------------------

    async def _serve(self, replier: Replier, collecting, *, journal_id: str | None = None) -> None:
        """Turn a request into exactly one outcome: the painting, or one sentence why not.

        `collecting` gives a Planned recipe (a new request, journaled before the user sees
        anything) or a RenderRequest (a button re-run or a redo, not journaled again). A
        journaled request leaves the journal once its outcome is delivered; if the bot stops
        first it stays there and the user is told RESTARTING, to be redone at the next start
        (journal_id marks a redo).
        """
        task = asyncio.current_task()
        self.bot.requests.add(task)
        redo = journal_id is not None
        keep = True  # a cancelled request (the loop going down) stays journaled
        try:
            if not redo:
                self.bot.jobs.check(replier.user_id)
            planned = await collecting
            if isinstance(planned, tuple):
                recipe, presets = planned
                journal_id = self._journal_add(recipe)
                planned = await self._gather(recipe, presets)
            await self.run_job(replier, planned, journal_id=journal_id, patient=redo)
            keep = False
        except Exception as exc:
            keep = journal_id is not None and (
                isinstance(exc, ShuttingDown) or self.bot.is_closed())
            if keep:
                await self._tell(replier, RESTARTING)
            else:
                await self._fail(replier, exc)
        finally:
            with contextlib.suppress(Exception):
                collecting.close()  # never awaited when the user was refused early
            if journal_id is not None and not keep:
                self._journal(self.bot.store.journal_remove, journal_id)
            self.bot.requests.discard(task)

    async def run_job(self, replier: Replier, request: RenderRequest, *,
                      journal_id: str | None = None, patient: bool = False) -> None:
        """Queue the painting, show the queue position, then post it with its buttons.

        A journaled job is marked running when it starts; a `patient` one (a redo after a
        restart) waits for the queue to admit it instead of being refused."""
        work = functools.partial(render, self.bot.engine, request, self.bot.limits,
                                 replier.filesize_limit)
        report = _position_reporter(replier)
        if journal_id is not None:
            report = self._marking_running(journal_id, report)
        while True:
            try:
                job = self.bot.jobs.submit(
                    replier.user_id, work, timeout=self.bot.settings.limits.job_timeout,
                    label=_describe_styles(request), on_position=report,
                )
                break
            except (UserBusy, OnCooldown, QueueFull) as exc:
                if not patient:
                    raise
                await asyncio.sleep(getattr(exc, "retry_after", ADMISSION_RETRY))
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
        await self._tell(replier, text)

    async def _tell(self, replier: Replier, text: str) -> None:
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

    # -- the job journal: nothing accepted is lost to a restart ---------------------------------

    def _journal(self, operation, *args):
        """Run a Store journal call; a failing store is logged, never fatal. On the loop on
        purpose: each is one small indexed statement (well under a millisecond), cheaper than
        a thread hop that would also contend for the store's lock with preset lookups."""
        try:
            return operation(*args)
        except StylebotError:
            log.warning("job journal: %s failed", operation.__name__, exc_info=True)
            return None

    def _journal_add(self, recipe: Recipe) -> str | None:
        """Journal a new request; None (it runs, unprotected) if the store fails."""
        job_id = secrets.token_hex(8)
        try:
            self.bot.store.journal_add(job_id, recipe.to_payload())
        except StylebotError:
            log.warning("job journal: could not add a request; it will not survive a restart",
                        exc_info=True)
            return None
        return job_id

    def _marking_running(self, journal_id: str, report):
        async def on_position(position: int) -> None:
            if position == 0:
                self._journal(self.bot.store.journal_set_state, journal_id, "running")
            await report(position)

        return on_position

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Once connected after a start, redo what the journal holds from the last run."""
        unfinished, self._unfinished = self._unfinished, []
        if unfinished:
            await self._redo_all(unfinished)

    async def _redo_all(self, unfinished: list[tuple[str, dict]]) -> None:
        """Redo journaled requests: each user's in order (the per-user limit), users at once."""
        by_user: dict[int, list[tuple[str, Recipe]]] = defaultdict(list)
        for job_id, payload in unfinished:
            try:
                recipe = Recipe.from_payload(payload)
            except ValueError as exc:
                log.warning("job journal: dropping entry %s (%s)", job_id, exc)
                self._journal(self.bot.store.journal_remove, job_id)
                continue
            by_user[recipe.user_id].append((job_id, recipe))
        log.info("job journal: redoing %d requests left by the last run", len(unfinished))
        await asyncio.gather(*(self._redo_in_order(entries) for entries in by_user.values()))

    async def _redo_in_order(self, entries: list[tuple[str, Recipe]]) -> None:
        for job_id, recipe in entries:
            try:
                await self._redo(job_id, recipe)
            except Exception:
                log.exception("job journal: could not redo %s; kept for the next start", job_id)

    async def _redo(self, job_id: str, recipe: Recipe) -> None:
        attempts = self.bot.store.journal_bump_attempts(job_id)
        replier = await self._replier_for(recipe)
        if replier is None:
            log.info("job journal: %s has nobody left to answer; dropped", job_id)
        elif attempts > MAX_RERUNS:
            log.warning("job journal: %s given up after %d restarts", job_id, MAX_RERUNS)
            await self._tell(replier, GAVE_UP)
        else:
            await self._serve(replier, self._gather(recipe, again=True), journal_id=job_id)
            return
        self._journal(self.bot.store.journal_remove, job_id)

    async def _replier_for(self, recipe: Recipe) -> Replier | None:
        """Where a journaled request is answered now; None if its message was deleted."""
        if recipe.kind == "slash":
            return FollowupReplier(self.bot, recipe)
        channel = self.bot.get_channel(recipe.channel_id) or self.bot.get_partial_messageable(
            recipe.channel_id, guild_id=recipe.guild_id)
        try:
            message = await channel.fetch_message(recipe.message_id)
        except (discord.NotFound, discord.Forbidden):
            return None
        return MessageReplier(message, recipe.upload_limit)


class FollowupReplier(Replier):
    """Answers a journaled /stylize after a restart: a follow-up while its token is valid,
    else a message in its channel that mentions the user."""

    def __init__(self, bot, recipe: Recipe) -> None:
        self._bot = bot
        self._recipe = recipe
        self.user_id = recipe.user_id
        self.guild_id = recipe.guild_id
        self.filesize_limit = recipe.upload_limit

    async def _send(self, text: str, **fields) -> discord.Message:
        recipe = self._recipe
        if recipe.token_usable():
            webhook = discord.Webhook.partial(recipe.application_id, recipe.token,
                                              client=self._bot)
            try:
                return await webhook.send(text, wait=True, allowed_mentions=REPLY_MENTIONS,
                                          **fields)
            except discord.NotFound:  # the token expired early: post in the channel instead
                if "file" in fields:
                    fields["file"].reset()
        channel = self._bot.get_channel(recipe.channel_id) or self._bot.get_partial_messageable(
            recipe.channel_id, guild_id=recipe.guild_id)
        return await channel.send(
            f"<@{recipe.user_id}> {text}", **fields,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(recipe.user_id)],
                                                     everyone=False, roles=False))

    async def result(self, text, file, view) -> int:
        return (await self._send(text, file=file, view=view)).id

    async def error(self, text: str) -> None:
        await self._send(text)


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
