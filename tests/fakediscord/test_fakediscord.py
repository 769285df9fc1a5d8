"""The fake Discord drives the real, unmodified discord.py client end to end."""

from __future__ import annotations

import asyncio
import io
import time

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from . import (
    FakeDiscord,
    GatewayRecord,
    RateLimits,
    RequestRecord,
    WaitTimeout,
    fixtures,
    payloads,
)

fake_discord = fixtures.fake_discord

PNG = payloads.png(6, 5)


class Clicks(discord.ui.View):
    """A view with one button and one select; records who used them."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.users: list[int] = []
        self.choices: list[str] = []

    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.users.append(interaction.user.id)
        await interaction.response.send_message("clicked", ephemeral=True)

    @discord.ui.button(label="Name", custom_id="name")
    async def name(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(NameModal())

    @discord.ui.select(custom_id="style", options=[discord.SelectOption(label="ink"),
                                                   discord.SelectOption(label="oil")])
    async def style(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        self.choices.extend(select.values)
        await interaction.response.edit_message(content=f"style: {select.values[0]}")


class NameModal(discord.ui.Modal, title="Name it"):
    """A one-field modal that answers with what was typed."""

    title_input = discord.ui.TextInput(label="Title", custom_id="title")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"titled {self.title_input.value}")


class TinyBot(commands.Bot):
    """commands.Bot without the 5 s pause discord.py takes before a re-IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def make_bot() -> commands.Bot:
    """A tiny bot: !echo re-uploads an attachment, /ping defers then follows up, !buttons."""
    intents = discord.Intents.default()
    intents.message_content = True
    bot = TinyBot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
    bot.clicks = Clicks()  # type: ignore[attr-defined]

    @bot.command()
    async def echo(ctx: commands.Context) -> None:
        attachment = ctx.message.attachments[0]
        data = await attachment.read()
        await ctx.reply(f"{len(data)} bytes",
                        file=discord.File(io.BytesIO(data), filename=attachment.filename))

    @bot.hybrid_command(description="Answer with the image")
    async def ping(ctx: commands.Context, image: discord.Attachment) -> None:
        await ctx.defer()
        data = await image.read()
        await ctx.send("pong", file=discord.File(io.BytesIO(data), filename="pong.png"))

    @bot.command()
    async def buttons(ctx: commands.Context) -> None:
        await ctx.send("choose", view=bot.clicks)  # type: ignore[attr-defined]

    @bot.tree.command(description="Typed options")
    async def opts(interaction: discord.Interaction, n: int, x: float, flag: bool,
                   who: discord.Member, word: str) -> None:
        await interaction.response.send_message(f"{n} {x} {flag} {who.name} {word}")

    style = app_commands.Group(name="style", description="Style commands")

    @style.command(description="Apply a style")
    async def apply(interaction: discord.Interaction, strength: int) -> None:
        await interaction.response.send_message(f"strength {strength}")

    bot.tree.add_command(style)

    @bot.tree.context_menu(name="Count files")
    async def count_files(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"{len(message.attachments)} files",
                                                ephemeral=True)

    return bot


async def test_login_ready_and_guild(fake_discord: FakeDiscord) -> None:
    bot = make_bot()
    async with fake_discord.running(bot):
        assert bot.is_ready()
        assert bot.user is not None and bot.user.id == fake_discord.application_id
        guild = bot.get_guild(fake_discord.guild_id)
        assert guild is not None
        assert guild.get_channel(fake_discord.channel_id).name == "general"
        assert guild.member_count == len(fake_discord.guild["members"])  # no members intent
        assert guild.me.guild_permissions.attach_files
        assert fake_discord.gateway.intents == bot.intents.value
    paths = [(r.method, r.path) for r in fake_discord.requests]
    assert ("GET", "/api/v10/users/@me") in paths
    assert ("GET", "/api/v10/oauth2/applications/@me") in paths
    assert fake_discord.gateway.identify_count == 1
    assert fake_discord.gateway.heartbeats and all(h.acked for h in fake_discord.gateway.heartbeats)
    fake_discord.assert_clean()


