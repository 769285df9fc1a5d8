"""A request's recipe for the job journal: where to answer and where to refetch inputs, as JSON."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot.errors import StylebotError
from bot.jobs import PositionCallback
from bot.stylization import StylizeOptions

if TYPE_CHECKING:
    import discord

    from bot.store import Store

T = TypeVar("T")

log = logging.getLogger(__name__)

VERSION = 1
MAX_RERUNS = 3  # a request still unanswered after this many restarts is given up
INTERACTION_TTL = 15 * 60.0  # seconds Discord accepts an interaction's follow-ups
TOKEN_MARGIN = 60.0  # stop using a token this long before it expires


@dataclass(frozen=True)
class StyleSource:
    """One style by reference: a preset name, or the URL of an attached style image."""

    preset: str | None = None
    url: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class Recipe:
    """A request by reference: kind "message" replies to message_id, kind "slash" follows up
    with the interaction's application_id and token (until token_expires, epoch seconds)."""

    kind: str
    guild_id: int | None
    channel_id: int
    user_id: int
    upload_limit: int
    content_url: str
    styles: tuple[StyleSource, ...]
    options: StylizeOptions
    message_id: int | None = None
    application_id: int | None = None
    token: str | None = None
    token_expires: float | None = None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for Store.journal_add."""
        return {"version": VERSION, **asdict(self)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Recipe:
        """The recipe back from a journal payload; ValueError if it is not one of this version."""
        data = dict(payload)
        if data.pop("version", None) != VERSION:
            raise ValueError("not a version 1 recipe")
        try:
            styles = tuple(StyleSource(**style) for style in data.pop("styles"))
            recipe = cls(styles=styles, options=StylizeOptions(**data.pop("options")), **data)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed recipe: {exc}") from None
        if recipe.kind not in ("message", "slash"):
            raise ValueError(f"unknown recipe kind {recipe.kind!r}")
        return recipe

    def token_usable(self, now: float | None = None) -> bool:
        """Whether a slash request's token can still post follow-ups."""
        now = time.time() if now is None else now
        return bool(self.token and self.application_id and self.token_expires
                    and now < self.token_expires - TOKEN_MARGIN)


def message_address(message: discord.Message, upload_limit: int) -> dict[str, Any]:
    """Recipe fields for answering a `!stylize` message (a discord.Message) by replying to it."""
    return {"kind": "message", "guild_id": message.guild.id if message.guild else None,
            "channel_id": message.channel.id, "user_id": message.author.id,
            "upload_limit": upload_limit, "message_id": message.id}


def interaction_address(interaction: discord.Interaction[Any], upload_limit: int
                        ) -> dict[str, Any]:
    """Recipe fields for answering a `/stylize` (a discord.Interaction) with follow-ups."""
    return {"kind": "slash", "guild_id": interaction.guild_id,
            "channel_id": interaction.channel_id, "user_id": interaction.user.id,
            "upload_limit": upload_limit, "application_id": interaction.application_id,
            "token": interaction.token,
            "token_expires": interaction.created_at.timestamp() + INTERACTION_TTL}


class Journal:
    """The store's job journal, never fatal: a failing store is logged and the job still runs,
    just unprotected. Calls run on the event loop on purpose: each is one small indexed
    statement (well under a millisecond), cheaper than a thread hop that would also contend
    for the store's lock with preset lookups."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _quietly(self, operation: Callable[..., T], *args: object) -> T | None:
        try:
            return operation(*args)
        except StylebotError:
            log.warning("job journal: %s failed", operation.__name__, exc_info=True)
            return None

    def add(self, recipe: Recipe) -> str | None:
        """Journal a new request and return its id; None if the store failed."""
        job_id = secrets.token_hex(8)
        try:
            self._store.journal_add(job_id, recipe.to_payload())
        except StylebotError:
            log.warning("job journal: could not add a request; it will not survive a restart",
                        exc_info=True)
            return None
        return job_id

    def running(self, job_id: str) -> None:
        """Mark a journaled job as started."""
        self._quietly(self._store.journal_set_state, job_id, "running")

    def remove(self, job_id: str) -> None:
        """Forget a journaled job once its outcome has been delivered."""
        self._quietly(self._store.journal_remove, job_id)

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        """What the last run left unanswered, oldest first."""
        return self._quietly(self._store.journal_pending) or []

    def marking_running(self, job_id: str, report: PositionCallback) -> PositionCallback:
        """A job's position callback that also marks the job running when it starts."""

        async def on_position(position: int) -> None:
            if position == 0:
                self.running(job_id)
            await report(position)

        return on_position

    def bump(self, job_id: str) -> int:
        """Count one more restart for a job and return the count."""
        return self._store.journal_bump_attempts(job_id)
