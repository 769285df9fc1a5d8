"""REST routes of the fake (/api/v10/...): messages, interactions, webhooks, commands, users."""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import payloads as p
from .state import CommandSync, DeletedMessage, ReactionCall, SentMessage, TypingCall, UploadedFile

if TYPE_CHECKING:
    from .server import FakeDiscord

API_PREFIX = r"/api/v{version:\d+}"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:
    """JSON response whose Content-Type is exactly application/json (discord.py insists)."""
    return web.Response(status=status, body=json.dumps(data).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})


def error_response(status: int, message: str, code: int = 0, *, retry_after: float | None = None,
                   **extra: Any) -> web.Response:
    """Discord-style error JSON; 429s carry retry_after, Retry-After and Via like Discord's."""
    body: dict[str, Any] = {"message": message, "code": code, **extra}
    headers: dict[str, str] = {}
    if status == 429:
        retry_after = 0.05 if retry_after is None else retry_after
        body.update(retry_after=retry_after, **{"global": False})
        headers = {"Retry-After": str(max(1, math.ceil(retry_after))), "Via": "1.1 google",
                   "X-RateLimit-Scope": "user"}
    return json_response(body, status, headers)


def form_error(field: str, code: str, message: str) -> web.Response:
    """400 Invalid Form Body (50035) naming the offending field."""
    return error_response(400, "Invalid Form Body", 50035,
                          errors={field: {"_errors": [{"code": code, "message": message}]}})


def unknown(what: str, code: int) -> web.Response:
    """404 "Unknown <what>" with Discord's error code."""
    return error_response(404, f"Unknown {what}", code)


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[UploadedFile]]:
    """Parse a JSON or multipart (payload_json + files[n]) request body."""
    if request.content_type.startswith("multipart/"):
        payload: dict[str, Any] = {}
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            elif part.filename is not None or (part.name or "").startswith("files["):
                files.append(UploadedFile(field=part.name or "", filename=part.filename or "",
                                          data=bytes(await part.read()),
                                          content_type=part.headers.get("Content-Type")))
            else:
                payload[part.name or ""] = await part.text()
        return payload, files
    if request.can_read_body:
        raw = await request.read()
        return (json.loads(raw) if raw else {}), []
    return {}, []


