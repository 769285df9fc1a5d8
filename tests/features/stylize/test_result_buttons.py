"""The buttons and Restyle menu under a result: re-runs in place, owner only, expiry."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PIL import Image

from tests.fakediscord import WaitTimeout
from tests.features.conftest import chroma_diff, decoded, diff, jpeg_bytes

WEAKER, STRONGER, COLOURS, RESTYLE = (
    "stylebot:weaker", "stylebot:stronger", "stylebot:colours", "stylebot:restyle")
EPHEMERAL = 64


def component(message, custom_id: str) -> dict:
    """The component with `custom_id` in a SentMessage's or message dict's component rows."""
    rows = message["components"] if isinstance(message, dict) else message.components
    for row in rows:
        for item in row.get("components") or []:
            if item.get("custom_id") == custom_id:
                return item
    raise AssertionError(f"no component {custom_id} in {rows}")


async def held(bot, reply):
    """Wait until the bot has filed the result's inputs (it does so right after posting)."""
    for _ in range(500):
        if bot.recent.get(reply.message_id) is not None:
            return reply
        await asyncio.sleep(0.01)
    raise AssertionError(f"the bot never kept the inputs of message {reply.message_id}")


async def paint(fake, bot, words: str, cat: Image.Image):
    """`!stylize ...` with the photo attached; return the reply carrying the painting."""
    await fake.send_message(words, attachments=[(jpeg_bytes(cat), "cat.jpg")])
    reply = await fake.next_message(timeout=30)
    assert reply.files, f"expected a painting, got {reply.content!r}"
    return await held(bot, reply) if bot is not None else reply


async def click(fake, result, custom_id: str, **kwargs):
    """Click a component of the result message; return the edit that replaced the painting."""
    before = {a["id"] for a in fake.message(result.message_id)["attachments"]}
    ix = await fake.click_component(result.message_id, custom_id, **kwargs)
    ack = await ix.callback(timeout=10)
    assert ack.callback_type == 6  # deferred update: the message itself will change
    edit = await ix.next_reply(timeout=30)
    assert edit.method == "PATCH" and edit.message_id == result.message_id, edit
    assert edit.files, f"expected a new painting, got {edit.content!r}"
    stored = fake.message(result.message_id)
    assert [a["filename"] for a in stored["attachments"]] == [edit.file.filename]
    assert stored["attachments"][0]["id"] not in before  # the old painting is gone
    return edit


async def assert_nothing_rerun(fake, mark: int, result) -> None:
    """No new painting and no change to the result message after `mark`."""
    with pytest.raises(WaitTimeout):
        await fake.wait_for(lambda r: getattr(r, "files", None) or (
            getattr(r, "method", "") == "PATCH" and getattr(r, "message_id", 0)
            == result.message_id), timeout=0.5, after=mark)