async def test_echo_reuploads_attachment_as_reply(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()):
        image = fake_discord.add_attachment(PNG, "cat.png")
        assert (image["width"], image["height"], image["content_type"]) == (6, 5, "image/png")
        sent = await fake_discord.send_message("!echo", attachments=[image])
        upload = await fake_discord.next_upload()
    assert upload.file.data == PNG
    assert upload.file.filename == "cat.png"
    assert upload.content == f"{len(PNG)} bytes"
    assert upload.reply_to == int(sent["id"])
    assert upload.message["referenced_message"]["id"] == sent["id"]
    assert upload.message["attachments"][0]["size"] == len(PNG)
    assert upload in fake_discord.messages_created
    assert any(r.path.startswith("/attachments/") for r in fake_discord.requests)
    fake_discord.assert_clean()


async def test_slash_command_defers_then_follows_up(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        synced = await bot.tree.sync()
        assert "ping" in [c.name for c in synced]
        image = fake_discord.add_attachment(PNG, "in.png")
        ix = await fake_discord.send_interaction("ping", {"image": image}, user=fake_discord.bob)
        callback = await ix.callback()
        followup = await ix.followup()
    assert callback.callback_type == 5
    assert followup.content == "pong"
    assert followup.file.data == PNG and followup.file.filename == "pong.png"
    # The first follow-up after a "thinking" defer replaces the loading message.
    assert str(followup.message_id) == ix.original_message["id"] == callback.message["id"]
    assert ix.original_message["flags"] == 0
    fake_discord.assert_clean()


async def test_button_select_and_modal_reach_the_view(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        await fake_discord.send_message("!buttons")
        menu = await fake_discord.next_message()
        assert menu.custom_ids == ["again", "name", "style"]

        click = await fake_discord.click_component(menu, "again", user=fake_discord.bob)
        answer = await click.next_reply()
        assert answer.callback_type == 4 and answer.ephemeral and answer.content == "clicked"
        assert bot.clicks.users == [int(fake_discord.bob["id"])]

        pick = await fake_discord.click_component(menu, "style", values=["oil"], component_type=3)
        edit = await fake_discord.next_edit(menu.message_id)
        assert edit is await pick.callback()
        assert fake_discord.message(menu)["content"] == "style: oil"
        assert bot.clicks.choices == ["oil"]

        open_modal = await fake_discord.click_component(menu, "name")
        modal = await open_modal.callback()
        assert modal.callback_type == 9 and modal.payload["data"]["custom_id"]
        submitted = await fake_discord.submit_modal(modal.payload["data"]["custom_id"],
                                                    {"title": "Dusk"}, message=menu)
        assert (await submitted.next_reply()).content == "titled Dusk"

        with pytest.raises(ValueError):
            await fake_discord.click_component(menu, "typo")
    fake_discord.assert_clean()


async def test_tree_sync_records_global_and_guild_commands(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        await bot.tree.sync()
        guild = discord.Object(fake_discord.guild_id)
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)
        fetched = await bot.tree.fetch_commands(guild=guild)
    names = ["ping", "opts", "style", "Count files"]
    first, second = fake_discord.command_syncs
    assert (first.guild_id, sorted(first.names)) == (None, sorted(names))
    assert (second.guild_id, sorted(second.names)) == (fake_discord.guild_id, sorted(names))
    ping = next(c for c in first.commands if c["name"] == "ping")
    assert ping["options"][0]["type"] == payloads.OPT_ATTACHMENT
    assert sorted(c.name for c in fetched) == sorted(names) and all(c.id for c in fetched)
    fake_discord.assert_clean()


async def test_upload_answered_429_is_retried(fake_discord: FakeDiscord) -> None:
    fake_discord.faults.upload_429_count = 1
    fake_discord.faults.upload_retry_after = 0.05
    async with fake_discord.running(make_bot()):
        await fake_discord.send_message("!echo", attachments=[(PNG, "a.png")])
        upload = await fake_discord.next_upload()
    assert upload.file.data == PNG
    posts = [r.status for r in fake_discord.requests
             if r.method == "POST" and r.path.endswith("/messages")]
    assert posts == [429, 200]
    assert len(fake_discord.messages_created) == 1
    fake_discord.assert_clean()


async def test_dropped_gateway_resumes_and_replays(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        await fake_discord.drop_gateway()
        await fake_discord.send_message("!echo", attachments=[(PNG, "1.png")])
        assert (await fake_discord.next_upload()).file.filename == "1.png"

        # Events sent while the bot is disconnected are replayed on RESUME.
        await fake_discord.drop_gateway(abort=True, wait=False)
        await fake_discord.send_message("!echo", attachments=[(PNG, "2.png")])
        assert (await fake_discord.next_upload()).file.filename == "2.png"

        await fake_discord.invalidate_session()
        await bot.wait_until_ready()
        await fake_discord.send_message("!echo", attachments=[(PNG, "3.png")])
        assert (await fake_discord.next_upload()).file.filename == "3.png"
    gw = fake_discord.gateway
    assert (gw.identify_count, gw.resume_count) == (2, 2)
    assert [e.event for e in fake_discord.gateway_events].count("resumed") == 2
    fake_discord.assert_clean()


async def test_unknown_routes_are_recorded(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.put(f"{fake_discord.api_base}/channels/1/messages/2/pins") as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "Unknown route", "code": 0}
        async with http.put(f"{fake_discord.api_base}/channels/1/messages") as resp:
            assert resp.status == 404
    assert [(r.method, r.path) for r in fake_discord.unknown_routes] == [
        ("PUT", "/api/v10/channels/1/messages/2/pins"), ("PUT", "/api/v10/channels/1/messages")]
    with pytest.raises(AssertionError):
        fake_discord.assert_clean()


async def test_cdn_faults(fake_discord: FakeDiscord) -> None:
    data = bytes(range(256)) * 40
    url = fake_discord.add_attachment(data, "blob.bin")["url"]
    faults = fake_discord.faults
    async with aiohttp.ClientSession() as http:
        faults.cdn_status, faults.cdn_status_count = 503, 1
        async with http.get(url) as resp:
            assert resp.status == 503
        async with http.get(url) as resp:
            assert await resp.read() == data

        faults.cdn_trickle = 40_000
        started = time.monotonic()
        async with http.get(url) as resp:
            assert await resp.read() == data
        assert time.monotonic() - started > 0.15
        faults.cdn_trickle = None

        faults.cdn_truncate_at = 100
        async with http.get(url) as resp:
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()
    faults.reset()
    assert faults.cdn_truncate_at is None


async def test_route_fault_and_wait_timeout(fake_discord: FakeDiscord) -> None:
    fake_discord.faults.fail("POST", r"/channels/\d+/messages", 403,
                             body={"message": "Missing Permissions", "code": 50013})
    async with fake_discord.running(make_bot()) as bot:
        channel = bot.get_channel(fake_discord.channel_id)
        with pytest.raises(discord.Forbidden):
            await channel.send("hello")
        await channel.send("hello again")
        assert (await fake_discord.next_message()).content == "hello again"
        with pytest.raises(WaitTimeout, match="no upload within"):
            await fake_discord.next_upload(timeout=0.05)
    fake_discord.assert_clean()


async def test_options_subcommands_and_context_menus(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        await bot.tree.sync()
        ix = await fake_discord.send_interaction(
            "opts", {"n": 3, "x": 2, "flag": True, "who": fake_discord.bob, "word": "hi"})
        assert (await ix.next_reply()).content == "3 2.0 True bob hi"

        ix = await fake_discord.send_interaction("style apply", {"strength": 7})
        assert (await ix.next_reply()).content == "strength 7"

        photo = await fake_discord.send_message("look", attachments=[(PNG, "p.png")])
        ix = await fake_discord.send_interaction("Count files", command_type=3, target=photo)
        reply = await ix.next_reply()
        assert reply.content == "1 files" and reply.ephemeral
    fake_discord.assert_clean()


async def test_autocomplete_interaction(fake_discord: FakeDiscord) -> None:
    bot = make_bot()

    @bot.tree.command(description="Pick a fruit")
    async def fruit(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @fruit.autocomplete("name")
    async def fruit_names(interaction: discord.Interaction, current: str
                          ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in ("apple", "apricot", "banana")
                if n.startswith(current)]

    async with fake_discord.running(bot):
        await bot.tree.sync()
        ix = await fake_discord.send_interaction("fruit", {"name": "ap"}, focused="name")
        answer = await ix.callback()
        with pytest.raises(ValueError, match="focused option 'nme'"):
            await fake_discord.send_interaction("fruit", {"name": "ap"}, focused="nme")
    assert ix.payload["type"] == 4
    assert ix.payload["data"]["options"] == [
        {"name": "name", "type": payloads.OPT_STRING, "value": "ap", "focused": True}]
    assert answer.callback_type == 8
    assert [c["value"] for c in answer.payload["data"]["choices"]] == ["apple", "apricot"]
    fake_discord.assert_clean()


async def test_channel_dm_reaction_edit_delete_routes(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        channel = bot.get_channel(fake_discord.channel_id)
        question = await fake_discord.send_message("question")
        async with channel.typing():
            fetched = await channel.fetch_message(int(question["id"]))
        assert fetched.content == "question"
        assert (await fake_discord.next_typing()).channel_id == fake_discord.channel_id

        msg = await channel.send("working", reference=fetched)
        await msg.add_reaction("\N{HOURGLASS}")
        await msg.remove_reaction("\N{HOURGLASS}", bot.user)
        await msg.edit(content="done", attachments=[discord.File(io.BytesIO(PNG), "out.png")])
        edit = await fake_discord.next_edit(msg.id)
        assert edit.content == "done" and edit.file.data == PNG
        history = [m.content async for m in channel.history(limit=5)]
        assert history[:2] == ["done", "question"]
        await msg.delete()
        assert fake_discord.messages_deleted[-1].message_id == msg.id
        assert [(r.emoji, r.added) for r in fake_discord.reactions] == [
            ("\N{HOURGLASS}", True), ("\N{HOURGLASS}", False)]

        waiter = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.content == "psst"))
        await fake_discord.send_message("psst", dm=True, author=fake_discord.carol)
        incoming = await asyncio.wait_for(waiter, 2)
        assert isinstance(incoming.channel, discord.DMChannel) and incoming.guild is None
        user = await bot.fetch_user(int(fake_discord.carol["id"]))
        await user.send("hello carol")
        dm = await fake_discord.next_message(fake_discord.dm_channel(fake_discord.carol)["id"])
        assert dm.content == "hello carol"

        avatar = fake_discord.make_user("dora", avatar=PNG)
        dora = await bot.fetch_user(int(avatar["id"]))
        assert await dora.display_avatar.read() == PNG
    fake_discord.assert_clean()


async def test_interaction_deadline_and_double_ack(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()):
        answered = await fake_discord.send_interaction("style apply", {"strength": 1})
        await answered.callback()
        fake_discord.faults.interaction_deadline = 0.0
        late = await fake_discord.send_interaction("style apply", {"strength": 2})
        await fake_discord.wait_for(
            lambda r: isinstance(r, RequestRecord) and r.path.endswith("/callback")
            and r.status == 404)
        assert late.callbacks == []
    url = f"{fake_discord.api_base}/interactions/{answered.id}/{answered.token}/callback"
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as resp:
        assert resp.status == 400 and (await resp.json())["code"] == 40060
    fake_discord.assert_clean()


async def test_permissions_upload_500_and_heartbeats(fake_discord: FakeDiscord) -> None:
    async with fake_discord.running(make_bot()) as bot:
        channel = bot.get_channel(fake_discord.channel_id)
        no_files = payloads.DEFAULT_PERMISSIONS & ~payloads.ATTACH_FILES
        await fake_discord.set_bot_permissions(no_files)
        with pytest.raises(discord.Forbidden):
            await channel.send(file=discord.File(io.BytesIO(PNG), "x.png"))
        await channel.send("text still allowed")
        assert not channel.permissions_for(channel.guild.me).attach_files

        await fake_discord.set_bot_permissions(payloads.DEFAULT_PERMISSIONS)
        fake_discord.faults.upload_500_count = 1
        await channel.send(file=discord.File(io.BytesIO(PNG), "y.png"))  # retried after ~1 s
        upload = await fake_discord.next_upload()
        assert upload.file.filename == "y.png"
        statuses = [r.status for r in fake_discord.requests if r.method == "POST"]
        assert statuses == [403, 200, 500, 200]
        # the 500's retry alone waited 1 s, four heartbeat intervals: heartbeats went and were
        # acknowledged (how late one came is load, not asserted)
        beats = list(fake_discord.gateway.heartbeats)
        assert beats and all(beat.acked for beat in beats)
        await fake_discord.wait_for(lambda r: r.event == "connect", kind=GatewayRecord)
    fake_discord.assert_clean()


# -- Discord's rate limits --------------------------------------------------------------------


async def _post(http: aiohttp.ClientSession, fake: FakeDiscord, channel_id: int | str,
                text: str = "hi") -> aiohttp.ClientResponse:
    """A raw message create (as the bot, whose token the fixture does not check)."""
    async with http.post(f"{fake.api_base}/channels/{channel_id}/messages",
                         json={"content": text}) as resp:
        await resp.read()
        return resp


async def test_message_create_bucket_answers_with_discords_headers_and_429(
        fake_discord: FakeDiscord) -> None:
    # 5 per 2 s: a quick reset, yet six requests fit one window on a loaded machine
    fake_discord.limiter.limits = RateLimits().scaled(0.4)
    async with aiohttp.ClientSession() as http:
        answers = [await _post(http, fake_discord, fake_discord.channel_id) for _ in range(6)]
        other = await _post(http, fake_discord, fake_discord.other_channel["id"])
        first, refused = answers[0], answers[5]
        assert [a.status for a in answers] == [200] * 5 + [429]
        assert first.headers["X-RateLimit-Limit"] == "5"
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1",
                                                                         "0", "0"]
        assert first.headers["X-RateLimit-Bucket"] == "message-create"
        assert 1.0 < float(first.headers["X-RateLimit-Reset-After"]) <= 2.0
        assert abs(float(first.headers["X-RateLimit-Reset"]) - time.time() - 2.0) < 1.0
        body = await refused.json()
        assert body["global"] is False and 0 < body["retry_after"] <= 2.0
        assert refused.headers["X-RateLimit-Scope"] == "user" and refused.headers["Via"]
        assert "X-RateLimit-Global" not in refused.headers
        assert other.status == 200 and other.headers["X-RateLimit-Remaining"] == "4"  # own window
        await asyncio.sleep(body["retry_after"])
        assert (await _post(http, fake_discord, fake_discord.channel_id)).status == 200
    assert len(fake_discord.messages_created) == 7  # the refused request did nothing
    (hit,) = fake_discord.rate_limit_hits
    assert (hit.bucket, hit.resource) == ("message-create", str(fake_discord.channel_id))


async def test_edits_deletes_and_reactions_have_buckets_of_their_own(
        fake_discord: FakeDiscord) -> None:
    slow = 4.0  # windows 4 times Discord's, so the requests of each check share one window
    fake_discord.limiter.limits = RateLimits().scaled(slow)
    channel = fake_discord.channel_id
    async with aiohttp.ClientSession() as http:
        messages = [await (await http.post(f"{fake_discord.api_base}/channels/{channel}/messages",
                                           json={"content": str(n)})).json() for n in range(5)]
        base = f"{fake_discord.api_base}/channels/{channel}/messages"
        statuses = {}
        for kind, method, suffix, times in (
                ("edit", "PATCH", "", 6), ("reaction", "PUT", "/reactions/%E2%8F%B3/@me", 2),
                ("delete", "DELETE", "", 6)):
            answers = []
            for n in range(times):
                target = messages[n % 5]["id"]
                async with http.request(method, f"{base}/{target}{suffix}",
                                        json={"content": "e"} if method == "PATCH" else None
                                        ) as resp:
                    await resp.read()
                    answers.append((resp.status, resp.headers.get("X-RateLimit-Bucket"),
                                    resp.headers.get("X-RateLimit-Limit"),
                                    resp.headers.get("X-RateLimit-Reset-After")))
            statuses[kind] = answers
    assert [s for s, *_ in statuses["edit"]] == [200] * 5 + [429]
    assert statuses["edit"][0][1:3] == ("message-edit", "5")
    assert [s for s, *_ in statuses["reaction"]] == [204, 429]
    assert statuses["reaction"][0][1:3] == ("reactions", "1")
    assert float(statuses["reaction"][0][3]) <= 0.25 * slow
    assert [s for s, *_ in statuses["delete"]] == [204] * 5 + [429]
    assert statuses["delete"][0][1:3] == ("message-delete", "5")
    assert float(statuses["delete"][0][3]) <= 1.0 * slow
    assert sorted({h.bucket for h in fake_discord.rate_limit_hits}) == [
        "message-delete", "message-edit", "reactions"]


async def test_global_limit_spares_interactions(fake_discord: FakeDiscord) -> None:
    fake_discord.limiter.limits = RateLimits(global_per=5.0)  # 50 per 5 s: robust under load
    async with aiohttp.ClientSession() as http:
        async def me() -> aiohttp.ClientResponse:
            async with http.get(f"{fake_discord.api_base}/users/@me") as resp:
                await resp.read()
                return resp

        answers = await asyncio.gather(*(me() for _ in range(51)))
        refused = [a for a in answers if a.status == 429]
        assert len(refused) == 1 and len(answers) - len(refused) == 50
        assert refused[0].headers["X-RateLimit-Global"] == "true"
        assert refused[0].headers["X-RateLimit-Scope"] == "global"
        url = f"{fake_discord.api_base}/webhooks/1/no-such-token/messages/@original"
        async with http.get(url) as resp:  # interaction webhooks do not count: 404, not 429
            assert resp.status == 404
    async with aiohttp.ClientSession() as http, http.get(
            f"{fake_discord.api_base}/users/@me") as resp:
        body = await resp.json()
        assert resp.status == 429 and body["global"] is True and body["retry_after"] <= 5.0
    assert {h.bucket for h in fake_discord.rate_limit_hits} == {"global"}


async def test_discord_py_paces_itself_from_the_headers(fake_discord: FakeDiscord) -> None:
    """discord.py reads the bucket headers and waits before the limit: no 429 at all."""
    fake_discord.limiter.limits = RateLimits().scaled(0.2)  # 5 messages per 1 s
    async with fake_discord.running(make_bot()) as bot:
        channel = bot.get_channel(fake_discord.channel_id)
        started = time.monotonic()
        sent = await asyncio.gather(*(channel.send(f"n{n}") for n in range(8)))
        took = time.monotonic() - started
    assert sorted(m.content for m in sent) == [f"n{n}" for n in range(8)]
    assert fake_discord.rate_limit_hits == []
    times = sorted(m.time for m in fake_discord.messages_created)
    assert times[5] - times[0] >= 0.95 and took >= 0.95  # the sixth waited for the new window
    fake_discord.assert_clean()


async def test_discord_py_waits_out_a_429_and_the_caller_never_sees_it(
        fake_discord: FakeDiscord) -> None:
    """Someone else spent the channel's budget and the global one: the bot's requests are
    answered 429 first, discord.py sleeps retry_after and retries, and the call succeeds."""
    async with fake_discord.running(make_bot()) as bot:
        channel = bot.get_channel(fake_discord.channel_id)
        fake_discord.limiter.limits = RateLimits().scaled(0.6)  # 5 per 3 s
        fake_discord.limiter.reset()
        async with aiohttp.ClientSession() as http:
            for _ in range(5):
                await _post(http, fake_discord, fake_discord.channel_id)
        started = time.monotonic()
        message = await channel.send("mine")
        waited = time.monotonic() - started
        user_hits = [h for h in fake_discord.rate_limit_hits if h.bucket == "message-create"]
        assert len(user_hits) == 1
        assert message.content == "mine" and waited >= user_hits[0].retry_after - 0.05

        fake_discord.limiter.limits = RateLimits(global_limit=5, global_per=3.0)
        fake_discord.limiter.reset()
        async with aiohttp.ClientSession() as http:
            for _ in range(5):
                async with http.get(f"{fake_discord.api_base}/users/@me") as resp:
                    assert resp.status == 200
        user = await bot.fetch_user(int(fake_discord.alice["id"]))
        assert user.name == "alice"
        assert any(h.bucket == "global" and h.path == f"/users/{user.id}"
                   for h in fake_discord.rate_limit_hits)
    fake_discord.assert_clean()


async def test_limits_can_be_off() -> None:
    async with FakeDiscord(rate_limits=None) as fake, aiohttp.ClientSession() as http:
        answers = [await _post(http, fake, fake.channel_id) for _ in range(8)]
        assert [a.status for a in answers] == [200] * 8
        assert "X-RateLimit-Limit" not in answers[0].headers
        fake.limiter.enabled = True
        assert (await _post(http, fake, fake.channel_id)).headers["X-RateLimit-Limit"] == "5"
    assert fake.rate_limit_hits == []
