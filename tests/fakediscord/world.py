"""The fake's model of Discord: application, bot user, guild, channels, members, messages."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from . import payloads as p


@dataclass
class InteractionState:
    """Server-side bookkeeping of one interaction sent to the bot."""

    id: int
    token: str
    payload: dict[str, Any]
    channel_id: int
    created: float
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_count: int = 0


@dataclass
class World:
    """Entities the fake serves; dicts are the exact JSON payloads (mutable on purpose)."""

    ids: p.Snowflakes = field(default_factory=p.Snowflakes)
    max_messages: int = 5000

    def __post_init__(self) -> None:
        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.interactions: OrderedDict[str, InteractionState] = OrderedDict()
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id

        self.application_id = self.ids.next()
        self.bot_user = self.add_user("stylebot", bot=True, user_id=self.application_id)
        self.application = {
            "id": str(self.application_id),
            "name": "stylebot",
            "icon": None,
            "description": "fake application",
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 1 << 23 | 1 << 19,  # GATEWAY_GUILD_MEMBERS_LIMITED | MESSAGE_CONTENT_LIMITED
            "owner": None,
            "team": None,
            "summary": "",
            "interactions_endpoint_url": None,
            "redirect_uris": [],
        }
        self.owner = self.add_user("owner")
        self.application["owner"] = self.owner

        guild_id = self.ids.next()
        self.everyone_role = p.role(guild_id, "@everyone", p.DEFAULT_PERMISSIONS)
        self.bot_role = p.role(self.ids.next(), "stylebot",
                               p.DEFAULT_PERMISSIONS | p.MANAGE_MESSAGES, position=1, managed=True)
        self.guild = p.guild(guild_id, "Fake Guild", owner_id=int(self.owner["id"]),
                             roles=[self.everyone_role, self.bot_role], channels=[], members=[])
        self.guilds[guild_id] = self.guild
        self.guild_id = guild_id
        self.add_member(self.bot_user, roles=[int(self.bot_role["id"])])
        self.add_member(self.owner)
        self.channel = self.add_channel("general")
        self.other_channel = self.add_channel("gallery")

    # -- entities -----------------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False, user_id: int | None = None,
                 avatar: str | None = None) -> dict[str, Any]:
        """Create a user (not a guild member)."""
        uid = user_id or self.ids.next()
        data = p.user(uid, username, bot=bot, avatar=avatar)
        self.users[uid] = data
        return data

    def add_member(self, user: dict[str, Any], roles: list[int] | None = None) -> dict[str, Any]:
        """Add `user` to the default guild and return the member payload."""
        data = p.member(user, roles or [])
        self.guild["members"] = [m for m in self.guild["members"] if m["user"]["id"] != user["id"]]
        self.guild["members"].append(data)
        self.guild["member_count"] = len(self.guild["members"])
        return data

    def member_of(self, user_id: int | str, guild_id: int | None = None) -> dict[str, Any] | None:
        """The member payload (with `user`) of a user in a guild, if a member."""
        guild = self.guilds.get(guild_id or self.guild_id)
        if guild is None:
            return None
        for m in guild["members"]:
            if m["user"]["id"] == str(user_id):
                return m
        return None

    def bot_permissions(self, guild_id: int | None = None) -> int:
        """The bot's guild-level permissions (OR of @everyone and its roles; no overwrites)."""
        guild = self.guilds[guild_id or self.guild_id]
        member = self.member_of(self.bot_user["id"], int(guild["id"])) or {"roles": []}
        wanted = {guild["id"], *member["roles"]}
        perms = 0
        for r in guild["roles"]:
            if r["id"] in wanted:
                perms |= int(r["permissions"])
        return perms

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> dict[str, Any]:
        """Another guild with the bot and the owner in it and a #general channel; with
        `shard` = (id, count), its ID lands on that shard ((guild_id >> 22) % count == id)."""
        guild_id = self.ids.next()
        if shard is not None:
            shard_id, count = shard
            guild_id += ((shard_id - (guild_id >> 22)) % count) << 22
            while self.ids.next() < guild_id:  # later IDs stay larger than this one
                pass
        everyone = p.role(guild_id, "@everyone", p.DEFAULT_PERMISSIONS)
        bot_role = p.role(self.ids.next(), "stylebot",
                          p.DEFAULT_PERMISSIONS | p.MANAGE_MESSAGES, position=1, managed=True)
        members = [p.member(self.bot_user, [int(bot_role["id"])]), p.member(self.owner, [])]
        guild = p.guild(guild_id, name, owner_id=int(self.owner["id"]),
                        roles=[everyone, bot_role], channels=[], members=members)
        guild["member_count"] = len(members)
        self.guilds[guild_id] = guild
        self.add_channel("general", guild_id)
        return guild

    def add_channel(self, name: str, guild_id: int | None = None) -> dict[str, Any]:
        """Create a text channel in a guild (default guild)."""
        guild = self.guilds[guild_id or self.guild_id]
        data = p.text_channel(self.ids.next(), int(guild["id"]), name,
                              position=len(guild["channels"]))
        guild["channels"].append(data)
        self.channels[int(data["id"])] = data
        return data

    def dm_channel_for(self, user: dict[str, Any]) -> dict[str, Any]:
        """The DM channel between the bot and `user` (created on first use)."""
        uid = int(user["id"])
        if uid not in self.dm_channels:
            data = p.dm_channel(self.ids.next(), user)
            self.channels[int(data["id"])] = data
            self.dm_channels[uid] = int(data["id"])
        return self.channels[self.dm_channels[uid]]

    def guild_id_of(self, channel_id: int) -> int | None:
        """Guild id of a channel (None for DMs and unknown channels)."""
        channel = self.channels.get(int(channel_id))
        if channel is None or "guild_id" not in channel:
            return None
        return int(channel["guild_id"])

    # -- messages -----------------------------------------------------------------------

    def store_message(self, data: dict[str, Any]) -> dict[str, Any]:
        """Keep a message (bounded) so fetch/edit/reply/click can find it."""
        mid = int(data["id"])
        self.messages[mid] = data
        self.messages.move_to_end(mid)
        while len(self.messages) > self.max_messages:
            self.messages.popitem(last=False)
        return data

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Stored messages of a channel, newest first."""
        return [m for m in reversed(self.messages.values()) if m["channel_id"] == str(channel_id)]

    # -- interactions -------------------------------------------------------------------

    def store_interaction(self, state: InteractionState) -> None:
        """Keep an interaction (bounded) for its callback and webhook routes."""
        self.interactions[state.token] = state
        while len(self.interactions) > 1000:
            self.interactions.popitem(last=False)

    # -- application commands -----------------------------------------------------------

    def set_commands(self, guild_id: int | None, commands: list[dict[str, Any]]) -> list[dict]:
        """Replace the command set (global when guild_id is None); returns them with ids."""
        previous = {(c["name"], c.get("type", 1)): c for c in self.commands.get(guild_id, [])}
        result = []
        for cmd in commands:
            old = previous.get((cmd["name"], cmd.get("type", 1)))
            full = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **cmd,
                "id": old["id"] if old else str(self.ids.next()),
                "application_id": str(self.application_id),
                "version": str(self.ids.next()),
            }
            if guild_id is not None:
                full["guild_id"] = str(guild_id)
            result.append(full)
        self.commands[guild_id] = result
        return result

    def find_command(self, name: str, command_type: int = 1,
                     guild_id: int | None = None) -> dict[str, Any] | None:
        """A synced command by name/type (guild commands first, then global)."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == command_type:
                    return cmd
        return None
