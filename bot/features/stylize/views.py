"""The buttons and preset menu under a result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import discord

WEAKER, STRONGER, COLOURS, RESTYLE = (
    "stylebot:weaker", "stylebot:stronger", "stylebot:colours", "stylebot:restyle"
)
STRENGTH_STEP = 0.25
MAX_MENU_OPTIONS = 25

# (interaction, custom_id, chosen preset or None)
ActionHandler = Callable[[discord.Interaction, str, str | None], Awaitable[None]]


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
        self._handler = handler
        buttons = [
            (WEAKER, "Weaker", strength <= 0.0),
            (STRONGER, "Stronger", strength >= 1.0),
            (COLOURS, "Style colours" if keep_colours else "Keep colours", False),
        ]
        for custom_id, label, disabled in buttons:
            button = discord.ui.Button(label=label, custom_id=custom_id, disabled=disabled,
                                       style=discord.ButtonStyle.secondary)
            button.callback = self._forward(custom_id)
            self.add_item(button)
        options = [discord.SelectOption(label=name, value=name)
                   for name in list(presets)[:MAX_MENU_OPTIONS]]
        if options:
            menu = discord.ui.Select(custom_id=RESTYLE, placeholder="Restyle with a preset",
                                     options=options)
            menu.callback = self._forward(RESTYLE, menu)
            self.add_item(menu)

    def _forward(self, custom_id: str, menu: discord.ui.Select | None = None):
        async def callback(interaction: discord.Interaction) -> None:
            choice = menu.values[0] if menu is not None and menu.values else None
            await self._handler(interaction, custom_id, choice)

        return callback


def persistent_result_view(handler: ActionHandler) -> ResultView:
    """One view registered with `bot.add_view`: it routes clicks on any result message,
    including results posted before a restart, to `handler` (which says when they expired)."""
    return ResultView(handler, strength=0.5, keep_colours=False, presets=["-"], timeout=None)