class RestApi:
    """Handlers for the REST routes; all state lives on the owning FakeDiscord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world

    def add_routes(self, app: web.Application) -> None:
        """Register every REST route under /api/v{n}."""
        table = [
            ("GET", "/users/@me", self.get_me),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/channels/{channel_id}/messages", self.history),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}",
             self.add_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}",
             self.remove_reaction),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback),
            ("POST", "/webhooks/{app_id}/{token}", self.followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}",
             self.edit_webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}",
             self.delete_webhook_message),
        ]
        for method, path, handler in table:
            app.router.add_route(method, API_PREFIX + path, handler)

    # -- identity -----------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        """GET /users/@me: the bot user."""
        return json_response({**self.world.bot_user, "verified": True, "mfa_enabled": False})

    async def get_user(self, request: web.Request) -> web.Response:
        """GET /users/{id}."""
        data = self.world.users.get(int(request.match_info["user_id"]))
        return json_response(data) if data else unknown("User", 10013)

    async def create_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels: open (or reuse) a DM channel."""
        payload, _ = await read_body(request)
        target = self.world.users.get(int(payload.get("recipient_id", 0)))
        if target is None:
            return unknown("User", 10013)
        return json_response(self.world.dm_channel_for(target))

    async def get_application(self, request: web.Request) -> web.Response:
        """GET /oauth2/applications/@me."""
        return json_response(self.world.application)

    async def get_gateway(self, request: web.Request) -> web.Response:
        """GET /gateway and /gateway/bot."""
        return json_response({
            "url": self.fake.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                    "max_concurrency": 1},
        })

    # -- guilds and channels ------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}."""
        guild = self.world.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            return unknown("Guild", 10004)
        return json_response({k: v for k, v in guild.items() if k not in ("members", "channels")})

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels."""
        guild = self.world.guilds.get(int(request.match_info["guild_id"]))
        return json_response(guild["channels"]) if guild else unknown("Guild", 10004)

    async def get_member(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/{user}."""
        member = self.world.member_of(request.match_info["user_id"],
                                      int(request.match_info["guild_id"]))
        return json_response(member) if member else unknown("Member", 10007)

    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        channel = self.world.channels.get(int(request.match_info["channel_id"]))
        return json_response(channel) if channel else unknown("Channel", 10003)

    async def typing(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/typing (204)."""
        channel_id = int(request.match_info["channel_id"])
        if channel_id not in self.world.channels:
            return unknown("Channel", 10003)
        self.fake.recorder.add("typing_calls", TypingCall(channel_id=channel_id))
        return web.Response(status=204)

    # -- channel messages ---------------------------------------------------------------

    async def history(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages (limit/before/after), newest first."""
        channel_id = int(request.match_info["channel_id"])
        if channel_id not in self.world.channels:
            return unknown("Channel", 10003)
        items = self.world.channel_messages(channel_id)
        if "before" in request.query:
            items = [m for m in items if int(m["id"]) < int(request.query["before"])]
        if "after" in request.query:
            items = [m for m in items if int(m["id"]) > int(request.query["after"])]
        return json_response(items[: int(request.query.get("limit", 50))])

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/{id} (fetch_message, e.g. for replied-to messages)."""
        msg = self.world.messages.get(int(request.match_info["message_id"]))
        if msg is None or msg["channel_id"] != request.match_info["channel_id"]:
            return unknown("Message", 10008)
        return json_response(msg)

    async def create_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages (JSON or multipart)."""
        channel_id = int(request.match_info["channel_id"])
        if channel_id not in self.world.channels:
            return unknown("Channel", 10003)
        payload, files = await read_body(request)
        if (failure := self.fake.check_permissions(channel_id, files=bool(files))) or (
            failure := self._upload_fault(files)) or (
            failure := self.fake.validate_message(payload, files, creating=True)
        ):
            return failure
        reference = None
        ref = payload.get("message_reference")
        if ref and ref.get("message_id"):
            reference = self.world.messages.get(int(ref["message_id"]))
            if reference is None and ref.get("fail_if_not_exists", True):
                return form_error("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                  "Unknown message")
        msg = self.fake.build_bot_message(channel_id, payload, files, reference=reference)
        self.fake.recorder.add("messages_created", SentMessage(
            source="channel", method="POST", path=request.path, channel_id=channel_id,
            message_id=int(msg["id"]), payload=payload, files=files, message=msg))
        await self.fake.echo("MESSAGE_CREATE", msg)
        return json_response(msg)

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}/messages/{id}."""
        msg = self.world.messages.get(int(request.match_info["message_id"]))
        if msg is None or msg["channel_id"] != request.match_info["channel_id"]:
            return unknown("Message", 10008)
        if msg["author"]["id"] != self.world.bot_user["id"]:
            return error_response(403, "Cannot edit a message authored by another user", 50005)
        payload, files = await read_body(request)
        if (failure := self._upload_fault(files)) or (
            failure := self.fake.validate_message(payload, files, creating=False)
        ):
            return failure
        self.fake.apply_edit(msg, payload, files)
        self.fake.recorder.add("messages_edited", SentMessage(
            source="channel", method="PATCH", path=request.path, channel_id=int(msg["channel_id"]),
            message_id=int(msg["id"]), payload=payload, files=files, message=msg))
        await self.fake.echo("MESSAGE_UPDATE", msg)
        return json_response(msg)

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/messages/{id} (204)."""
        mid = int(request.match_info["message_id"])
        msg = self.world.messages.get(mid)
        if msg is None or msg["channel_id"] != request.match_info["channel_id"]:
            return unknown("Message", 10008)
        await self._delete(msg, source="channel")
        return web.Response(status=204)

    async def add_reaction(self, request: web.Request) -> web.Response:
        """PUT .../reactions/{emoji}/@me (204)."""
        return await self._reaction(request, added=True)

    async def remove_reaction(self, request: web.Request) -> web.Response:
        """DELETE .../reactions/{emoji}/{user} (204)."""
        return await self._reaction(request, added=False)

    async def _reaction(self, request: web.Request, *, added: bool) -> web.Response:
        mid = int(request.match_info["message_id"])
        if mid not in self.world.messages:
            return unknown("Message", 10008)
        self.fake.recorder.add("reactions", ReactionCall(
            channel_id=int(request.match_info["channel_id"]), message_id=mid,
            emoji=request.match_info["emoji"], added=added))
        return web.Response(status=204)

    # -- application commands -----------------------------------------------------------

    async def get_commands(self, request: web.Request) -> web.Response:
        """GET global or guild application commands."""
        guild_id = request.match_info.get("guild_id")
        return json_response(self.world.commands.get(int(guild_id) if guild_id else None, []))

    async def put_commands(self, request: web.Request) -> web.Response:
        """PUT (bulk overwrite) global or guild application commands; recorded as a sync."""
        guild_id = int(request.match_info["guild_id"]) if "guild_id" in request.match_info else None
        commands, _ = await read_body(request)
        result = self.world.set_commands(guild_id, commands)
        self.fake.recorder.add("command_syncs", CommandSync(guild_id=guild_id, commands=commands))
        return json_response(result)

    # -- interactions and their webhooks ------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        """POST /interactions/{id}/{token}/callback (types 4, 5, 6, 7, 8, 9)."""
        state = self.world.interactions.get(request.match_info["token"])
        if state is None or str(state.id) != request.match_info["interaction_id"]:
            return unknown("interaction", 10062)
        deadline = self.fake.faults.interaction_deadline
        if state.callback_type is None and deadline is not None and (
            time.monotonic() - state.created > deadline
        ):
            return unknown("interaction", 10062)
        if state.callback_type is not None:
            return error_response(400, "Interaction has already been acknowledged.", 40060)
        payload, files = await read_body(request)
        ctype = int(payload.get("type", 0))
        data = payload.get("data") or {}
        if failure := self._upload_fault(files):
            return failure
        if ctype in (4, 7) and (
            failure := self.fake.validate_message(data, files, creating=ctype == 4)
        ):
            return failure
        state.callback_type = ctype
        msg: dict[str, Any] | None = None
        source_message = state.payload.get("message")
        if ctype == 4:
            msg = self.fake.build_bot_message(state.channel_id, data, files, webhook=True)
            state.original_message_id = int(msg["id"])
            await self.fake.echo("MESSAGE_CREATE", msg)
        elif ctype == 5:
            flags = p.FLAG_LOADING | (int(data.get("flags") or 0) & p.FLAG_EPHEMERAL)
            msg = self.fake.build_bot_message(state.channel_id, {"content": "", "flags": flags},
                                              [], webhook=True)
            state.original_message_id = int(msg["id"])
            await self.fake.echo("MESSAGE_CREATE", msg)
        elif ctype in (6, 7) and source_message is not None:
            state.original_message_id = int(source_message["id"])
            if ctype == 7:
                msg = self.world.messages.get(state.original_message_id)
                if msg is not None:
                    self.fake.apply_edit(msg, data, files)
                    await self.fake.echo("MESSAGE_UPDATE", msg)
        self.fake.recorder.add("interaction_callbacks", SentMessage(
            source="callback", method="POST", path=request.path, channel_id=state.channel_id,
            message_id=int(msg["id"]) if msg else state.original_message_id, payload=payload,
            files=files, message=msg, interaction_id=state.id, token=state.token,
            callback_type=ctype))
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        flags = int((msg or {}).get("flags") or 0)
        body: dict[str, Any] = {"interaction": {
            "id": str(state.id), "type": state.payload["type"], "activity_instance_id": None,
            "response_message_id": msg["id"] if msg else None,
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(flags & p.FLAG_EPHEMERAL),
        }}
        if msg is not None:
            body["resource"] = {"type": ctype, "message": msg}
        return json_response(body)

    async def followup(self, request: web.Request) -> web.Response:
        """POST /webhooks/{app}/{token}: an interaction follow-up message."""
        state = self.world.interactions.get(request.match_info["token"])
        if state is None or state.callback_type is None:
            return unknown("Webhook", 10015)
        payload, files = await read_body(request)
        if (failure := self._upload_fault(files)) or (
            failure := self.fake.validate_message(payload, files, creating=True)
        ):
            return failure
        original = (self.world.messages.get(state.original_message_id)
                    if state.original_message_id else None)
        if (state.callback_type == 5 and state.followup_count == 0 and original is not None
                and int(original.get("flags") or 0) & p.FLAG_LOADING):
            # Like Discord: the first follow-up after a "thinking" defer replaces that message.
            keep = int(original["flags"]) & p.FLAG_EPHEMERAL
            original["flags"] = keep
            self.fake.apply_edit(original, {**payload, "flags": int(payload.get("flags") or 0)
                                            | keep}, files)
            msg, event = original, "MESSAGE_UPDATE"
        else:
            msg = self.fake.build_bot_message(state.channel_id, payload, files, webhook=True)
            event = "MESSAGE_CREATE"
        state.followup_count += 1
        self.fake.recorder.add("followups", SentMessage(
            source="webhook", method="POST", path=request.path, channel_id=state.channel_id,
            message_id=int(msg["id"]), payload=payload, files=files, message=msg,
            interaction_id=state.id, token=state.token))
        await self.fake.echo(event, msg)
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(msg)
        return web.Response(status=204)

    def _webhook_target(self, request: web.Request) -> tuple[Any, dict[str, Any] | None]:
        state = self.world.interactions.get(request.match_info["token"])
        if state is None:
            return None, None
        raw = request.match_info["message_id"]
        mid = state.original_message_id if raw == "@original" else int(raw)
        return state, self.world.messages.get(mid) if mid else None

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        """GET /webhooks/{app}/{token}/messages/{id|@original}."""
        state, msg = self._webhook_target(request)
        if state is None:
            return unknown("Webhook", 10015)
        return json_response(msg) if msg else unknown("Message", 10008)

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        """PATCH /webhooks/{app}/{token}/messages/{id|@original}."""
        state, msg = self._webhook_target(request)
        if state is None:
            return unknown("Webhook", 10015)
        if msg is None:
            return unknown("Message", 10008)
        payload, files = await read_body(request)
        if (failure := self._upload_fault(files)) or (
            failure := self.fake.validate_message(payload, files, creating=False)
        ):
            return failure
        if int(msg.get("flags") or 0) & p.FLAG_LOADING:
            msg["flags"] = int(msg["flags"]) & ~p.FLAG_LOADING
        self.fake.apply_edit(msg, payload, files)
        self.fake.recorder.add("messages_edited", SentMessage(
            source="webhook", method="PATCH", path=request.path, channel_id=int(msg["channel_id"]),
            message_id=int(msg["id"]), payload=payload, files=files, message=msg,
            interaction_id=state.id, token=state.token))
        await self.fake.echo("MESSAGE_UPDATE", msg)
        return json_response(msg)

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{app}/{token}/messages/{id|@original} (204)."""
        state, msg = self._webhook_target(request)
        if state is None:
            return unknown("Webhook", 10015)
        if msg is None:
            return unknown("Message", 10008)
        await self._delete(msg, source="webhook", token=state.token)
        return web.Response(status=204)

    # -- helpers ------------------------------------------------------------------------

    async def _delete(self, msg: dict[str, Any], *, source: str, token: str | None = None) -> None:
        mid = int(msg["id"])
        self.world.messages.pop(mid, None)
        self.fake.recorder.add("messages_deleted", DeletedMessage(
            source=source, channel_id=int(msg["channel_id"]), message_id=mid, token=token))
        event = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if "guild_id" in msg:
            event["guild_id"] = msg["guild_id"]
        await self.fake.echo("MESSAGE_DELETE", event, flags=int(msg.get("flags") or 0))

    def _upload_fault(self, files: list[UploadedFile]) -> web.Response | None:
        if not files:
            return None
        fault = self.fake.faults.take_upload_fault()
        if fault is None:
            return None
        status, retry_after = fault
        if status == 429:
            return error_response(429, "You are being rate limited.", 0, retry_after=retry_after)
        return error_response(status, "Internal Server Error (fake upload fault)", 0)
