"""A request's inputs: planned by reference first (checks only), fetched once journaled."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import discord

from bot.discordio.fetch import avatar_url, check_attachment, fetch_image_bytes
from bot.errors import ImageError, StylebotError
from bot.features.stylize.embedded import embedded_media_url, without_embedded_links
from bot.features.stylize.grammar import ArgumentError, StylizeArgs, parse_words
from bot.features.stylize.journal import Recipe, StyleSource
from bot.features.stylize.painting import RenderRequest, StyleInput
from bot.imaging.limits import MIN_OUTPUT_SIDE
from bot.stylization import StylizeOptions

if TYPE_CHECKING:
    from bot.app import StyleBot

REFETCH_FAILED = "I restarted and could not fetch your photo again; please send it once more."
# A new request's recipe and the (name, image bytes) of its presets, looked up while planning.
Planned = tuple[Recipe, list[tuple[str, bytes]]]


class InputPlanner:
    """Turns what a user sent into a Recipe, and a Recipe into the bytes a job paints.

    Reads the bot's settings, presets, fetch_policy and session."""

    def __init__(self, bot: StyleBot) -> None:
        self.bot = bot

    async def from_message(self, message: discord.Message, words: str,
                           address: dict[str, Any]) -> Planned:
        """The photo: a mentioned member's avatar, the replied-to image or the first
        attachment (else an embedded GIF); further attachments are style images."""
        args = parse_words(without_embedded_links(words, message))
        attachments = list(message.attachments)
        content: discord.Attachment | str | None = None
        if args.member_ids:
            member = next((m for m in message.mentions if m.id == args.member_ids[0]), None)
            if member is None:
                raise ArgumentError("I can't see the member you mentioned.")
            content = avatar_url(member)
        elif message.reference is not None:
            content = await _replied_image(message)
        if content is None and not attachments:
            content = embedded_media_url(message)  # a GIF posted by the GIF picker
        if content is None:
            if not attachments:
                raise ArgumentError(
                    "Attach a photo (or reply to one, or mention someone) to paint it; "
                    "see `!help stylize`."
                )
            content = attachments.pop(0)
        return await self.plan(address, args, content, attachments)

    async def plan(
        self,
        address: dict[str, Any],
        args: StylizeArgs,
        content: discord.Attachment | str,
        style_images: list[discord.Attachment],
    ) -> Planned:
        """Check the styles and attachments and name every input by reference; download
        nothing (the preset images looked up on the way come along for `gather`)."""
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
            check_attachment(content, self.bot.fetch_policy, what="photo", videos=True)
        styles = [StyleSource(preset=name, weight=weight)
                  for (name, _), (_, weight) in zip(presets, args.styles, strict=True)]
        styles += [StyleSource(url=image.url) for image in style_images]
        wanted = args.size or limits.default_output_side
        options = StylizeOptions(
            strength=1.0 if args.strength is None else args.strength,
            keep_colours=bool(args.keep_colours),
            max_side=max(MIN_OUTPUT_SIDE, min(wanted, limits.max_output_side)),
        )
        url = content.url if isinstance(content, discord.Attachment) else content
        return Recipe(**address, content_url=url, styles=tuple(styles), options=options), presets

    async def gather(self, recipe: Recipe, presets: list[tuple[str, bytes]] | None = None, *,
                     again: bool = False) -> RenderRequest:
        """Fetch a recipe's presets (unless given) and images; `again` (after a restart): a
        failed download is the one sentence REFETCH_FAILED."""
        named = [style for style in recipe.styles if style.preset is not None]
        if presets is None:
            presets = [await self.bot.presets.image(recipe.guild_id, s.preset)
                       for s in named if s.preset is not None]
        # a style is a preset or a URL; an empty one fails like any link not on Discord's CDN
        urls = [style.url or "" for style in recipe.styles if style.preset is None]
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


async def _replied_image(message: discord.Message) -> discord.Attachment | str | None:
    reference = message.reference
    replied = reference.resolved if reference else None
    if not isinstance(replied, discord.Message) and reference and reference.message_id:
        try:
            replied = await message.channel.fetch_message(reference.message_id)
        except discord.HTTPException:
            raise ArgumentError("I can't read the message you replied to.") from None
    if not isinstance(replied, discord.Message):
        return None
    attached = next((a for a in replied.attachments if _is_image(a)), None)
    return attached or embedded_media_url(replied)


def _is_image(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or ""
    return kind.startswith(("image/", "video/")) or attachment.width is not None
