"""`!stylize` end to end in every form: real bot, real engine, loopback Discord."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.features.conftest import chroma_diff, decoded, diff, jpeg_bytes


async def test_prefix_preset_paints_the_attached_photo(fake_discord, make_bot, settings, photo):
    bot = make_bot(settings)
    async with fake_discord.running(bot):
        cat = photo("chelsea")
        att = fake_discord.add_attachment(jpeg_bytes(cat), "cat.jpg")
        await fake_discord.send_message("!stylize starry-night", attachments=[att])
        upload = await fake_discord.next_upload(timeout=30)
    result = decoded(upload.file.data)
    assert result.size == cat.size
    assert np.abs(np.asarray(result, float) - np.asarray(cat, float)).mean() > 20
    assert "starry-night" in upload.content
    assert upload.reply_to is not None
    fake_discord.assert_clean()


# -- helpers -------------------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def paint(fake, words: str, attachments=(), **message):
    """Send `!stylize ...` and return the bot's one reply, which must carry the painting."""
    sent = await fake.send_message(words, attachments=list(attachments), **message)
    reply = await fake.next_message(timeout=30)
    assert reply.files, f"expected a painting, got {reply.content!r}"
    assert reply.reply_to == int(sent["id"])
    return reply


def assert_quiet_mentions(fake) -> None:
    """Every message the bot posted or edited pings nobody but, at most, the replied-to user."""
    bodies = fake.messages_created + fake.messages_edited + fake.followups
    assert bodies
    for body in bodies:
        allowed = body.allowed_mentions
        assert allowed is not None, f"no allowed_mentions on {body.content!r}"
        assert allowed.get("parse") == [], allowed
        assert not allowed.get("users") and not allowed.get("roles"), allowed


# -- prefix forms --------------------------------------------------------------------------


