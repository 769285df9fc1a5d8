"""FakeDiscord: one aiohttp app on 127.0.0.1 serving REST, gateway and CDN, plus test helpers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import traceback
from typing import Any, TypeVar
from urllib.parse import quote

import discord
from aiohttp import web

from . import cdn
from . import payloads as p
from .actions import MessageRef, SentInteraction, UserActions
from .client import patch_discord, run_bot
from .faults import Faults
from .gateway import Gateway
from .messages import BotMessages
from .ratelimits import RateLimiter, RateLimitHit, RateLimits
from .recorded import RecordViews
from .rest import RestApi, error_response, json_response
from .state import Recorder, RequestRecord, SentMessage, ServerError
from .world import World

log = logging.getLogger(__name__)
ClientT = TypeVar("ClientT", bound=discord.Client)


class FakeDiscord(UserActions, RecordViews, BotMessages):
    """A loopback Discord for tests: REST (/api/v10), gateway (/gateway) and CDN on one port.

    Pre-made world: `bot_user` (id == `application_id`), `guild`, `channel` ("general"),
    `other_channel` ("gallery") and member users `alice`, `bob`, `carol` (payload dicts; ids are
    strings as in Discord JSON; `*_id` attributes are ints).

    Discord's rate limits are enforced by default (see ratelimits.py): pass `rate_limits=None`
    to turn them off, or a `RateLimits` of your own; `limiter.enabled` switches them at run time.
    """

    def __init__(self, *, heartbeat_interval: float = 1.0, token: str | None = None,
                 upload_limit: int = 10 * 1024 * 1024, max_records: int = 5000,
                 echo_bot_messages: bool = True,
                 rate_limits: RateLimits | None | bool = True) -> None:
        self.faults = Faults()
        if isinstance(rate_limits, bool):
            rate_limits = RateLimits() if rate_limits else None
        self.limiter = RateLimiter(rate_limits)
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
        app.router.add_get("/external/{key}/{tail:.*}", self._cdn_external)
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

    async def set_bot_permissions(self, permissions: int) -> None:
        """Make the bot's guild permissions exactly `permissions` (@everyone gets none).

        Sends GUILD_ROLE_UPDATEs if a bot is connected; channel POSTs then answer 403
        Missing Permissions (50013) without VIEW_CHANNEL|SEND_MESSAGES (+ATTACH_FILES for files).
        Bits are in fakediscord.payloads (e.g. p.DEFAULT_PERMISSIONS & ~p.ATTACH_FILES).
        """
        self.world.everyone_role["permissions"] = "0"
        self.world.bot_role["permissions"] = str(permissions)
        for role in (self.world.everyone_role, self.world.bot_role):
            await self.gateway.dispatch_if_connected(
                "GUILD_ROLE_UPDATE", {"guild_id": str(self.guild_id), "role": role})

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

    def add_tenor_gif(self, clip: bytes, still: bytes, width: int, height: int
                      ) -> dict[str, Any]:
        """A Tenor GIF as the GIF picker posts it: returns the "gifv" embed of its link, whose
        proxy URLs (Discord's images-ext proxy, here the fake's /external/) serve `clip` (an
        MP4) and `still` (a PNG); its tenor.com URLs lead nowhere."""
        key = self.world.ids.next()
        self.cdn.put(f"ext:{key}:mp4", clip, "video/mp4")
        self.cdn.put(f"ext:{key}:png", still, "image/png")
        media = f"https://media.tenor.com/fake{key}/cat"
        proxy = f"{self.base_url}/external/{key}/https/media.tenor.com/fake{key}/cat"
        return p.gifv_embed(f"https://tenor.com/view/cat-gif-{key}",
                            video_url=f"{media}.mp4", video_proxy_url=f"{proxy}.mp4",
                            thumbnail_url=f"{media}.png", thumbnail_proxy_url=f"{proxy}.png",
                            width=width, height=height)

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

    @property
    def rate_limit_hits(self) -> list[RateLimitHit]:
        """Every request the fake answered with a rate-limit 429 (route bucket or global)."""
        return list(self.limiter.hits)

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
            verdict = self.limiter.check(request.method, rel) if api else None
            refused = verdict is not None and verdict.refused is not None
            rule = None if refused else self.faults.take_route_fault(request.method, rel)
            if verdict is not None and verdict.refused is not None:
                if request.can_read_body:
                    await request.read()
                status, body, headers = verdict.refused
                response = json_response(body, status, headers)
            elif rule is not None:
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if request.can_read_body:
                    await request.read()
                body = rule.body or {"message": f"fake fault {rule.status}", "code": 0}
                response = error_response(rule.status, retry_after=rule.retry_after, **body)
            else:
                response = await handler(request)
                if verdict is not None and not response.prepared:
                    response.headers.update(verdict.headers)
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

    async def _cdn_external(self, request: web.Request) -> web.StreamResponse:
        suffix = request.match_info["tail"].rsplit(".", 1)[-1]
        return await cdn.serve(request, self.cdn, self.faults,
                               f"ext:{request.match_info['key']}:{suffix}")

    async def _cdn_avatar(self, request: web.Request) -> web.StreamResponse:
        avatar_hash = request.match_info["file"].rsplit(".", 1)[0]
        return await cdn.serve(request, self.cdn, self.faults,
                               f"avatar:{request.match_info['user_id']}:{avatar_hash}")

    async def _cdn_default_avatar(self, request: web.Request) -> web.StreamResponse:
        return await cdn.serve(request, self.cdn, self.faults, "embed-avatar")


__all__ = ["FakeDiscord", "MessageRef", "SentInteraction"]
