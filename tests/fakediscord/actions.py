"""Acting as Discord users: messages, slash commands, context menus, button clicks, modals."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads as p
from .state import SentMessage, custom_ids
from .world import InteractionState, World

if TYPE_CHECKING:
    from .gateway import Gateway
    from .server import FakeDiscord

MessageRef = int | str | dict[str, Any] | SentMessage
_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass
class SentInteraction:
    """An interaction the fake sent to the bot; look up or await what the bot answered."""

    fake: FakeDiscord = field(repr=False)
    id: int
    token: str
    payload: dict[str, Any] = field(repr=False)
    _taken: set[int] = field(default_factory=set, repr=False)

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


class UserActions:
    """FakeDiscord mixin: what users do (each dispatches a gateway event to the bot)."""

    world: World
    gateway: Gateway
    upload_limit: int
    alice: dict[str, Any]

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
            mention_payloads.append({**u, **({"member": p.without_user(m)} if m else {})})
        member = self.world.member_of(author["id"], guild_id) if guild_id else None
        if guild_id and member is None:
            member = p.member(author)
        msg = p.message(self.world.ids.next(), channel_id, author, content, guild_id=guild_id,
                        member=p.without_user(member) if member else None, attachments=atts,
                        embeds=list(embeds), mentions=mention_payloads,
                        referenced_message=reference)
        self.world.store_message(msg)
        await self.gateway.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def send_interaction(self, name: str, options: dict[str, Any] | list[dict] | None = None,
                               *, user: dict[str, Any] | None = None,
                               channel_id: int | None = None, dm: bool = False,
                               command_type: int = 1, target: dict[str, Any] | None = None,
                               locale: str = "en-US", focused: str | None = None
                               ) -> SentInteraction:
        """A user runs an application command (INTERACTION_CREATE type 2).

        name: "ping" or "group sub" for subcommands. options: {name: value}; values may be
        str/int/float/bool, an add_attachment() dict (attachment option), or a user dict.
        Types come from the synced command when known. command_type 2/3 = user/message
        context menu with `target` (a user or message dict). focused: the option being typed;
        sends an autocomplete interaction (type 4) instead, answered by callback type 8
        (`(await ix.callback()).payload["data"]["choices"]`).
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
            if focused is not None:
                _mark_focused(data["options"], focused)
        elif target is not None:
            data["target_id"] = target["id"]
            if command_type == 3:
                resolved["messages"] = {target["id"]: target}
            else:
                self._resolve_user(target, resolved, guild_id)
        if resolved:
            data["resolved"] = resolved
        return await self._interact(2 if focused is None else 4, data, user, channel_id,
                                    locale=locale)

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


    # -- internals ----------------------------------------------------------------------

    def _resolve_user(self, user: dict[str, Any], resolved: dict[str, dict[str, Any]],
                      guild_id: int | None) -> None:
        resolved.setdefault("users", {})[user["id"]] = user
        member = self.world.member_of(user["id"], guild_id) if guild_id else None
        if member is not None:
            resolved.setdefault("members", {})[user["id"]] = {
                **p.without_user(member), "permissions": str(p.DEFAULT_PERMISSIONS)}

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


def _mark_focused(options: list[dict[str, Any]], name: str) -> None:
    """Flag the (sub)command option `name` as the one being typed (catches typos)."""
    leaf = options
    while leaf and leaf[0]["type"] in (p.OPT_SUB_COMMAND, p.OPT_SUB_COMMAND_GROUP):
        leaf = leaf[0].get("options") or []
    option = next((o for o in leaf if o["name"] == name), None)
    if option is None:
        raise ValueError(f"focused option {name!r} not among {[o['name'] for o in leaf]}")
    option["focused"] = True
