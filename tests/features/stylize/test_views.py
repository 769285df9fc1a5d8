"""views.ResultView and persistent_result_view: buttons, menu, and clicks routed after a restart."""

from __future__ import annotations

import discord
import pytest
from discord.ext import commands

from bot.features.stylize.views import (
    COLOURS,
    MAX_MENU_OPTIONS,
    RESTYLE,
    STRONGER,
    WEAKER,
    ResultView,
    persistent_result_view,
)
from tests.fakediscord import FakeDiscord, fixtures

fake_discord = fixtures.fake_discord

PRESETS = ["my-mural", "starry-night", "great-wave", "udnie"]


class Recorder:
    """An ActionHandler that remembers its calls and answers each click privately."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str | None]] = []

    async def __call__(self, interaction: discord.Interaction, action: str,
                       choice: str | None) -> None:
        self.calls.append((interaction.user.id, action, choice))
        await interaction.response.send_message(f"{action} {choice}", ephemeral=True)


async def ignore(interaction, action, choice) -> None:
    """A handler for views that are only inspected."""


def buttons(view: ResultView) -> list[discord.ui.Button]:
    return [item for item in view.children if isinstance(item, discord.ui.Button)]


def menus(view: ResultView) -> list[discord.ui.Select]:
    return [item for item in view.children if isinstance(item, discord.ui.Select)]


def state(view: ResultView) -> list[tuple[str, str, bool]]:
    return [(b.custom_id, b.label, b.disabled) for b in buttons(view)]


async def test_buttons_in_the_middle_of_the_range():
    view = ResultView(ignore, strength=0.5, keep_colours=False, presets=PRESETS, timeout=900)
    assert state(view) == [(WEAKER, "Weaker", False), (STRONGER, "Stronger", False),
                           (COLOURS, "Keep colours", False)]
    assert all(b.style is discord.ButtonStyle.secondary for b in buttons(view))
    assert view.timeout == 900
    assert not view.is_persistent()  # it expires with the result's stored inputs


@pytest.mark.parametrize(("strength", "weaker_off", "stronger_off"), [
    (0.0, True, False), (0.25, False, False), (0.75, False, False), (1.0, False, True),
])
async def test_weaker_and_stronger_disable_at_the_ends(strength, weaker_off, stronger_off):
    view = ResultView(ignore, strength=strength, keep_colours=False, presets=PRESETS, timeout=60)
    weaker, stronger, _ = buttons(view)
    assert (weaker.disabled, stronger.disabled) == (weaker_off, stronger_off)


async def test_colour_button_offers_the_other_choice():
    keeping = ResultView(ignore, strength=1.0, keep_colours=True, presets=PRESETS, timeout=60)
    assert state(keeping)[2] == (COLOURS, "Style colours", False)
    styled = ResultView(ignore, strength=1.0, keep_colours=False, presets=PRESETS, timeout=60)
    assert state(styled)[2] == (COLOURS, "Keep colours", False)


async def test_menu_lists_the_presets_in_order():
    view = ResultView(ignore, strength=1.0, keep_colours=False, presets=PRESETS, timeout=60)
    (menu,) = menus(view)
    assert menu.custom_id == RESTYLE
    assert [(o.label, o.value) for o in menu.options] == [(n, n) for n in PRESETS]
    assert (menu.min_values, menu.max_values) == (1, 1)
    assert menu.placeholder == "Restyle with a preset"


async def test_menu_is_capped_at_25_options():
    names = [f"preset-{i:02d}" for i in range(40)]
    view = ResultView(ignore, strength=1.0, keep_colours=False, presets=names, timeout=60)
    (menu,) = menus(view)
    assert MAX_MENU_OPTIONS == 25
    assert [o.value for o in menu.options] == names[:25]
    rows = view.to_components()  # what Discord would receive; more than 25 would be refused
    select = next(c for row in rows for c in row["components"] if c["type"] == 3)
    assert len(select["options"]) == 25


async def test_no_presets_means_no_menu():
    view = ResultView(ignore, strength=1.0, keep_colours=False, presets=[], timeout=60)
    assert menus(view) == []
    assert len(buttons(view)) == 3


async def test_components_fit_discord_layout():
    view = ResultView(ignore, strength=0.5, keep_colours=False, presets=PRESETS, timeout=60)
    rows = view.to_components()
    assert [[c["type"] for c in row["components"]] for row in rows] == [[2, 2, 2], [3]]
    ids = [c["custom_id"] for row in rows for c in row["components"]]
    assert ids == [WEAKER, STRONGER, COLOURS, RESTYLE]
    assert len(set(ids)) == len(ids)


async def test_persistent_view_has_every_custom_id_and_no_timeout():
    view = persistent_result_view(ignore)
    assert view.timeout is None
    assert view.is_persistent()
    assert [item.custom_id for item in view.children] == [WEAKER, STRONGER, COLOURS, RESTYLE]
    assert all(not b.disabled for b in buttons(view))  # a click on any button reaches it


class TinyBot(commands.Bot):
    """A discord.py bot without the pause before re-identifying."""

    async def before_identify_hook(self, shard_id, *, initial: bool = False) -> None:
        return None


def tiny_bot() -> TinyBot:
    return TinyBot(command_prefix="!", intents=discord.Intents.default(),
                   guild_ready_timeout=0.05)


async def post_result(fake: FakeDiscord, handler: Recorder) -> int:
    """One bot run posts a result message with a ResultView; returns the message id."""
    bot = tiny_bot()
    async with fake.running(bot):
        channel = bot.get_channel(fake.channel_id)
        view = ResultView(handler, strength=0.5, keep_colours=False, presets=PRESETS,
                          timeout=900)
        message = await channel.send("painted", view=view)
    return message.id


async def test_clicks_reach_the_handler_with_the_action_and_choice(fake_discord):
    handler = Recorder()
    bot = tiny_bot()
    async with fake_discord.running(bot):
        channel = bot.get_channel(fake_discord.channel_id)
        view = ResultView(handler, strength=0.5, keep_colours=False, presets=PRESETS,
                          timeout=900)
        message = await channel.send("painted", view=view)
        for action in (WEAKER, STRONGER, COLOURS):
            click = await fake_discord.click_component(message.id, action)
            assert (await click.next_reply()).content == f"{action} None"
        pick = await fake_discord.click_component(message.id, RESTYLE, values=["udnie"],
                                                  component_type=3, user=fake_discord.bob)
        assert (await pick.next_reply()).content == f"{RESTYLE} udnie"
    alice, bob = int(fake_discord.alice["id"]), int(fake_discord.bob["id"])
    assert handler.calls == [(alice, WEAKER, None), (alice, STRONGER, None),
                             (alice, COLOURS, None), (bob, RESTYLE, "udnie")]
    fake_discord.assert_clean()


async def test_persistent_view_routes_clicks_on_results_from_before_a_restart(fake_discord):
    old = Recorder()
    message_id = await post_result(fake_discord, old)

    handler = Recorder()
    bot = tiny_bot()
    bot.add_view(persistent_result_view(handler))
    async with fake_discord.running(bot):
        click = await fake_discord.click_component(message_id, STRONGER)
        assert (await click.next_reply()).content == f"{STRONGER} None"
        pick = await fake_discord.click_component(message_id, RESTYLE, values=["great-wave"],
                                                  component_type=3)
        assert (await pick.next_reply()).content == f"{RESTYLE} great-wave"
    alice = int(fake_discord.alice["id"])
    assert old.calls == []
    assert handler.calls == [(alice, STRONGER, None), (alice, RESTYLE, "great-wave")]
    fake_discord.assert_clean()
