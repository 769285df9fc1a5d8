"""FakeDiscord: one aiohttp app on 127.0.0.1 serving REST, gateway and CDN, plus test helpers."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import logging
import re
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import discord
from aiohttp import web

from . import cdn
from . import payloads as p
from .client import patch_discord, run_bot
from .faults import Faults
from .gateway import Gateway
from .rest import API_PREFIX, RestApi, error_response, form_error
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
    UploadedFile,
    custom_ids,
)
from .world import InteractionState, World

log = logging.getLogger(__name__)
ClientT = TypeVar("ClientT", bound=discord.Client)
MessageRef = int | str | dict[str, Any] | SentMessage
_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass
class SentInteraction:
    """An interaction the fake sent to the bot; look up or await what the bot answered."""

    fake: FakeDiscord
    id: int
    token: str
    payload: dict[str, Any]
    _taken: set[int] = field(default_factory=set)

    @property
    def callbacks(self) -> list[SentMessage]:
        """Callbacks the bot made for this interaction (normally at most one)."""
        return [r for r in self.fake.interaction_callbacks if r.token == self.token]

    @property
    def followups(self) -> list[SentMessage]:
        """Follow-up messages the bot posted with this interaction's token."""
        return [r for r in self.fake.followups if r.token == self.token]

    @property
    def original_message(self) -> dict[str, Any] | None:
        """The current JSON of the original response message, if there is one."""
        state = self.fake.world.interactions.get(self.token)
        if state is None or state.original_message_id is None:
            return None
        return self.fake.world.messages.get(state.original_message_id)

    async def callback(self, timeout: float = 5.0) -> SentMessage:
        """The interaction callback (type 4/5/6/7/9...), waiting for it if needed."""
        return await self.fake.wait_for(
            lambda r: isinstance(r, SentMessage) and r.source == "callback"
            and r.token == self.token, timeout, what=f"callback for interaction {self.id}")

    async def followup(self, timeout: float = 5.0) -> SentMessage:
        """The next follow-up (POST /webhooks/{app}/{token}) not yet returned by this method."""
        record = await self.fake.wait_for(
            lambda r: isinstance(r, SentMessage) and r.source == "webhook" and r.method == "POST"
            and r.token == self.token and r.seq not in self._taken, timeout,
            what=f"follow-up for interaction {self.id}")
        self._taken.add(record.seq)
        return record

    async def next_reply(self, timeout: float = 5.0) -> SentMessage:
        """Next visible answer however it was made: callback 4/7, follow-up or @original edit."""
        record = await self.fake.wait_for(
            lambda r: isinstance(r, SentMessage) and r.token == self.token
            and r.seq not in self._taken
            and (r.source == "webhook" or r.callback_type in (4, 7)), timeout,
            what=f"reply to interaction {self.id}")
        self._taken.add(record.seq)
        return record