async def test_weaker_and_stronger_repaint_in_place(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    async with fake_discord.running(make_bot(settings)) as bot:
        result = await paint(fake_discord, bot, "!stylize starry-night strength=0.5", cat)
        weaker = await click(fake_discord, result, WEAKER)
        stronger = await click(fake_discord, result, STRONGER)
        strongest = await click(fake_discord, result, STRONGER)
    images = [decoded(m.file.data) for m in (result, weaker, stronger, strongest)]
    assert all(image.size == cat.size for image in images)
    half, quarter, back, three_quarters = (diff(image, cat) for image in images)
    assert quarter < half - 3 and three_quarters > half + 3
    assert abs(back - half) < 1  # Weaker then Stronger is the original strength again
    assert "strength 0.25" in weaker.content and "strength 0.75" in strongest.content
    assert "starry-night" in strongest.content
    for message in (result, weaker, strongest):
        assert not component(message, WEAKER).get("disabled")
        assert not component(message, STRONGER).get("disabled")
    assert weaker.allowed_mentions.get("parse") == []
    fake_discord.assert_clean()


async def test_weaker_stops_at_zero_and_stronger_at_one(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea", (300, 200))
    async with fake_discord.running(make_bot(settings)) as bot:
        full = await paint(fake_discord, bot, "!stylize great-wave", cat)
        result = await paint(fake_discord, bot, "!stylize great-wave strength=0.25", cat)
        zero = await click(fake_discord, result, WEAKER)
    assert component(full, STRONGER).get("disabled") is True
    assert not component(full, WEAKER).get("disabled")
    assert component(zero, WEAKER).get("disabled") is True
    assert not component(zero, STRONGER).get("disabled")
    assert component(fake_discord.message(result.message_id), WEAKER).get("disabled") is True
    assert "strength 0 " in zero.content + " "
    assert decoded(zero.file.data).size == cat.size
    assert zero.file.data != result.file.data
    fake_discord.assert_clean()


async def test_weaker_reaches_the_photo_itself(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea", (300, 200))
    sent = decoded(jpeg_bytes(cat))  # the photo as the bot receives it
    async with fake_discord.running(make_bot(settings)) as bot:
        result = await paint(fake_discord, bot, "!stylize starry-night strength=0.5", cat)
        quarter = await click(fake_discord, result, WEAKER)
        zero = await click(fake_discord, result, WEAKER)
    distances = [diff(decoded(m.file.data), sent) for m in (result, quarter, zero)]
    assert distances[0] > distances[1] > distances[2]
    assert "strength 0 " in zero.content + " "
    assert component(zero, WEAKER).get("disabled") is True
    painted = np.asarray(decoded(zero.file.data), dtype=int)
    assert np.abs(painted - np.asarray(sent, dtype=int)).max() <= 1  # the photo, unpainted
    fake_discord.assert_clean()


async def test_keep_colours_toggles_label_and_colours(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    async with fake_discord.running(make_bot(settings)) as bot:
        result = await paint(fake_discord, bot, "!stylize starry-night", cat)
        kept = await click(fake_discord, result, COLOURS)
        styled = await click(fake_discord, result, COLOURS)
    assert component(result, COLOURS)["label"] == "Keep colours"
    assert component(kept, COLOURS)["label"] == "Style colours"
    assert component(styled, COLOURS)["label"] == "Keep colours"
    original, kept_img, styled_img = (decoded(m.file.data) for m in (result, kept, styled))
    assert chroma_diff(kept_img, cat) < 3 < 10 < chroma_diff(original, cat)
    assert diff(styled_img, original) < 1
    assert "colours kept" in kept.content and "colours kept" not in styled.content
    fake_discord.assert_clean()


async def test_restyle_menu_paints_the_chosen_preset(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea")
    async with fake_discord.running(make_bot(settings)) as bot:
        scream = await paint(fake_discord, bot, "!stylize the-scream", cat)
        result = await paint(fake_discord, bot, "!stylize starry-night strength=0.75", cat)
        menu = component(result, RESTYLE)
        restyled = await click(fake_discord, result, RESTYLE, values=["the-scream"],
                               component_type=3)
    assert {"the-scream", "starry-night", "udnie"} <= {o["value"] for o in menu["options"]}
    assert "the-scream" in restyled.content and "starry-night" not in restyled.content
    assert "strength 0.75" in restyled.content  # other options survive a restyle
    starry, new, scream_img = (decoded(m.file.data) for m in (result, restyled, scream))
    assert diff(new, starry) > 15
    strong_scream = diff(scream_img, cat)
    assert diff(new, cat) < strong_scream  # the-scream at 0.75, not at 1
    assert diff(new, scream_img) < diff(new, starry)
    fake_discord.assert_clean()


@pytest.mark.parametrize("custom_id", [WEAKER, COLOURS, RESTYLE])
async def test_someone_else_cannot_use_the_buttons(fake_discord, make_bot, settings, photo,
                                                   custom_id):
    cat = photo("chelsea", (300, 200))
    async with fake_discord.running(make_bot(settings)) as bot:
        result = await paint(fake_discord, bot, "!stylize udnie strength=0.5", cat)
        mark = fake_discord.mark()
        ix = await fake_discord.click_component(
            result.message_id, custom_id, user=fake_discord.bob,
            **({"values": ["nantes"], "component_type": 3} if custom_id == RESTYLE else {}))
        answer = await ix.callback()
        await assert_nothing_rerun(fake_discord, mark, result)
        own = await click(fake_discord, result, WEAKER)  # the owner still can
    assert answer.callback_type == 4 and answer.flags & EPHEMERAL
    assert answer.content == "This isn't yours; run /stylize to paint your own."
    assert not ix.followups
    assert "strength 0.25" in own.content
    fake_discord.assert_clean()


async def test_buttons_expire_with_the_inputs(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea", (300, 200))
    async with fake_discord.running(make_bot(settings, jobs={"restyle_ttl": 0.01})):
        result = await paint(fake_discord, None, "!stylize udnie", cat)
        await asyncio.sleep(0.1)
        mark = fake_discord.mark()
        ix = await fake_discord.click_component(result.message_id, WEAKER)
        answer = await ix.callback()
        await assert_nothing_rerun(fake_discord, mark, result)
    assert answer.callback_type == 4 and answer.flags & EPHEMERAL
    assert answer.content == "These buttons have expired; run /stylize again."
    fake_discord.assert_clean()


async def test_buttons_forget_results_the_bot_no_longer_holds(fake_discord, make_bot, settings,
                                                              photo):
    cat = photo("chelsea", (300, 200))
    async with fake_discord.running(make_bot(settings)) as bot:
        result = await paint(fake_discord, bot, "!stylize udnie", cat)
        assert bot.recent.pop(result.message_id) is not None  # as after a restart
        ix = await fake_discord.click_component(result.message_id, COLOURS)
        answer = await ix.callback()
    assert answer.flags & EPHEMERAL
    assert answer.content == "These buttons have expired; run /stylize again."
    fake_discord.assert_clean()


async def test_slash_result_buttons_repaint_in_place(fake_discord, make_bot, settings, photo):
    cat = photo("chelsea", (300, 200))
    async with fake_discord.running(make_bot(settings)) as bot:
        att = fake_discord.add_attachment(jpeg_bytes(cat), "cat.jpg")
        ix = await fake_discord.send_interaction("stylize", {"content": att,
                                                             "style": "starry-night"})
        result = await held(bot, await ix.next_reply(timeout=30))
        weaker = await click(fake_discord, result, WEAKER)
    assert "strength 0.75" in weaker.content
    assert diff(decoded(weaker.file.data), cat) < diff(decoded(result.file.data), cat)
    fake_discord.assert_clean()