async def test_two_attachments_are_photo_then_style(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    style = photo("coffee", (300, 200))
    async with fake_discord.running(make_bot(settings)):
        own = await paint(fake_discord, "!stylize",
                          [(jpeg_bytes(cat), "cat.jpg"), (jpeg_bytes(style), "coffee.jpg")])
        preset = await paint(fake_discord, "!stylize starry-night", [(jpeg_bytes(cat), "cat.jpg")])
    painted, starry = decoded(own.file.data), decoded(preset.file.data)
    assert painted.size == cat.size  # the first attachment is the photo, not the style
    assert diff(painted, cat) > 10
    assert diff(painted, starry) > 15
    assert "image 1" in own.content and "starry-night" not in own.content
    fake_discord.assert_clean()


async def test_preset_name_is_case_insensitive(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    async with fake_discord.running(make_bot(settings)):
        upper = await paint(fake_discord, "!stylize Starry-Night", [(jpeg_bytes(cat), "c.jpg")])
        lower = await paint(fake_discord, "!stylize starry-night", [(jpeg_bytes(cat), "c.jpg")])
    assert "starry-night" in upper.content
    assert diff(decoded(upper.file.data), decoded(lower.file.data)) < 1
    fake_discord.assert_clean()


async def test_reply_paints_the_replied_to_photo(fake_discord, make_bot, settings, photo):
    coffee = photo("coffee", (360, 240))
    async with fake_discord.running(make_bot(settings)):
        shared = await fake_discord.send_message(
            "look at this", author=fake_discord.bob,
            attachments=[(b"not an image", "notes.txt"), (jpeg_bytes(coffee), "coffee.jpg")])
        reply = await paint(fake_discord, "!stylize the-scream", referenced_message=shared)
    painted = decoded(reply.file.data)
    assert painted.size == coffee.size
    assert diff(painted, coffee) > 10
    assert "the-scream" in reply.content
    fake_discord.assert_clean()


async def test_mentioned_member_avatar_is_painted_and_capped(fake_discord, make_bot, settings,
                                                             photo):
    avatar = photo("astronaut", (640, 640))
    dora = fake_discord.make_user("dora", avatar=png_bytes(avatar))
    async with fake_discord.running(make_bot(settings)):
        reply = await paint(fake_discord, f"!stylize udnie {fake_discord.mention(dora)}")
    painted = decoded(reply.file.data)
    assert painted.size == (512, 512)  # default_output_side in the test settings
    assert diff(painted, avatar.resize((512, 512))) > 10
    assert any(r.path.startswith(f"/avatars/{dora['id']}/") and r.status == 200
               for r in fake_discord.requests)
    assert "udnie" in reply.content
    fake_discord.assert_clean()


async def test_blends_of_several_presets(fake_discord, make_bot, settings, photo):
    cat = [(jpeg_bytes(photo("chelsea")), "cat.jpg")]
    async with fake_discord.running(make_bot(settings)):
        starry = await paint(fake_discord, "!stylize starry-night", cat)
        wave = await paint(fake_discord, "!stylize great-wave", cat)
        even = await paint(fake_discord, "!stylize starry-night great-wave", cat)
        weighted = await paint(fake_discord, "!stylize starry-night:2 great-wave:1", cat)
    images = {name: decoded(reply.file.data) for name, reply in
              (("starry", starry), ("wave", wave), ("even", even), ("weighted", weighted))}
    assert "starry-night + great-wave ·" in even.content
    assert "starry-night ×2 + great-wave ·" in weighted.content
    for blend in ("even", "weighted"):
        for single in ("starry", "wave"):
            assert diff(images[blend], images[single]) > 5, (blend, single)
    assert diff(images["even"], images["weighted"]) > 2
    # the 2:1 blend leans towards starry-night more than the even blend does
    assert diff(images["weighted"], images["starry"]) < diff(images["even"], images["starry"])
    fake_discord.assert_clean()


async def test_strength_and_colour_options(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    att = [(jpeg_bytes(cat), "cat.jpg")]
    async with fake_discord.running(make_bot(settings)):
        full = await paint(fake_discord, "!stylize starry-night", att)
        weak = await paint(fake_discord, "!stylize starry-night strength=0.3", att)
        kept = await paint(fake_discord, "!stylize starry-night colors=keep", att)
    full_img, weak_img, kept_img = (decoded(r.file.data) for r in (full, weak, kept))
    assert diff(weak_img, cat) < diff(full_img, cat) - 5
    assert "strength 0.3" in weak.content and "strength 1" in full.content
    assert chroma_diff(kept_img, cat) < 3 < 10 < chroma_diff(full_img, cat)
    assert "colours kept" in kept.content and "colours kept" not in full.content
    fake_discord.assert_clean()


async def test_size_option_and_its_cap(fake_discord, make_bot, settings, photo):
    coffee = [(jpeg_bytes(photo("coffee")), "coffee.jpg")]  # 600×400
    async with fake_discord.running(make_bot(settings, limits={"max_output_side": 384})):
        small = await paint(fake_discord, "!stylize udnie size=256", coffee)
        huge = await paint(fake_discord, "!stylize udnie size=4000", coffee)
        default = await paint(fake_discord, "!stylize udnie", coffee)
    assert decoded(small.file.data).size == (256, 171)
    assert decoded(huge.file.data).size == (384, 256)
    assert decoded(default.file.data).size == (384, 256)
    assert "256×171" in small.content
    fake_discord.assert_clean()


async def test_default_size_is_the_configured_side(fake_discord, make_bot, settings, photo):
    coffee = [(jpeg_bytes(photo("coffee")), "coffee.jpg")]  # 600×400
    async with fake_discord.running(make_bot(settings)):
        reply = await paint(fake_discord, "!stylize udnie", coffee)
    assert decoded(reply.file.data).size == (512, 341)
    fake_discord.assert_clean()


async def test_replies_reference_the_command_and_ping_nobody_else(fake_discord, make_bot,
                                                                  settings, photo):
    cat = [(jpeg_bytes(photo("chelsea")), "cat.jpg")]
    async with fake_discord.running(make_bot(settings)):
        wrong = await fake_discord.send_message("!stylize @everyone", attachments=cat)
        refused = await fake_discord.next_message(timeout=30)
        ok = await paint(fake_discord, "!stylize starry-night", cat)
    assert refused.reply_to == int(wrong["id"]) and not refused.files
    assert "@everyone" in refused.content and "\n" not in refused.content
    assert ok.message["referenced_message"]["id"] == str(ok.reply_to)
    assert refused.allowed_mentions.get("replied_user") is True
    assert ok.allowed_mentions.get("replied_user") is True
    assert_quiet_mentions(fake_discord)
    fake_discord.assert_clean()
