"""Builders for Discord JSON: users, members, roles, guilds, channels, messages, interactions."""

from __future__ import annotations

import datetime
import itertools
import secrets
import struct
import threading
import time
import zlib
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
DEFAULT_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7

# Channel types.
GUILD_TEXT = 0
DM = 1

# Application command option types.
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11


class Snowflakes:
    """Thread-safe generator of strictly increasing, realistic Discord snowflakes."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()
        self._counter = itertools.count()

    def next(self) -> int:
        """Return a new snowflake larger than every previous one."""
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            candidate = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
            self._last = max(candidate, self._last + 1)
            return self._last


def now_iso() -> str:
    """Current UTC time as a Discord ISO-8601 timestamp."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def new_token() -> str:
    """A random interaction token."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(24)


def user(user_id: int, username: str, *, bot: bool = False, avatar: str | None = None,
         global_name: str | None = None) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": global_name if global_name is not None else username.capitalize(),
        "avatar": avatar,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
    }


def member(user_payload: dict[str, Any], roles: list[int] | tuple[int, ...] = (), *,
           nick: str | None = None, permissions: int | None = None,
           with_user: bool = True) -> dict[str, Any]:
    """A guild member object; `permissions` is added for interaction payloads."""
    data: dict[str, Any] = {
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "banner": None,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_payload
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def without_user(member_payload: dict[str, Any]) -> dict[str, Any]:
    """A member payload minus its `user` (the shape inside messages and resolved data)."""
    return {k: v for k, v in member_payload.items() if k != "user"}


def role(role_id: int, name: str, permissions: int, *, position: int = 0,
         color: int = 0, managed: bool = False) -> dict[str, Any]:
    """A role object (the @everyone role has the guild's id)."""
    return {
        "id": str(role_id),
        "name": name,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(channel_id: int, guild_id: int, name: str, *, position: int = 0,
                 topic: str | None = None, nsfw: bool = False) -> dict[str, Any]:
    """A guild text channel object."""
    return {
        "id": str(channel_id),
        "type": GUILD_TEXT,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": topic,
        "nsfw": nsfw,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def dm_channel(channel_id: int, recipient: dict[str, Any]) -> dict[str, Any]:
    """A DM channel object."""
    return {"id": str(channel_id), "type": DM, "recipients": [recipient], "last_message_id": None,
            "flags": 0}


def guild(guild_id: int, name: str, *, owner_id: int, roles: list[dict], channels: list[dict],
          members: list[dict]) -> dict[str, Any]:
    """A full GUILD_CREATE guild object."""
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": roles,
        "channels": channels,
        "threads": [],
        "members": members,
        "member_count": len(members),
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "large": False,
        "unavailable": False,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "max_members": 500000,
        "vanity_url_code": None,
        "premium_progress_bar_enabled": False,
    }


def attachment(attachment_id: int, filename: str, *, url: str, proxy_url: str, size: int,
               content_type: str | None, width: int | None = None, height: int | None = None,
               description: str | None = None) -> dict[str, Any]:
    """An attachment object."""
    data: dict[str, Any] = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": proxy_url,
        "content_type": content_type,
        "width": width,
        "height": height,
        "ephemeral": False,
        "flags": 0,
    }
    if description is not None:
        data["description"] = description
    return data


def gifv_embed(page_url: str, *, video_url: str, video_proxy_url: str, thumbnail_url: str,
               thumbnail_proxy_url: str, width: int, height: int,
               provider: str = "Tenor") -> dict[str, Any]:
    """A GIF picker's embed (type "gifv"), as Discord adds it to a Tenor link: the clip and a
    still thumbnail, each with its third-party URL and Discord's media-proxy copy."""
    size = {"width": width, "height": height, "flags": 0}
    return {
        "type": "gifv",
        "url": page_url,
        "provider": {"name": provider, "url": "https://tenor.co"},
        "thumbnail": {"url": thumbnail_url, "proxy_url": thumbnail_proxy_url, **size},
        "video": {"url": video_url, "proxy_url": video_proxy_url, **size},
        "content_scan_version": 0,
    }


def message(message_id: int, channel_id: int, author: dict[str, Any], content: str = "", *,
            guild_id: int | None = None, member: dict[str, Any] | None = None,
            attachments: list[dict] | None = None, embeds: list[dict] | None = None,
            components: list[dict] | None = None, mentions: list[dict] | None = None,
            referenced_message: dict[str, Any] | None = None, flags: int = 0,
            webhook_id: int | None = None, application_id: int | None = None,
            msg_type: int | None = None) -> dict[str, Any]:
    """A message object; a `referenced_message` makes it a reply (type 19)."""
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "type": 0,
        "flags": flags,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    if member is not None:
        data["member"] = member
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
    if application_id is not None:
        data["application_id"] = str(application_id)
    if referenced_message is not None:
        data["type"] = 19
        data["message_reference"] = {
            "type": 0,
            "message_id": referenced_message["id"],
            "channel_id": referenced_message["channel_id"],
        }
        if "guild_id" in referenced_message:
            data["message_reference"]["guild_id"] = referenced_message["guild_id"]
        data["referenced_message"] = {
            k: v for k, v in referenced_message.items() if k != "referenced_message"
        }
    if msg_type is not None:
        data["type"] = msg_type
    return data


def interaction(interaction_id: int, token: str, *, kind: int, application_id: int,
                channel: dict[str, Any], user_payload: dict[str, Any],
                member_payload: dict[str, Any] | None = None, guild_id: int | None = None,
                data: dict[str, Any] | None = None, message_payload: dict[str, Any] | None = None,
                locale: str = "en-US", app_permissions: int = DEFAULT_PERMISSIONS,
                attachment_size_limit: int = 10 * 1024 * 1024) -> dict[str, Any]:
    """An INTERACTION_CREATE payload (kind 2 = command, 3 = component, 5 = modal submit)."""
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": kind,
        "token": token,
        "version": 1,
        "channel": channel,
        "channel_id": channel["id"],
        "locale": locale,
        "app_permissions": str(app_permissions),
        "entitlements": [],
        "authorizing_integration_owners": {
            "0" if guild_id else "1": str(guild_id or user_payload["id"])
        },
        "context": 0 if guild_id else 1,
        "attachment_size_limit": attachment_size_limit,
    }
    if data is not None:
        payload["data"] = data
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
        payload["member"] = member_payload or member(user_payload, permissions=DEFAULT_PERMISSIONS)
    else:
        payload["user"] = user_payload
    if message_payload is not None:
        payload["message"] = message_payload
    return payload


def png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A valid RGB PNG of one colour, without needing Pillow."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
