"""`!help`: every command with examples, and each command's usage grammar, end to end."""

from __future__ import annotations

from bot.features.stylize.cog import USAGE
from tests.fakediscord import FakeDiscord, SentMessage
from tests.features.presets.test_cog import assert_no_mentions_possible, assert_one_sentence


async def ask_help(fake: FakeDiscord, words: str = "") -> SentMessage:
    """`!help <words>`; the bot's answer (checked to be its only message for it)."""
    before, cursor = len(fake.messages_created), fake.mark()
    await fake.send_message(f"!help {words}".strip())
    answer = await fake.wait_for(lambda r: r.source == "channel" and r.method == "POST",
                                 10, kind=SentMessage, after=cursor, what="the help answer")
    assert len(fake.messages_created) == before + 1
    return answer


async def test_help_lists_the_commands_with_examples(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        answer = await ask_help(fake_discord)
    text = answer.content
    for command, brief in (("stylize", "Paint a photo in the style of an artwork."),
                           ("styles", "Show every preset style."),
                           ("preset", "Manage this server's own presets.")):
        assert any(line.split()[:1] == [command] and brief in line
                   for line in text.splitlines()), f"{command} missing from:\n{text}"
    assert "Examples:" in text
    for example in ("!stylize starry-night", "!styles", "!preset add my-mural"):
        assert example in text
    assert len(fake_discord.messages_created) == 1
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()


async def test_help_for_stylize_shows_its_grammar_and_examples(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        answer = await ask_help(fake_discord, "stylize")
        alias = await ask_help(fake_discord, "paint")
    text = answer.content
    assert f"!stylize {USAGE}" in text or f"|paint] {USAGE}" in text
    assert "[strength=0..1] [colors=keep|style] [size=PX] [@member]" in text
    assert "!stylize starry-night:2 great-wave:1 strength=0.7" in text
    assert "!stylize udnie @someone" in text
    assert "No description given" not in text  # the raw parameter list is not shown
    assert alias.content == text
    fake_discord.assert_clean()


async def test_help_for_preset_subcommands(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        group = await ask_help(fake_discord, "preset")
        add = await ask_help(fake_discord, "preset add")
    assert "Manage Server" in group.content
    assert "add" in group.content and "remove" in group.content
    assert "!preset add <name> (with an image attached)" in add.content
    assert "!preset add my-mural" in add.content
    fake_discord.assert_clean()


async def test_help_for_an_unknown_command_is_one_harmless_sentence(
        fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)):
        everyone = await ask_help(fake_discord, "@everyone")
        unknown = await ask_help(fake_discord, "nosuch")
    assert unknown.content == 'No command called "nosuch" found.'
    assert_one_sentence(everyone.content)
    assert_no_mentions_possible(fake_discord)
    fake_discord.assert_clean()
