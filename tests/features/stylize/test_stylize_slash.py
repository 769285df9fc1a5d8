"""`/stylize` end to end: deferred answer, presets or a style image, options, autocomplete."""

from __future__ import annotations

import pytest

from tests.fakediscord import WaitTimeout
from tests.features.conftest import chroma_diff, decoded, diff, jpeg_bytes

EPHEMERAL = 64


async def slash(fake, options: dict, **kwargs):
    """Run /stylize; check it was deferred first; return the reply carrying the painting."""
    ix = await fake.send_interaction("stylize", options, **kwargs)
    deferred = await ix.callback(timeout=10)
    assert deferred.callback_type == 5
    assert not deferred.ephemeral  # the painting is for the whole channel
    reply = await ix.next_reply(timeout=30)
    assert reply.files, f"expected a painting, got {reply.content!r}"
    assert reply.seq > deferred.seq
    assert reply.message_id == int(ix.original_message["id"]) == deferred.message_id
    return reply


async def test_preset_is_deferred_then_the_original_gets_the_painting(fake_discord, make_bot,
                                                                     settings, photo):
    cat = photo("chelsea")
    async with fake_discord.running(make_bot(settings)):
        att = fake_discord.add_attachment(jpeg_bytes(cat), "cat.jpg")
        reply = await slash(fake_discord, {"content": att, "style": "starry-night"})
        stored = fake_discord.message(reply.message_id)
    painted = decoded(reply.file.data)
    assert painted.size == cat.size
    assert diff(painted, cat) > 20
    assert "starry-night" in reply.content and "strength 1" in reply.content
    assert reply.source == "webhook" and reply.path.endswith("/messages/@original")
    assert len(stored["attachments"]) == 1 and not stored["flags"] & 128  # no longer "thinking"
    assert {"stylebot:weaker", "stylebot:stronger", "stylebot:colours",
            "stylebot:restyle"} <= set(reply.custom_ids)
    assert reply.allowed_mentions.get("parse") == []
    fake_discord.assert_clean()


async def test_style_image_strength_and_keep_colors(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    style = photo("coffee", (300, 200))
    async with fake_discord.running(make_bot(settings)):
        def attachments():
            return {"content": fake_discord.add_attachment(jpeg_bytes(cat), "cat.jpg"),
                    "style_image": fake_discord.add_attachment(jpeg_bytes(style), "s.jpg")}

        full = await slash(fake_discord, attachments())
        weak = await slash(fake_discord, {**attachments(), "strength": 0.3})
        kept = await slash(fake_discord, {**attachments(), "keep_colors": True})
        preset = await slash(fake_discord, {"content": attachments()["content"],
                                            "style": "starry-night"})
    full_img, weak_img, kept_img, preset_img = (
        decoded(r.file.data) for r in (full, weak, kept, preset))
    assert full_img.size == cat.size
    assert "image 1" in full.content
    assert diff(full_img, preset_img) > 15  # the style image was used, not some preset
    assert diff(weak_img, cat) < diff(full_img, cat) - 5
    assert "strength 0.3" in weak.content
    assert chroma_diff(kept_img, cat) < 3 < 8 < chroma_diff(full_img, cat)
    assert "colours kept" in kept.content
    fake_discord.assert_clean()


@pytest.mark.parametrize("choice", ["neither", "both"])
async def test_exactly_one_style_source(fake_discord, make_bot, settings, photo, choice):
    async with fake_discord.running(make_bot(settings)):
        jpeg = jpeg_bytes(photo("chelsea", (150, 100)))
        options = {"content": fake_discord.add_attachment(jpeg, "cat.jpg")}
        if choice == "both":
            options.update(style="udnie",
                           style_image=fake_discord.add_attachment(jpeg, "style.jpg"))
        mark = fake_discord.mark()
        ix = await fake_discord.send_interaction("stylize", options)
        answer = await ix.callback()
        with pytest.raises(WaitTimeout):
            await fake_discord.wait_for(lambda r: r.seq > answer.seq and (
                getattr(r, "token", None) == ix.token or getattr(r, "files", None)
                or getattr(r, "path", "").startswith("/attachments/")),
                timeout=0.5, after=mark)
    assert answer.callback_type == 4
    assert answer.flags & EPHEMERAL
    assert answer.content == (
        "Choose exactly one of style (a preset) or style_image (your own picture).")
    assert not answer.files and not ix.followups
    fake_discord.assert_clean()


async def test_style_autocomplete_offers_matching_presets(fake_discord, make_bot, settings):
    async with fake_discord.running(make_bot(settings)) as bot:
        answers = {}
        for typed in ("sta", "WAVE", "", "zzz"):
            ix = await fake_discord.send_interaction("stylize", {"style": typed}, focused="style")
            answers[typed] = await ix.callback()
        catalog = bot.catalog.names()
    choices = {typed: [c["value"] for c in answer.payload["data"]["choices"]]
               for typed, answer in answers.items()}
    assert all(answer.callback_type == 8 for answer in answers.values())
    assert choices["sta"] == ["starry-night"]
    assert choices["WAVE"] == ["great-wave"]
    assert choices[""] == list(catalog)[:25] and "udnie" in choices[""]
    assert choices["zzz"] == []
    fake_discord.assert_clean()


async def test_autocomplete_in_a_channel_the_bot_avoids(fake_discord, make_bot, settings):
    other = int(fake_discord.other_channel["id"])
    async with fake_discord.running(make_bot(settings, discord={"allowed_channels": (other,)})):
        ix = await fake_discord.send_interaction("stylize", {"style": "sta"}, focused="style")
        answer = await ix.callback()
        allowed = await fake_discord.send_interaction("stylize", {"style": "sta"},
                                                      focused="style", channel_id=other)
        offered = await allowed.callback()
    assert answer.callback_type == 8  # an autocomplete can only be answered with choices
    assert answer.payload["data"]["choices"] == []
    assert [c["value"] for c in offered.payload["data"]["choices"]] == ["starry-night"]
    fake_discord.assert_clean()