class FakeDiscord:
    """A loopback Discord for tests: REST (/api/v10), gateway (/gateway) and CDN on one port.

    Pre-made world: `bot_user` (id == `application_id`), `guild`, `channel` ("general"),
    `other_channel` ("gallery") and member users `alice`, `bob`, `carol` (payload dicts; ids are
    strings as in Discord JSON; `*_id` attributes are ints).
    """

    def __init__(self, *, heartbeat_interval: float = 1.0, token: str | None = None,
                 upload_limit: int = 10 * 1024 * 1024, max_records: int = 5000,
                 echo_bot_messages: bool = True) -> None:
        self.faults = Faults()
        self.world = World()
        self.recorder = Recorder(max_records)
        self.cdn = cdn.CdnStore()
        self.gateway = Gateway(self.world, self.recorder, self.faults,
                               heartbeat_interval=heartbeat_interval)
        self.token = token
        self.upload_limit = upload_limit
        self.echo_bot_messages = echo_bot_messages
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.alice = self.make_user("alice")
        self.bob = self.make_user("bob")
        self.carol = self.make_user("carol")
        self.cdn.put("embed-avatar", p.png(8, 8, (88, 101, 242)), "image/png")

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        """Start serving on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=256 * 1024 * 1024, middlewares=[self._middleware])
        RestApi(self).add_routes(app)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        for prefix in ("/attachments", "/media/attachments"):
            app.router.add_get(prefix + "/{channel_id}/{attachment_id}/{filename}",
                               self._cdn_attachment)
        app.router.add_get("/avatars/{user_id}/{file}", self._cdn_avatar)
        app.router.add_get("/embed/avatars/{file}", self._cdn_default_avatar)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.gateway.url = self.gateway_url
        return self

    async def close(self) -> None:
        """Close gateway sockets and stop the server."""
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port> (also the CDN base)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """REST base for discord.http.Route.BASE."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Websocket URL of the gateway."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def patch(self) -> contextlib.AbstractContextManager[None]:
        """Context manager pointing discord.py (REST, gateway, CDN assets) at this fake."""
        return patch_discord(self)

    def running(self, bot: ClientT, *, token: str | None = None,
                ready_timeout: float = 5.0) -> contextlib.AbstractAsyncContextManager[ClientT]:
        """`async with fake.running(bot):` logs in, waits for on_ready and closes cleanly."""
        return run_bot(bot, token=token or self.token or "fake-token", ready_timeout=ready_timeout)

    # -- world shortcuts ----------------------------------------------------------------

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's user payload."""
        return self.world.bot_user

    @property
    def application_id(self) -> int:
        """Application id (equal to the bot user's id)."""
        return self.world.application_id

    @property
    def guild(self) -> dict[str, Any]:
        """The default guild payload (mutable; changes apply at the next IDENTIFY)."""
        return self.world.guild

    @property
    def guild_id(self) -> int:
        """The default guild's id."""
        return self.world.guild_id

    @property
    def channel(self) -> dict[str, Any]:
        """The default text channel ("general")."""
        return self.world.channel

    @property
    def channel_id(self) -> int:
        """The default text channel's id."""
        return int(self.world.channel["id"])

    @property
    def other_channel(self) -> dict[str, Any]:
        """A second text channel ("gallery")."""
        return self.world.other_channel

    def make_user(self, name: str, *, member: bool = True, bot: bool = False,
                  avatar: bytes | None = None) -> dict[str, Any]:
        """Create a user (a member of the default guild unless member=False); avatar bytes are
        served at /avatars/{id}/{hash}.png."""
        avatar_hash = hashlib.md5(avatar).hexdigest() if avatar is not None else None
        user = self.world.add_user(name, bot=bot, avatar=avatar_hash)
        if avatar is not None:
            self.cdn.put(f"avatar:{user['id']}:{avatar_hash}", avatar,
                         cdn.guess_content_type("a.png", avatar))
        if member:
            self.world.add_member(user)
        return user

    async def add_channel(self, name: str) -> dict[str, Any]:
        """Create a text channel in the default guild (CHANNEL_CREATE if a bot is connected)."""
        channel = self.world.add_channel(name)
        await self.gateway.dispatch_if_connected("CHANNEL_CREATE", channel)
        return channel

    def dm_channel(self, user: dict[str, Any]) -> dict[str, Any]:
        """The DM channel between the bot and `user`."""
        return self.world.dm_channel_for(user)

    @staticmethod
    def mention(user: dict[str, Any]) -> str:
        """"<@id>" for a user payload."""
        return f"<@{user['id']}>"

    def add_attachment(self, data: bytes, filename: str, content_type: str | None = None,
                       width: int | None = None, height: int | None = None, *,
                       size: int | None = None, channel_id: int | None = None,
                       description: str | None = None) -> dict[str, Any]:
        """Store bytes on the CDN and return an attachment payload pointing at them.

        content_type, width, height and size default to the truth (sniffed from the bytes);
        pass them to lie, e.g. content_type="image/png" on a text file or size=1.
        """
        channel_id = int(channel_id or self.channel_id)
        aid = self.world.ids.next()
        true_type = cdn.guess_content_type(filename, data)
        dims = cdn.image_size(data)
        self.cdn.put(f"att:{aid}", data, content_type or true_type)
        name = quote(filename, safe="")
        return p.attachment(
            aid, filename,
            url=f"{self.base_url}/attachments/{channel_id}/{aid}/{name}",
            proxy_url=f"{self.base_url}/media/attachments/{channel_id}/{aid}/{name}",
            size=len(data) if size is None else size,
            content_type=content_type if content_type is not None else true_type,
            width=width if width is not None else (dims[0] if dims else None),
            height=height if height is not None else (dims[1] if dims else None),
            description=description,
        )

    def forget_attachment(self, attachment: dict[str, Any]) -> None:
        """Remove an attachment's bytes from the CDN (later downloads get 404, like expiry)."""
        self.cdn.remove(f"att:{attachment['id']}")

    def message(self, ref: MessageRef) -> dict[str, Any]:
        """Stored message JSON by id, payload dict or SentMessage (KeyError if unknown)."""
        if isinstance(ref, SentMessage):
            ref = ref.message_id if ref.message_id is not None else 0
        if isinstance(ref, dict):
            ref = ref["id"]
        try:
            return self.world.messages[int(ref)]
        except KeyError:
            raise KeyError(f"the fake has no message {ref}") from None

    # -- acting as users ----------------------------------------------------------------

    async def send_message(self, content: str = "", *, author: dict[str, Any] | None = None,
                           attachments: Sequence[dict[str, Any] | tuple[bytes, str]] = (),
                           channel_id: int | None = None,
                           referenced_message: MessageRef | None = None,
                           mentions: Sequence[dict[str, Any]] = (),
                           embeds: Sequence[dict[str, Any]] = (), dm: bool = False
                           ) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE); returns its JSON.

        author defaults to alice, channel to `channel` (or the author's DM when dm=True);
        attachments are add_attachment() dicts or (bytes, filename) tuples; "<@id>" in content
        adds mentions automatically.
        """
        author = author or self.alice
        if dm:
            channel_id = int(self.dm_channel(author)["id"])
        channel_id = int(channel_id or self.channel_id)
        guild_id = self.world.guild_id_of(channel_id)
        atts = [a if isinstance(a, dict) else self.add_attachment(a[0], a[1], channel_id=channel_id)
                for a in attachments]
        reference = self.message(referenced_message) if referenced_message is not None else None
        users = {u["id"]: u for u in mentions}
        for uid in _MENTION.findall(content):
            if int(uid) in self.world.users:
                users.setdefault(uid, self.world.users[int(uid)])
        mention_payloads = []
        for u in users.values():
            m = self.world.member_of(u["id"], guild_id) if guild_id else None
            mention_payloads.append({**u, **({"member": _without_user(m)} if m else {})})
        member = self.world.member_of(author["id"], guild_id) if guild_id else None
        if guild_id and member is None:
            member = p.member(author)
        msg = p.message(self.world.ids.next(), channel_id, author, content, guild_id=guild_id,
                        member=_without_user(member) if member else None, attachments=atts,
                        embeds=list(embeds), mentions=mention_payloads,
                        referenced_message=reference)
        self.world.store_message(msg)
        await self.gateway.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def send_interaction(self, name: str, options: dict[str, Any] | list[dict] | None = None,
                               *, user: dict[str, Any] | None = None,
                               channel_id: int | None = None, dm: bool = False,
                               command_type: int = 1, target: dict[str, Any] | None = None,
                               locale: str = "en-US") -> SentInteraction:
        """A user runs an application command (INTERACTION_CREATE type 2).

        name: "ping" or "group sub" for subcommands. options: {name: value}; values may be
        str/int/float/bool, an add_attachment() dict (attachment option), or a user dict.
        Types come from the synced command when known. command_type 2/3 = user/message
        context menu with `target` (a user or message dict).
        """
        user = user or self.alice
        if dm:
            channel_id = int(self.dm_channel(user)["id"])
        channel_id = int(channel_id or self.channel_id)
        guild_id = self.world.guild_id_of(channel_id)
        root, *path = name.split() if command_type == 1 else [name]
        command = self.world.find_command(root, command_type, guild_id)
        data: dict[str, Any] = {"id": command["id"] if command else str(self.world.ids.next()),
                                "name": root, "type": command_type}
        if command and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        resolved: dict[str, dict[str, Any]] = {}
        if command_type == 1:
            data["options"] = self._encode_options(command, path, options or {}, resolved,
                                                   guild_id)
        elif target is not None:
            data["target_id"] = target["id"]
            if command_type == 3:
                resolved["messages"] = {target["id"]: target}
            else:
                self._resolve_user(target, resolved, guild_id)
        if resolved:
            data["resolved"] = resolved
        return await self._interact(2, data, user, channel_id, locale=locale)

    async def click_component(self, message: MessageRef, custom_id: str,
                              user: dict[str, Any] | None = None,
                              values: list[str] | None = None, component_type: int = 2, *,
                              check: bool = True) -> SentInteraction:
        """A user clicks a button (2) or picks select values (3) on a stored message.

        With check=True the custom_id must exist on the message (catches typos).
        """
        msg = self.message(message)
        if check:
            found = custom_ids(msg.get("components") or [])
            if custom_id not in found:
                raise ValueError(f"custom_id {custom_id!r} not on message {msg['id']}: {found}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if component_type != 2:
            data["values"] = list(values or [])
        return await self._interact(3, data, user or self.alice, int(msg["channel_id"]),
                                    message=msg)

    async def submit_modal(self, custom_id: str, values: dict[str, str],
                           user: dict[str, Any] | None = None, *, channel_id: int | None = None,
                           message: MessageRef | None = None) -> SentInteraction:
        """A user submits a modal (type 5) with text input values {custom_id: value}."""
        data = {"custom_id": custom_id, "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()
        ]}
        msg = self.message(message) if message is not None else None
        return await self._interact(5, data, user or self.alice,
                                    int(channel_id or (msg or {}).get("channel_id")
                                        or self.channel_id), message=msg)

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send any raw gateway DISPATCH event; returns its sequence number."""
        return await self.gateway.dispatch(event, data)

    # -- gateway faults -----------------------------------------------------------------

    async def drop_gateway(self, *, code: int = 4000, abort: bool = False, wait: bool = True,
                           timeout: float = 5.0) -> None:
        """Kill the bot's websocket (close `code`, or abort TCP); waits for its RESUME."""
        await self.gateway.drop(code=code, abort=abort, wait=wait, timeout=timeout)

    async def invalidate_session(self, *, resumable: bool = False, wait: bool = True,
                                 timeout: float = 5.0) -> None:
        """Send op 9 INVALID_SESSION; waits for the bot's new READY (or RESUMED)."""
        await self.gateway.invalidate_session(resumable=resumable, wait=wait, timeout=timeout)

    async def request_reconnect(self, *, wait: bool = True, timeout: float = 5.0) -> None:
        """Send op 7 RECONNECT; waits for the bot's RESUMED."""
        await self.gateway.request_reconnect(wait=wait, timeout=timeout)

    # -- records ------------------------------------------------------------------------

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

    async def wait_for(self, predicate: Callable[[Record], bool], timeout: float = 5.0, *,
                       after: int = 0, what: str = "a matching record") -> Record:
        """First record (already recorded with seq > after, or future) matching `predicate`."""
        return await self.recorder.wait_for(predicate, timeout, after=after, what=what)

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

    # -- used by rest.py ----------------------------------------------------------------

    def validate_message(self, payload: dict[str, Any], files: list[UploadedFile], *,
                         creating: bool) -> web.Response | None:
        """Discord's checks on a message body: length, counts, upload size, emptiness."""
        content = payload.get("content")
        if content is not None and len(str(content)) > 2000:
            return form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if len(payload.get("embeds") or []) > 10:
            return form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if len(files) > 10:
            return form_error("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if sum(f.size for f in files) > self.upload_limit:
            return error_response(413, "Request entity too large", 40005)
        if creating and not (content or payload.get("embeds") or files
                             or payload.get("components") or payload.get("sticker_ids")
                             or payload.get("poll")):
            return error_response(400, "Cannot send an empty message", 50006)
        return None

    def build_bot_message(self, channel_id: int, payload: dict[str, Any],
                          files: list[UploadedFile], *, webhook: bool = False,
                          reference: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create, store and return the message JSON for a bot-sent body."""
        attachments = self._upload_attachments(channel_id, payload, files)
        msg = p.message(
            self.world.ids.next(), channel_id, self.bot_user, payload.get("content") or "",
            guild_id=self.world.guild_id_of(channel_id), attachments=attachments,
            embeds=_rewrite_embeds(payload.get("embeds") or [], attachments),
            components=payload.get("components") or [], flags=int(payload.get("flags") or 0),
            referenced_message=reference,
            webhook_id=self.application_id if webhook else None,
            application_id=self.application_id if webhook else None,
        )
        return self.world.store_message(msg)

    def apply_edit(self, msg: dict[str, Any], payload: dict[str, Any],
                   files: list[UploadedFile]) -> None:
        """Apply a PATCH body (content/embeds/components/flags/attachments) to a stored message."""
        for key, default in (("content", ""), ("embeds", []), ("components", [])):
            if key in payload:
                msg[key] = payload[key] if payload[key] is not None else default
        if payload.get("flags") is not None:
            msg["flags"] = int(payload["flags"]) | (int(msg.get("flags") or 0) & p.FLAG_EPHEMERAL)
        if "attachments" in payload or files:
            keep = msg.get("attachments") or []
            if "attachments" in payload:
                wanted = {str(a.get("id")) for a in payload["attachments"] or []}
                keep = [a for a in keep if a["id"] in wanted]
            msg["attachments"] = keep + self._upload_attachments(int(msg["channel_id"]), payload,
                                                                 files)
        msg["embeds"] = _rewrite_embeds(msg.get("embeds") or [], msg.get("attachments") or [])
        msg["edited_timestamp"] = p.now_iso()

    async def echo(self, event: str, data: dict[str, Any], *, flags: int | None = None) -> None:
        """Dispatch the gateway echo of the bot's own message change (not for ephemerals)."""
        flags = int(data.get("flags") or 0) if flags is None else flags
        if not self.echo_bot_messages or flags & p.FLAG_EPHEMERAL:
            return
        event_data = copy.deepcopy(data)
        if event != "MESSAGE_DELETE" and "guild_id" in data:
            member = self.world.member_of(self.bot_user["id"], int(data["guild_id"]))
            if member is not None:
                event_data["member"] = _without_user(member)
        await self.gateway.dispatch_if_connected(event, event_data)

    # -- internals ----------------------------------------------------------------------

    def _upload_attachments(self, channel_id: int, payload: dict[str, Any],
                            files: list[UploadedFile]) -> list[dict[str, Any]]:
        declared = {str(a.get("id")): a for a in payload.get("attachments") or []}
        result = []
        for i, f in enumerate(files):
            index = f.field[6:-1] if f.field.startswith("files[") else str(i)
            meta = declared.get(index, {})
            result.append(self.add_attachment(
                f.data, meta.get("filename") or f.filename or f"file{index}",
                channel_id=channel_id, description=meta.get("description")))
        return result

    def _resolve_user(self, user: dict[str, Any], resolved: dict[str, dict[str, Any]],
                      guild_id: int | None) -> None:
        resolved.setdefault("users", {})[user["id"]] = user
        member = self.world.member_of(user["id"], guild_id) if guild_id else None
        if member is not None:
            resolved.setdefault("members", {})[user["id"]] = {
                **_without_user(member), "permissions": str(p.DEFAULT_PERMISSIONS)}

    def _encode_options(self, command: dict[str, Any] | None, path: list[str],
                        options: dict[str, Any] | list[dict], resolved: dict[str, dict[str, Any]],
                        guild_id: int | None) -> list[dict[str, Any]]:
        defs = (command or {}).get("options") or []
        for sub in path:
            defs = next((o.get("options") or [] for o in defs if o["name"] == sub), [])
        if isinstance(options, list):
            leaf = options
        else:
            leaf = []
            for opt_name, value in options.items():
                declared = next((o.get("type") for o in defs if o["name"] == opt_name), None)
                leaf.append(self._encode_value(opt_name, value, declared, resolved, guild_id))
        for depth, sub in reversed(list(enumerate(path))):
            kind = p.OPT_SUB_COMMAND if depth == len(path) - 1 else p.OPT_SUB_COMMAND_GROUP
            leaf = [{"name": sub, "type": kind, "options": leaf}]
        return leaf

    def _encode_value(self, name: str, value: Any, declared: int | None,
                      resolved: dict[str, dict[str, Any]], guild_id: int | None
                      ) -> dict[str, Any]:
        if isinstance(value, dict) and "filename" in value and "url" in value:
            resolved.setdefault("attachments", {})[value["id"]] = value
            return {"name": name, "type": p.OPT_ATTACHMENT, "value": value["id"]}
        if isinstance(value, dict) and "username" in value:
            self._resolve_user(value, resolved, guild_id)
            return {"name": name, "type": declared or p.OPT_USER, "value": value["id"]}
        if isinstance(value, dict) and "type" in value and "id" in value:
            resolved.setdefault("channels", {})[value["id"]] = {
                **value, "permissions": str(p.DEFAULT_PERMISSIONS)}
            return {"name": name, "type": p.OPT_CHANNEL, "value": value["id"]}
        if declared is None:
            declared = (p.OPT_BOOLEAN if isinstance(value, bool) else p.OPT_INTEGER
                        if isinstance(value, int) else p.OPT_NUMBER
                        if isinstance(value, float) else p.OPT_STRING)
        if declared == p.OPT_NUMBER and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        return {"name": name, "type": declared, "value": value}

    async def _interact(self, kind: int, data: dict[str, Any], user: dict[str, Any],
                        channel_id: int, *, message: dict[str, Any] | None = None,
                        locale: str = "en-US") -> SentInteraction:
        guild_id = self.world.guild_id_of(channel_id)
        member = None
        if guild_id is not None:
            member = self.world.member_of(user["id"], guild_id) or p.member(user)
            member = {**member, "user": user, "permissions": str(p.DEFAULT_PERMISSIONS)}
        iid, token = self.world.ids.next(), p.new_token()
        channel = self.world.channels.get(channel_id) or {"id": str(channel_id), "type": 0}
        payload = p.interaction(iid, token, kind=kind, application_id=self.application_id,
                                channel=channel, user_payload=user, member_payload=member,
                                guild_id=guild_id, data=data, message_payload=message,
                                locale=locale, attachment_size_limit=self.upload_limit)
        self.world.store_interaction(InteractionState(id=iid, token=token, payload=payload,
                                                      channel_id=channel_id,
                                                      created=time.monotonic()))
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return SentInteraction(self, iid, token, payload)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        record = RequestRecord(method=request.method, path=request.path,
                               query=dict(request.query),
                               body_size=request.content_length or 0)
        self.recorder.add("requests", record)
        api = re.match(r"/api/v\d+(/.*)", request.path)
        rel = api.group(1) if api else request.path
        try:
            if (api and self.token is not None
                    and not rel.startswith(("/webhooks/", "/interactions/"))
                    and request.headers.get("Authorization") != f"Bot {self.token}"):
                response: web.StreamResponse = error_response(401, "401: Unauthorized", 0)
                record.status = response.status
                self.recorder.changed(record)
                return response
            rule = self.faults.take_route_fault(request.method, rel)
            if rule is not None:
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if request.can_read_body:
                    await request.read()
                body = rule.body or {"message": f"fake fault {rule.status}", "code": 0}
                response = error_response(rule.status, retry_after=rule.retry_after, **body)
            else:
                response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        except Exception as exc:
            log.exception("fakediscord handler failed for %s %s", request.method, request.path)
            self.recorder.add("server_errors", ServerError(
                method=request.method, path=request.path,
                error="".join(traceback.format_exception_only(exc)).strip()))
            response = error_response(500, f"fake server error: {exc!r}", 0)
        record.status = response.status
        self.recorder.changed(record)
        return response

    async def _unknown(self, request: web.Request) -> web.Response:
        if request.can_read_body:
            await request.read()
        self.recorder.add("unknown_routes", RequestRecord(
            method=request.method, path=request.path, query=dict(request.query), status=404))
        return error_response(404, "Unknown route", 0)

    async def _cdn_attachment(self, request: web.Request) -> web.StreamResponse:
        return await cdn.serve(request, self.cdn, self.faults,
                               f"att:{request.match_info['attachment_id']}")

    async def _cdn_avatar(self, request: web.Request) -> web.StreamResponse:
        avatar_hash = request.match_info["file"].rsplit(".", 1)[0]
        return await cdn.serve(request, self.cdn, self.faults,
                               f"avatar:{request.match_info['user_id']}:{avatar_hash}")

    async def _cdn_default_avatar(self, request: web.Request) -> web.StreamResponse:
        return await cdn.serve(request, self.cdn, self.faults, "embed-avatar")


def _without_user(member: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in member.items() if k != "user"}


def _creates_message(r: SentMessage) -> bool:
    if r.source == "channel":
        return r.method == "POST"
    if r.source == "webhook":
        return r.method == "POST"
    return r.callback_type == 4


def _rewrite_embeds(embeds: list[dict[str, Any]], attachments: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Replace attachment://name URLs in embeds with the attachment's CDN URL, like Discord."""
    by_name = {a["filename"]: a for a in attachments}
    out = []
    for embed in embeds:
        embed = copy.deepcopy(embed)
        for key in ("image", "thumbnail"):
            part = embed.get(key)
            if isinstance(part, dict) and str(part.get("url", "")).startswith("attachment://"):
                att = by_name.get(part["url"][len("attachment://"):])
                if att is not None:
                    part.update(url=att["url"], proxy_url=att["proxy_url"],
                                width=att.get("width"), height=att.get("height"))
        out.append(embed)
    return out


__all__ = ["FakeDiscord", "SentInteraction", "API_PREFIX"]
