"""Fake gateway websocket: HELLO/IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME and dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .state import GatewayRecord, HeartbeatRecord

if TYPE_CHECKING:
    from .faults import Faults
    from .state import Recorder
    from .world import World

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALIDATE_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11


@dataclass
class Session:
    """One gateway session (survives reconnects that RESUME)."""

    session_id: str
    identify: dict[str, Any]
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    ws: web.WebSocketResponse | None = None
    request: web.BaseRequest | None = None

    @property
    def shard(self) -> tuple[int, int]:
        """(shard id, shard count) from IDENTIFY's `shard` field; (0, 1) without one."""
        shard = self.identify.get("shard") or (0, 1)
        return int(shard[0]), int(shard[1])

    def owns(self, guild_id: int | str | None) -> bool:
        """Whether this shard gets the guild's events: (guild_id >> 22) % count, as Discord."""
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id

    @property
    def intents(self) -> int:
        """Intents the client asked for in IDENTIFY."""
        return int(self.identify.get("intents", 0))


def shard_of(guild_id: int | str | None, count: int) -> int:
    """The shard a guild's events go to (shard 0 for events of no guild, e.g. DMs)."""
    return 0 if guild_id is None else (int(guild_id) >> 22) % count


def guild_of(event: str, data: dict[str, Any]) -> int | str | None:
    """The guild an event belongs to, if any."""
    if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
        return data.get("id")
    return data.get("guild_id") if isinstance(data, dict) else None


