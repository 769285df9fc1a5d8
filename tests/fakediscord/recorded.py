"""FakeDiscord mixin: recorded lists (snapshots) and waiting for what the bot does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .state import (
    CommandSync,
    DeletedMessage,
    GatewayRecord,
    ReactionCall,
    Record,
    Recorder,
    RequestRecord,
    SentMessage,
    ServerError,
    TypingCall,
)


class RecordViews:
    """Read-only views of the records plus wait/next helpers (each `next_*` is a queue)."""

    recorder: Recorder

    def _records(self, name: str) -> list[Any]:
        return list(self.recorder.list(name))

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP request (REST, CDN, websocket upgrade) in arrival order."""
        return self._records("requests")

    @property
    def messages_created(self) -> list[SentMessage]:
        """POST /channels/{id}/messages by the bot."""
        return self._records("messages_created")

    @property
    def messages_edited(self) -> list[SentMessage]:
        """PATCHes of channel messages and of webhook (interaction) messages."""
        return self._records("messages_edited")

    @property
    def messages_deleted(self) -> list[DeletedMessage]:
        """DELETEs of channel and webhook messages."""
        return self._records("messages_deleted")

    @property
    def interaction_callbacks(self) -> list[SentMessage]:
        """POST /interactions/{id}/{token}/callback (see .callback_type)."""
        return self._records("interaction_callbacks")

    @property
    def followups(self) -> list[SentMessage]:
        """POST /webhooks/{app}/{token} follow-ups."""
        return self._records("followups")

    @property
    def typing_calls(self) -> list[TypingCall]:
        """POST /channels/{id}/typing."""
        return self._records("typing_calls")

    @property
    def command_syncs(self) -> list[CommandSync]:
        """PUTs of global/guild application commands."""
        return self._records("command_syncs")

    @property
    def reactions(self) -> list[ReactionCall]:
        """Reactions the bot added/removed."""
        return self._records("reactions")

    @property
    def unknown_routes(self) -> list[RequestRecord]:
        """Requests that matched no route (answered 404 "Unknown route")."""
        return self._records("unknown_routes")

    @property
    def server_errors(self) -> list[ServerError]:
        """Exceptions raised inside the fake's handlers."""
        return self._records("server_errors")

    @property
    def gateway_events(self) -> list[GatewayRecord]:
        """Gateway milestones: connect/identify/ready/resume/resumed/invalid_session/close."""
        return self._records("gateway")

    @property
    def uploads(self) -> list[SentMessage]:
        """Every bot request that carried files (create, edit, callback, follow-up)."""
        return [r for r in self.recorder.events if isinstance(r, SentMessage) and r.files]

    def assert_clean(self) -> None:
        """Fail if any unknown route was hit or the fake itself raised."""
        assert not self.unknown_routes, f"unknown routes hit: {self.unknown_routes}"
        assert not self.server_errors, f"fake server errors: {self.server_errors}"

    def mark(self) -> int:
        """A cursor: pass as `after=` to wait_for to ignore everything recorded so far."""
        return self.recorder.last_seq

    async def wait_for(self, predicate: Callable[[Any], bool] = lambda r: True,
                       timeout: float = 5.0, *, kind: type | tuple[type, ...] = Record,
                       after: int = 0, what: str = "a matching record") -> Any:
        """First record of type `kind` (seq > after; past or future) matching `predicate`.

        Records are RequestRecord, SentMessage, DeletedMessage, TypingCall, CommandSync,
        ReactionCall, GatewayRecord and ServerError (all in fakediscord.state).
        """
        return await self.recorder.wait_for(
            lambda r: isinstance(r, kind) and predicate(r), timeout, after=after, what=what)

    async def next_message(self, channel_id: int | None = None,
                           timeout: float = 5.0) -> SentMessage:
        """Next new message from the bot (channel post, follow-up or callback type 4), each
        returned once."""
        return await self.recorder.take("next_message", lambda r: isinstance(r, SentMessage)
                                        and _creates_message(r)
                                        and (channel_id is None or r.channel_id == int(channel_id)),
                                        timeout, what="new bot message")

    async def next_upload(self, channel_id: int | None = None,
                          timeout: float = 5.0) -> SentMessage:
        """Next bot request carrying files (create, edit, callback or follow-up), each once."""
        return await self.recorder.take("next_upload", lambda r: isinstance(r, SentMessage)
                                        and bool(r.files)
                                        and (channel_id is None or r.channel_id == int(channel_id)),
                                        timeout, what="upload")

    async def next_edit(self, message_id: int | None = None, timeout: float = 5.0) -> SentMessage:
        """Next message edit (channel or webhook PATCH, or callback type 7), each once."""
        return await self.recorder.take("next_edit", lambda r: isinstance(r, SentMessage)
                                        and (r.method == "PATCH" or r.callback_type == 7)
                                        and (message_id is None or r.message_id == int(message_id)),
                                        timeout, what="message edit")

    async def next_typing(self, channel_id: int | None = None, timeout: float = 5.0
                          ) -> TypingCall:
        """Next typing call, each once."""
        return await self.recorder.take("next_typing", lambda r: isinstance(r, TypingCall)
                                        and (channel_id is None or r.channel_id == int(channel_id)),
                                        timeout, what="typing call")


def _creates_message(r: SentMessage) -> bool:
    if r.source == "channel":
        return r.method == "POST"
    if r.source == "webhook":
        return r.method == "POST"
    return r.callback_type == 4


