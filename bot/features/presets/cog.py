"""`!preset add|remove`: a server's own preset styles (Manage Server permission)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.discordio.fetch import check_attachment, fetch_image_bytes
from bot.errors import StylebotError
from bot.imaging import decode_image
from bot.store import InvalidPresetName, normalise_preset_name, validate_preset_name

if TYPE_CHECKING:
    from bot.app import StyleBot

MAX_CUSTOM_PRESETS = 25


class Presets(commands.Cog):
    """Add and remove this server's own preset styles."""

    def __init__(self, bot: StyleBot) -> None:
        self.bot = bot

    # mypy cannot solve discord.py's hybrid decorators' type variables (it infers Never)
    @commands.hybrid_group(name="preset", brief="Manage this server's own presets.")  # type: ignore[arg-type]
    @commands.guild_only()
    async def preset(self, ctx: commands.Context[StyleBot]) -> None:
        """Add or remove this server's own preset styles (needs Manage Server)."""
        if ctx.invoked_subcommand is None:
            await ctx.send_help(ctx.command)

    @preset.command(name="add", usage="<name> (with an image attached)")  # type: ignore[arg-type]
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def add(self, ctx: commands.Context[StyleBot], name: str,
                  image: discord.Attachment) -> None:
        """Add a preset from an attached image, e.g. `!preset add my-mural`."""
        assert ctx.guild is not None  # guild_only
        await ctx.defer()
        name = validate_preset_name(name)
        if name in self.bot.catalog and not self.bot.catalog.get(name).is_custom:
            raise InvalidPresetName(f"{name} is a built-in preset; choose another name.")
        count = await asyncio.to_thread(self.bot.store.preset_count, ctx.guild.id)
        known = await asyncio.to_thread(self.bot.store.preset_image, ctx.guild.id, name)
        if known is None and count >= MAX_CUSTOM_PRESETS:
            raise StylebotError(f"This server already has {MAX_CUSTOM_PRESETS} presets; "
                             "remove one first.")
        check_attachment(image, self.bot.fetch_policy, what="preset image")
        data = await fetch_image_bytes(self.bot.session, image.url, self.bot.fetch_policy,
                                       what="preset image")
        await asyncio.to_thread(decode_image, data, self.bot.limits, what="preset image")
        await asyncio.to_thread(self.bot.store.add_preset, ctx.guild.id, name, data,
                                ctx.author.id)
        await ctx.reply(f"Added the preset `{name}`; try `!stylize {name}`.")

    @preset.command(name="remove", usage="<name>")  # type: ignore[arg-type]
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def remove(self, ctx: commands.Context[StyleBot], name: str) -> None:
        """Remove one of this server's presets, e.g. `!preset remove my-mural`."""
        assert ctx.guild is not None  # guild_only
        key = normalise_preset_name(name)  # shown as stored: My_Mural -> my-mural
        removed = await asyncio.to_thread(self.bot.store.remove_preset, ctx.guild.id, key)
        if removed:
            await ctx.reply(f"Removed the preset `{key}`.")
        else:
            await ctx.reply(f"This server has no preset called `{key[:40]}`.")

