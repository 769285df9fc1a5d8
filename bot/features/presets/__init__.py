"""A server's own preset styles: `!preset add|remove` (cog) and every preset's name and image
for a server (lookup)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import StyleBot


async def setup(bot: StyleBot) -> None:
    """Add the cog (imported here, so importing the lookup alone stays light)."""
    from bot.features.presets.cog import Presets

    await bot.add_cog(Presets(bot))
