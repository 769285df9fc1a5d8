"""Where a request's status, result and errors go: a message reply or an interaction."""

from __future__ import annotations

import abc
import contextlib
import functools
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.discordio.budget import ChannelBudget
from bot.discordio.outbox import ChannelOutbox
from bot.discordio.typing import SharedTyping
from bot.features.stylize.journal import Recipe

if TYPE_CHECKING:
    from bot.app import StyleBot

log = logging.getLogger(__name__)

REPLY_MENTIONS = discord.AllowedMentions.none()


class Replier(abc.ABC):
    """Status lines, the final result and error sentences for one request."""

    filesize_limit: int
    user_id: int
    guild_id: int | None

    async def status(self, text: str) -> None:  # noqa: B027 (optional: most need no status line)
        """Show or update a short progress line (e.g. the queue position)."""

    @abc.abstractmethod
    async def result(self, text: str, file: discord.File, view: discord.ui.View) -> int:
        """Post the painting; return the id of the message that carries it."""

    @abc.abstractmethod
    async def error(self, text: str) -> None:
        """Tell the user, in one sentence, why nothing came of the request."""

    async def done(self) -> None:  # noqa: B027 (optional: only a status line needs removing)
        """Remove any status line left over."""

    def accepted(self) -> None:  # noqa: B027 (optional: only a channel's outbox counts them)
        """The job was queued: its painting will follow."""

    def typing(self) -> contextlib.AbstractAsyncContextManager[None]:
        """A typing indicator while the job runs, where that makes sense."""
        return contextlib.nullcontext()


async def tell(replier: Replier, text: str) -> None:
    """Send one sentence to the user; a failure to deliver it is logged, never raised."""
    try:
        await replier.error(text)
    except discord.HTTPException:
        log.warning("could not deliver an error reply", exc_info=True)


