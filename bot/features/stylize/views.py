"""The buttons and preset menu under a result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

WEAKER, STRONGER, COLOURS, RESTYLE = (
    "stylebot:weaker", "stylebot:stronger", "stylebot:colours", "stylebot:restyle"
)
STRENGTH_STEP = 0.25
MAX_MENU_OPTIONS = 25

# (interaction, custom_id, chosen preset or None)
ActionHandler = Callable[[discord.Interaction[Any], str, str | None], Awaitable[None]]


class ResultView(discord.ui.View):
    """Weaker, Stronger, Keep/Style colours and a Restyle menu, for the result's owner."""

    def __init__(
        self,
        handler: ActionHandler,
        *,
        strength: float,
        keep_colours: bool,
        presets: Sequence[str],
        timeout: float | None,
    ) -> None:
        super().__init__(timeout=timeout)
        self.handler = handler
        buttons = [
            (WEAKER, "Weaker", strength <= 0.0),
            (STRONGER, "Stronger", strength >= 1.0),
            (COLOURS, "Style colours" if keep_colours else "Keep colours", False),
        ]
        for custom_id, label, disabled in buttons:
            self.add_item(_ActionButton(label=label, custom_id=custom_id, disabled=disabled,
                                        style=discord.ButtonStyle.secondary))
        options = [discord.SelectOption(label=name, value=name)
                   for name in list(presets)[:MAX_MENU_OPTIONS]]
        if options:
            self.add_item(_RestyleMenu(custom_id=RESTYLE, placeholder="Restyle with a preset",
                                       options=options))


class _ActionButton(discord.ui.Button[ResultView]):
    """A button whose click goes to the view's handler with the button's custom id."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert self.view is not None and self.custom_id is not None
        await self.view.handler(interaction, self.custom_id, None)


class _RestyleMenu(discord.ui.Select[ResultView]):
    """The preset menu: a choice goes to the view's handler with the chosen preset."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert self.view is not None
        await self.view.handler(interaction, RESTYLE, self.values[0] if self.values else None)


def persistent_result_view(handler: ActionHandler) -> ResultView:
    """One view registered with `bot.add_view`: it routes clicks on any result message,
    including results posted before a restart, to `handler` (which says when they expired)."""
    return ResultView(handler, strength=0.5, keep_colours=False, presets=["-"], timeout=None)
