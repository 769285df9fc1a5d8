"""FakeDiscord mixin: Discord's checks on message bodies, building/editing bot messages, echoes."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import payloads as p
from .rest import error_response, form_error
from .state import UploadedFile
from .world import World

if TYPE_CHECKING:
    from .gateway import Gateway


class BotMessages:
    """How the fake turns a bot's request body into stored message JSON (used by rest.py)."""

    world: World
    gateway: Gateway
    upload_limit: int
    echo_bot_messages: bool

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

    def check_permissions(self, channel_id: int, *, files: bool) -> web.Response | None:
        """403 Missing Permissions (50013) unless the bot may send (and attach) in the channel."""
        guild_id = self.world.guild_id_of(channel_id)
        if guild_id is None:
            return None
        perms = self.world.bot_permissions(guild_id)
        needed = p.VIEW_CHANNEL | p.SEND_MESSAGES | (p.ATTACH_FILES if files else 0)
        if perms & p.ADMINISTRATOR or perms & needed == needed:
            return None
        return error_response(403, "Missing Permissions", 50013)

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
                event_data["member"] = p.without_user(member)
        await self.gateway.dispatch_if_connected(event, event_data)

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