class Gateway:
    """The websocket endpoint at /gateway: one bot session per shard (IDENTIFY's `shard`
    field; no field = the one shard), guild events routed to their guild's shard."""

    def __init__(self, world: World, recorder: Recorder, faults: Faults, *,
                 heartbeat_interval: float = 1.0) -> None:
        self.world = world
        self.recorder = recorder
        self.faults = faults
        self.heartbeat_interval = heartbeat_interval
        self.url = ""  # set by the server once the port is known
        self.session: Session | None = None  # the latest identified (the only one unsharded)
        self.shards: dict[int, Session] = {}  # shard id -> its session
        self.heartbeats: deque[HeartbeatRecord] = deque(maxlen=10000)
        self.sockets: set[web.WebSocketResponse] = set()
        self.live = asyncio.Event()  # set while a session has an open, identified socket
        self._lock = asyncio.Lock()
        self.presences: list[dict[str, Any]] = []

    # -- observers ----------------------------------------------------------------------

    @property
    def identify_count(self) -> int:
        """How many IDENTIFYs were received."""
        return sum(1 for r in self.recorder.list("gateway") if r.event == "identify")

    @property
    def resume_count(self) -> int:
        """How many RESUMEs were received."""
        return sum(1 for r in self.recorder.list("gateway") if r.event == "resume")

    @property
    def intents(self) -> int | None:
        """Intents of the current session's IDENTIFY (None before any)."""
        return self.session.intents if self.session else None

    def heartbeat_gaps(self) -> list[float]:
        """Seconds between consecutive heartbeats received (across reconnects)."""
        times = [h.time for h in self.heartbeats]
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    def max_heartbeat_gap(self) -> float:
        """Largest gap between heartbeats, including the time since the last one."""
        gaps = self.heartbeat_gaps()
        if self.heartbeats and self.live.is_set():
            gaps.append(time.monotonic() - self.heartbeats[-1].time)
        return max(gaps, default=0.0)

    # -- websocket handler --------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """aiohttp handler for GET /gateway (the websocket upgrade)."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.sockets.add(ws)
        self._note("connect", query=dict(request.query))
        try:
            await self._send(ws, {"op": HELLO, "d": {"heartbeat_interval":
                                                     int(self.heartbeat_interval * 1000)}})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_payload(ws, request, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self.sockets.discard(ws)
            for session in [*self.shards.values(), self.session]:
                if session is not None and session.ws is ws:
                    session.ws = None
            if not any(session.ws is not None for session in self.shards.values()):
                self.live.clear()
            self._note("close", code=ws.close_code)
        return ws

    async def _on_payload(self, ws: web.WebSocketResponse, request: web.Request,
                          payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            acked = self.faults.ack_heartbeats
            record = HeartbeatRecord(sequence=data, acked=acked)
            record.time = time.monotonic()
            self.heartbeats.append(record)
            if acked:
                await self._send(ws, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(ws, request, data)
        elif op == RESUME:
            await self._resume(ws, request, data)
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(data)
        elif op == PRESENCE:
            self.presences.append(data)
        else:
            self._note("unhandled_op", op=op)

    async def _identify(self, ws: web.WebSocketResponse, request: web.Request,
                        data: dict[str, Any]) -> None:
        self._note("identify", intents=data.get("intents"), shard=data.get("shard"))
        async with self._lock:
            session = Session(session_id=secrets.token_hex(16), identify=data, ws=ws,
                              request=request)
            old = self.shards.get(session.shard[0])
            self.session = self.shards[session.shard[0]] = session
            if old is not None and old.ws is not None and old.ws is not ws:
                await old.ws.close(code=4000)
            guilds = [g for g in self.world.guilds.values() if session.owns(g["id"])]
            ready = {
                "v": 10,
                "user": self.world.bot_user,
                "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
                "session_id": self.session.session_id,
                "resume_gateway_url": self.url,
                "session_type": "normal",
                "application": {"id": str(self.world.application_id),
                                "flags": self.world.application["flags"]},
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
                "geo_ordered_rtc_regions": [],
            }
            if "shard" in data:
                ready["shard"] = data["shard"]
            await self._dispatch_locked("READY", ready, session)
            for g in guilds:
                await self._dispatch_locked("GUILD_CREATE", g, session)
            self.live.set()
        self._note("ready", session_id=session.session_id, shard=data.get("shard"))

    async def _resume(self, ws: web.WebSocketResponse, request: web.Request,
                      data: dict[str, Any]) -> None:
        self._note("resume", seq=data.get("seq"), session_id=data.get("session_id"))
        session = next((s for s in self.shards.values()
                        if s.session_id == data.get("session_id")), None)
        if session is None:
            await self._send(ws, {"op": INVALIDATE_SESSION, "d": False})
            self._note("invalid_session", resumable=False, reason="unknown session")
            return
        async with self._lock:
            if session.ws is not None and session.ws is not ws:
                await session.ws.close(code=4000)
            session.ws, session.request = ws, request
            last = data.get("seq") or 0
            replay = [e for e in session.buffer if e["s"] > last]
            for event in replay:
                await self._send(ws, event)
            await self._dispatch_locked("RESUMED", {}, session)
            self.live.set()
        self._note("resumed", replayed=len(replay))

    async def _members_chunk(self, data: dict[str, Any]) -> None:
        gid = data.get("guild_id")
        for guild_id in gid if isinstance(gid, list) else [gid]:
            guild = self.world.guilds.get(int(guild_id))
            if guild is None:
                continue
            chunk = {"guild_id": guild["id"], "members": guild["members"], "chunk_index": 0,
                     "chunk_count": 1, "not_found": [], "presences": []}
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- sending ------------------------------------------------------------------------

    async def _send(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> bool:
        if ws.closed:
            return False
        try:
            await ws.send_str(json.dumps(payload))
        except (ConnectionError, RuntimeError):
            return False
        return True

    def route(self, event: str, data: dict[str, Any]) -> Session | None:
        """The session of the shard that gets this event (None if that shard is not in)."""
        guild_id = guild_of(event, data)
        return next((s for s in self.shards.values() if s.owns(guild_id)), None)

    async def _dispatch_locked(self, event: str, data: dict[str, Any],
                               session: Session | None = None) -> int:
        session = session or self.route(event, data)
        assert session is not None
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(payload)
        if session.ws is not None:
            await self._send(session.ws, payload)
        return session.seq

    async def dispatch(self, event: str, data: dict[str, Any], *, timeout: float = 5.0) -> int:
        """Send a DISPATCH event; waits (up to `timeout`) for a session, buffers while resuming.

        Returns the event's sequence number.
        """
        deadline = time.monotonic() + timeout
        while self.route(event, data) is None:  # e.g. its shard has not identified yet
            if time.monotonic() >= deadline:
                raise RuntimeError(f"no bot identified on the fake gateway within {timeout}s "
                                   f"(cannot dispatch {event})")
            await asyncio.sleep(0.02)
        async with self._lock:
            return await self._dispatch_locked(event, data)

    async def dispatch_if_connected(self, event: str, data: dict[str, Any]) -> int | None:
        """Send a DISPATCH event only if a session exists (echoes of the bot's own actions)."""
        if self.route(event, data) is None:
            return None
        async with self._lock:
            return await self._dispatch_locked(event, data)

    # -- faults -------------------------------------------------------------------------

    async def _wait_note(self, events: tuple[str, ...], after: int, timeout: float) -> None:
        await self.recorder.wait_for(
            lambda r: isinstance(r, GatewayRecord) and r.event in events, timeout, after=after,
            what=f"gateway {'/'.join(events)}")

    async def drop(self, *, code: int = 4000, abort: bool = False, wait: bool = True,
                   timeout: float = 5.0) -> None:
        """Close the bot's socket (close `code`, or TCP abort); by default wait for RESUMED."""
        session = self.session
        if session is None or session.ws is None:
            raise RuntimeError("no live gateway connection to drop")
        mark = self.recorder.last_seq
        self.live.clear()
        ws, request = session.ws, session.request
        if abort and request is not None and request.transport is not None:
            request.transport.abort()
        else:
            await ws.close(code=code)
        if wait:
            await self._wait_note(("resumed", "ready"), mark, timeout)

    async def invalidate_session(self, *, resumable: bool = False, wait: bool = True,
                                 timeout: float = 5.0) -> None:
        """Send op 9; the bot reconnects (RESUME if resumable, else IDENTIFY). Waits by default.

        discord.py sleeps 5 s before a re-IDENTIFY unless the bot overrides
        `before_identify_hook` (test bots should).
        """
        session = self.session
        if session is None or session.ws is None:
            raise RuntimeError("no live gateway connection to invalidate")
        mark = self.recorder.last_seq
        if not resumable:
            self.shards.pop(session.shard[0], None)
            self.session = None
        self.live.clear()
        self._note("invalid_session", resumable=resumable)
        await self._send(session.ws, {"op": INVALIDATE_SESSION, "d": resumable})
        if wait:
            await self._wait_note(("resumed", "ready"), mark, timeout)

    async def request_reconnect(self, *, wait: bool = True, timeout: float = 5.0) -> None:
        """Send op 7 RECONNECT; the bot reconnects and RESUMEs. Waits by default."""
        session = self.session
        if session is None or session.ws is None:
            raise RuntimeError("no live gateway connection")
        mark = self.recorder.last_seq
        self.live.clear()
        await self._send(session.ws, {"op": RECONNECT, "d": None})
        if wait:
            await self._wait_note(("resumed", "ready"), mark, timeout)

    async def close(self) -> None:
        """Close every socket (1001 going away) and forget the session."""
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001), 1.0)
        self.session = None
        self.shards.clear()
        self.live.clear()

    def _note(self, event: str, **detail: Any) -> None:
        self.recorder.add("gateway", GatewayRecord(event=event, detail=detail))
