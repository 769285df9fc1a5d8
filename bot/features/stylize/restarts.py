"""After a restart, redo what the job journal holds from the last run (docs/design.md)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.discordio.outbox import Outboxes
from bot.discordio.typing import SharedTyping
from bot.features.stylize.inputs import InputPlanner
from bot.features.stylize.journal import MAX_RERUNS, Journal, Recipe
from bot.features.stylize.painting import RenderRequest
from bot.features.stylize.replies import (
    FollowupReplier,
    MessageReplier,
    Replier,
    channel_of,
    tell,
)

if TYPE_CHECKING:
    from bot.app import StyleBot

log = logging.getLogger(__name__)

GAVE_UP = (f"I could not finish your picture after restarting {MAX_RERUNS} times; "
           "please send it once more.")

# How a redone request is served: its replier, its inputs being fetched again, its journal id.
ServeAgain = Callable[[Replier, Awaitable[RenderRequest], str], Awaitable[None]]


class Restarts:
    """Reads the journal's unfinished requests before the bot connects and redoes them once it
    is connected: each user's in order (the per-user limit), users at once."""

    def __init__(self, bot: StyleBot, journal: Journal, inputs: InputPlanner,
                 typing: SharedTyping, serve_again: ServeAgain, *,
                 outboxes: Outboxes | None = None) -> None:
        self.bot = bot
        self._outboxes = outboxes
        self._journal = journal
        self._inputs = inputs
        self._typing = typing
        self._serve_again = serve_again
        self._unfinished: list[tuple[str, dict[str, Any]]] = []

    def read_journal(self) -> None:
        """Take what the last run left (before connecting, so no new request is among it)."""
        self._unfinished = self._journal.pending()

    async def redo_unfinished(self) -> None:
        """Redo what read_journal took, once; later calls find nothing."""
        unfinished, self._unfinished = self._unfinished, []
        by_user: dict[int, list[tuple[str, Recipe]]] = defaultdict(list)
        for job_id, payload in unfinished:
            try:
                recipe = Recipe.from_payload(payload)
            except ValueError as exc:
                log.warning("job journal: dropping entry %s (%s)", job_id, exc)
                self._journal.remove(job_id)
                continue
            by_user[recipe.user_id].append((job_id, recipe))
        if unfinished:
            log.info("job journal: redoing %d requests left by the last run", len(unfinished))
        await asyncio.gather(*(self._redo_in_order(entries) for entries in by_user.values()))

    async def _redo_in_order(self, entries: list[tuple[str, Recipe]]) -> None:
        for job_id, recipe in entries:
            try:
                await self._redo(job_id, recipe)
            except Exception:
                log.exception("job journal: could not redo %s; kept for the next start", job_id)

    async def _redo(self, job_id: str, recipe: Recipe) -> None:
        attempts = self._journal.bump(job_id)
        replier = await self._replier_for(recipe)
        if replier is None:
            log.info("job journal: %s has nobody left to answer; dropped", job_id)
        elif attempts > MAX_RERUNS:
            log.warning("job journal: %s given up after %d restarts", job_id, MAX_RERUNS)
            await tell(replier, GAVE_UP)
        else:
            await self._serve_again(replier, self._inputs.gather(recipe, again=True), job_id)
            return
        self._journal.remove(job_id)

    async def _replier_for(self, recipe: Recipe) -> Replier | None:
        """Where a journaled request is answered now; None if its message was deleted."""
        if recipe.kind == "slash":
            return FollowupReplier(self.bot, recipe)
        assert recipe.message_id is not None  # a "message" recipe always has one
        try:
            message = await channel_of(self.bot, recipe).fetch_message(recipe.message_id)
        except (discord.NotFound, discord.Forbidden):
            return None
        outbox = self._outboxes.of(message.channel) if self._outboxes else None
        return MessageReplier(message, recipe.upload_limit, self._typing, outbox)
