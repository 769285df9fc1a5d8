"""`!styles` and `/styles`: a gallery of the presets (one contact sheet) and their list."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.imaging import decode_image, encode_image
from bot.imaging.sheet import contact_sheet

if TYPE_CHECKING:
    from bot.app import StyleBot

MAX_LISTED = 60


class Styles(commands.Cog):
    """Browse the preset styles."""

    def __init__(self, bot: StyleBot) -> None:
        self.bot = bot
        # (name, custom image digest or None) per cell -> PNG: adding, replacing or removing a
        # server's preset rebuilds it, and servers never see each other's images
        self._sheets: dict[tuple[tuple[str, str | None], ...], bytes] = {}

    # mypy cannot solve discord.py's hybrid decorators' type variables (it infers Never)
    @commands.hybrid_command(name="styles", brief="Show every preset style.")  # type: ignore[arg-type]
    async def styles(self, ctx: commands.Context[StyleBot]) -> None:
        """Show a gallery of every preset style (this server's own ones first)."""
        await ctx.defer()
        guild_id = ctx.guild.id if ctx.guild else None
        names = await self.bot.presets.names(guild_id)
        custom = await asyncio.to_thread(self.bot.store.preset_digests, guild_id) \
            if guild_id else {}
        sheet = await self._sheet(guild_id, names, custom)
        lines = [self._line(name, name in custom) for name in names[:MAX_LISTED]]
        text = _listing("**Preset styles** — use them as `!stylize <name>`:", lines, len(names))
        await ctx.send(text, file=discord.File(io.BytesIO(sheet), "styles.png"))

    def _line(self, name: str, custom: bool) -> str:
        if custom or name not in self.bot.catalog:
            return f"`{name}` — added by this server"
        preset = self.bot.catalog.get(name)
        year = f", {preset.year}" if preset.year else ""
        return f"`{name}` — {preset.title} ({preset.artist}{year})"

    async def _sheet(self, guild_id: int | None, names: list[str], custom: dict[str, str]
                     ) -> bytes:
        key = tuple((name, custom.get(name)) for name in names)
        sheet = self._sheets.get(key)
        if sheet is None:
            images = [await self.bot.presets.image(guild_id, name) for name in names]
            sheet = await asyncio.to_thread(self._draw, images)
            if len(self._sheets) > 64:
                self._sheets.clear()
            self._sheets[key] = sheet
        return sheet

    def _draw(self, images: list[tuple[str, bytes]]) -> bytes:
        items = [(name, decode_image(data, self.bot.limits)) for name, data in images]
        return encode_image(contact_sheet(items), "PNG")


def _listing(header: str, lines: list[str], total: int, limit: int = 2000) -> str:
    """header and whole lines within Discord's `limit`, then how many more the picture shows."""
    text, shown = header, 0
    room = limit - len(f"\n…and {total} more in the picture.")  # the note always fits
    for line in lines:
        if len(text) + 1 + len(line) > room:
            break
        text, shown = f"{text}\n{line}", shown + 1
    return text if shown == total else f"{text}\n…and {total - shown} more in the picture."


async def setup(bot: StyleBot) -> None:
    await bot.add_cog(Styles(bot))