class MessageReplier(Replier):
    """Replies to a `!stylize` message through its channel's outbox: the painting goes before
    any chatter, a refusal is folded with equal ones waiting in the channel, and the queue
    position is one message of its own, created only when the channel's budget can spare it,
    showing the newest position (edited in place) and removed once the painting is posted."""

    def __init__(self, message: discord.Message, filesize_limit: int,
                 typing: SharedTyping | None = None, outbox: ChannelOutbox | None = None) -> None:
        self._message = message
        self._typing = typing or SharedTyping()
        self._outbox = outbox or ChannelOutbox(message.channel, ChannelBudget())
        self._status: discord.Message | None = None
        self._creating = False  # the status line waits in the outbox or is on its way
        self._editing = False
        self._shown = ""  # the status text Discord shows (or is being sent)
        self._wanted = ""  # the newest status text
        self._owing = False
        self._finished = False
        self.filesize_limit = filesize_limit
        self.user_id = message.author.id
        self.guild_id = message.guild.id if message.guild else None

    def accepted(self) -> None:
        if not self._owing:
            self._owing = True
            self._outbox.owe()

    def _settle(self) -> None:
        if self._owing:
            self._owing = False
            self._outbox.settle()

    async def status(self, text: str) -> None:
        if self._finished:
            return
        self._wanted = text
        if self._status is not None:
            await self._show_newest()
        elif not self._creating:  # else the line on its way shows the newest text
            await self._create_status()

    async def _create_status(self) -> None:
        self._creating = True
        try:
            sent = await self._outbox.status(self, self._post_status)
        except discord.HTTPException:
            log.warning("could not show a status line", exc_info=True)
            return
        finally:
            self._creating = False
        if sent is None:
            return  # no longer needed: the outcome came first
        self._status = sent
        if self._finished:  # the result was posted while this line was on its way
            await self.done()
        else:
            await self._show_newest()

    async def _post_status(self) -> discord.Message:
        self._shown = self._wanted
        return await self._message.reply(self._shown, mention_author=False,
                                         allowed_mentions=REPLY_MENTIONS)

    async def _show_newest(self) -> None:
        """Edit the line to the newest text, one edit at a time; texts overtaken are skipped."""
        if self._editing:
            return
        self._editing = True
        try:
            while (self._status is not None and not self._finished
                   and self._shown != self._wanted):
                text = self._wanted
                await self._status.edit(content=text)
                self._shown = text
        except discord.HTTPException:
            if not self._finished:  # else the result deleted the line under an in-flight edit
                log.warning("could not show a status line", exc_info=True)
        finally:
            self._editing = False

    async def result(self, text: str, file: discord.File, view: discord.ui.View) -> int:
        self._settle()
        self._outbox.drop_status(self)
        sent: discord.Message = await self._outbox.painting(functools.partial(
            self._message.reply, text, file=file, view=view, mention_author=True,
            allowed_mentions=REPLY_MENTIONS))
        await self.done()
        return sent.id

    async def error(self, text: str) -> None:
        self._settle()
        await self.done()
        await self._outbox.notice(self.user_id, text, functools.partial(
            self._message.reply, text, mention_author=True, allowed_mentions=REPLY_MENTIONS))

    async def done(self) -> None:
        self._finished = True
        self._outbox.drop_status(self)
        status, self._status = self._status, None
        if status is not None:
            with contextlib.suppress(discord.HTTPException):
                await status.delete()

    def typing(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._typing.hold(self._message.channel)


class SlashReplier(Replier):
    """Answers a deferred slash command by editing its "thinking" message."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self._interaction = interaction
        self.filesize_limit = interaction.filesize_limit
        self.user_id = interaction.user.id
        self.guild_id = interaction.guild_id

    async def status(self, text: str) -> None:
        try:
            await self._interaction.edit_original_response(content=text)
        except discord.HTTPException:
            log.warning("could not show a status line", exc_info=True)

    async def result(self, text: str, file: discord.File, view: discord.ui.View) -> int:
        message = await self._interaction.edit_original_response(
            content=text, attachments=[file], view=view, allowed_mentions=REPLY_MENTIONS
        )
        return message.id

    async def error(self, text: str) -> None:
        await self._interaction.edit_original_response(
            content=text, allowed_mentions=REPLY_MENTIONS
        )


class ComponentReplier(SlashReplier):
    """Answers a result's button or menu: the painting is replaced in place, errors are private."""

    async def status(self, text: str) -> None:
        """The result message keeps showing the old painting until the new one is ready."""

    async def error(self, text: str) -> None:
        await self._interaction.followup.send(
            text, ephemeral=True, allowed_mentions=REPLY_MENTIONS
        )


class FollowupReplier(Replier):
    """Answers a journaled /stylize after a restart: a follow-up while its token is valid,
    else a message in its channel that mentions the user."""

    def __init__(self, bot: StyleBot, recipe: Recipe) -> None:
        self._bot = bot
        self._recipe = recipe
        self.user_id = recipe.user_id
        self.guild_id = recipe.guild_id
        self.filesize_limit = recipe.upload_limit

    async def _send(self, text: str, **fields: Any) -> discord.Message:
        recipe = self._recipe
        application_id, token = recipe.application_id, recipe.token
        if recipe.token_usable() and application_id and token:
            webhook = discord.Webhook.partial(application_id, token, client=self._bot)
            try:
                return await webhook.send(text, wait=True, allowed_mentions=REPLY_MENTIONS,
                                          **fields)
            except discord.NotFound:  # the token expired early: post in the channel instead
                if "file" in fields:
                    fields["file"].reset()
        return await channel_of(self._bot, recipe).send(
            f"<@{recipe.user_id}> {text}", **fields,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(recipe.user_id)],
                                                     everyone=False, roles=False))

    async def result(self, text: str, file: discord.File, view: discord.ui.View) -> int:
        return (await self._send(text, file=file, view=view)).id

    async def error(self, text: str) -> None:
        await self._send(text)


def channel_of(bot: StyleBot, recipe: Recipe) -> discord.abc.Messageable:
    """The recipe's channel: the cached one, else a partial one that can send and fetch."""
    channel = bot.get_channel(recipe.channel_id)
    if isinstance(channel, discord.abc.Messageable):
        return channel
    return bot.get_partial_messageable(recipe.channel_id, guild_id=recipe.guild_id)
