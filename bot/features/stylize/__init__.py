"""`!stylize` and `/stylize`: painting a photo for a user, from the words to the posted result.

cog (the commands and result buttons), restarts (redoing journaled requests), inputs (planning
and fetching a request's images), grammar (the `!stylize` words), painting (decode, paint and
encode off the event loop), replies, views, captions, journal (recipes that survive a restart)
and recent (results kept for their buttons).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import StyleBot


async def setup(bot: StyleBot) -> None:
    """Add the cog (imported here, so importing one of this package's modules stays light)."""
    from bot.features.stylize.cog import Stylize

    await bot.add_cog(Stylize(bot))
