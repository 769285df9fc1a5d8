"""One bot's shards over two `stylebot run` processes (discord.shard_count + shard_ids), each
with its own data folder: a guild's commands reach only the process that runs its shard."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.fakediscord import FakeDiscord, GatewayRecord, SentMessage
from tests.features.conftest import decoded, jpeg_bytes
from tests.hardening.processes import BotProcess

SHARDS = 2


def write_config(path: Path, shard_id: int, data_dir: Path, cache: Path, mirror: Path) -> None:
    path.write_text(
        f"[discord]\nshard_count = {SHARDS}\nshard_ids = [{shard_id}]\n"
        "[jobs]\ncooldown = 0.0\ngrace_period = 5.0\n"
        "[limits]\ndefault_output_side = 512\n"
        '[logging]\nlevel = "INFO"\n'
        f'[paths]\ndata_dir = "{data_dir}"\ncache_dir = "{cache}"\nmirror = "{mirror}"\n'
    )
    path.chmod(0o600)


def shards_ready(fake: FakeDiscord) -> list[list[int]]:
    """The `shard` field of each IDENTIFY answered with READY so far."""
    return [r.detail["shard"] for r in fake.recorder.list("gateway")
            if isinstance(r, GatewayRecord) and r.event == "ready"]


async def test_two_processes_share_the_shards_and_each_answers_its_guilds_once(
    fake, tmp_path, mirror_dir, photo
):
    first_shard = (fake.guild_id >> 22) % SHARDS  # the fake's own guild
    other = fake.world.add_guild("Other Guild", shard=(1 - first_shard, SHARDS))
    channels = {first_shard: fake.channel_id, 1 - first_shard: int(other["channels"][0]["id"])}
    presets = {first_shard: "udnie", 1 - first_shard: "starry-night"}
    cache = tmp_path / "cache"
    bots = {}
    for shard in range(SHARDS):
        folder = tmp_path / f"shard{shard}"
        folder.mkdir()
        write_config(folder / "bot.toml", shard, folder / "data", cache, mirror_dir)
        bots[shard] = BotProcess(fake, folder / "bot.toml", folder / "data", folder / "bot.log")
    cat = jpeg_bytes(photo("chelsea", (240, 160)))
    try:
        await asyncio.gather(*(bot.start() for bot in bots.values()))  # one READY, maybe
        for _ in range(600):
            if len(shards_ready(fake)) == SHARDS:
                break
            await asyncio.sleep(0.1)
        assert sorted(shards_ready(fake)) == [[0, SHARDS], [1, SHARDS]]
        sent = {
            shard: await fake.send_message(f"!stylize {presets[shard]}", channel_id=channel,
                                           attachments=[(cat, "cat.jpg")])
            for shard, channel in channels.items()
        }
        answers = {
            shard: await fake.wait_for(
                lambda m, message=message: m.method == "POST" and bool(m.files)
                and m.reply_to == int(message["id"]), 60, kind=SentMessage,
                what=f"the painting in shard {shard}'s guild")
            for shard, message in sent.items()
        }
        await asyncio.sleep(1.0)  # time for a second, wrong answer to show up
        for bot in bots.values():
            await bot.stop(signal.SIGTERM)
    finally:
        for bot in bots.values():
            if bot.running:
                bot.proc.kill()
                await bot.proc.wait()
    for shard, message in sent.items():
        replies = [m for m in fake.messages_created if m.reply_to == int(message["id"])]
        assert replies == [answers[shard]]  # exactly once
        assert presets[shard] in replies[0].content
        assert decoded(replies[0].file.data).size == (240, 160)
        log, other_log = bots[shard].log, bots[1 - shard].log
        assert f"label='{presets[shard]}'" in log  # painted by the process of its shard
        assert f"label='{presets[shard]}'" not in other_log
    for bot in bots.values():
        assert "Traceback" not in bot.log, bot.log[-3000:]
