"""Records of everything the bot did against the fake, and waiting for them."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


def custom_ids(components: Iterable[Any]) -> list[str]:
    """Every custom_id in a component tree (rows, containers, sections, labels), depth first."""
    found: list[str] = []
    for item in components:
        if not isinstance(item, dict):
            continue
        if "custom_id" in item:
            found.append(item["custom_id"])
        found += custom_ids(item.get("components") or [])
        found += custom_ids([c for c in (item.get("accessory"), item.get("component")) if c])
    return found


class WaitTimeout(AssertionError):
    """A `wait_for`/`next_*` helper gave up; the message lists the most recent records."""


@dataclass(kw_only=True)
class Record:
    """Base of every record: `seq` orders all records, `time` is `time.monotonic()`."""

    seq: int = 0
    time: float = 0.0


@dataclass(kw_only=True)
class RequestRecord(Record):
    """One HTTP request the fake received (REST, CDN and gateway upgrade alike)."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    body_size: int = 0


@dataclass(kw_only=True)
class UploadedFile:
    """One `files[n]` part of a multipart request."""

    field: str
    filename: str
    data: bytes = field(repr=False)
    content_type: str | None = None

    def __repr__(self) -> str:
        return f"UploadedFile({self.field}, {self.filename!r}, {self.size} bytes)"

    @property
    def size(self) -> int:
        """Length of the file in bytes."""
        return len(self.data)


@dataclass(kw_only=True, repr=False)
class SentMessage(Record):
    """A message body the bot sent: channel create/edit, interaction callback or webhook call.

    `source` is "channel", "callback" or "webhook"; `payload` is the parsed JSON
    (`payload_json` for multipart); `message` is the message JSON the fake answered with
    (None for callbacks without a message, e.g. type 6 or 9).
    """

    source: str
    method: str
    path: str
    channel_id: int | None
    message_id: int | None
    payload: dict[str, Any]
    files: list[UploadedFile] = field(default_factory=list)
    message: dict[str, Any] | None = None
    interaction_id: int | None = None
    token: str | None = None
    callback_type: int | None = None

    @property
    def content(self) -> str | None:
        """Message content as sent (None when absent)."""
        return self._body().get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Embeds as sent."""
        return self._body().get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        """Components as sent."""
        return self._body().get("components") or []

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """allowed_mentions as sent."""
        return self._body().get("allowed_mentions")

    @property
    def message_reference(self) -> dict[str, Any] | None:
        """message_reference as sent (replies)."""
        return self._body().get("message_reference")

    @property
    def reply_to(self) -> int | None:
        """Id of the message this replies to (from message_reference), else None."""
        ref = self.message_reference
        return int(ref["message_id"]) if ref and ref.get("message_id") else None

    @property
    def flags(self) -> int:
        """Message flags as sent."""
        return int(self._body().get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """True when the ephemeral flag (64) was set."""
        return bool(self.flags & 64)

    @property
    def file(self) -> UploadedFile:
        """The only uploaded file (asserts there is exactly one)."""
        assert len(self.files) == 1, f"expected exactly one file, got {len(self.files)}"
        return self.files[0]

    @property
    def custom_ids(self) -> list[str]:
        """Every custom_id found in the components, depth first."""
        return custom_ids(self.components)

    def __repr__(self) -> str:
        extra = f" callback_type={self.callback_type}" if self.callback_type is not None else ""
        return (f"<SentMessage #{self.seq} {self.source} {self.method} {self.path}{extra} "
                f"content={self.content!r} files={self.files}>")

    def _body(self) -> dict[str, Any]:
        if self.source == "callback":
            return self.payload.get("data") or {}
        return self.payload


@dataclass(kw_only=True)
class DeletedMessage(Record):
    """A message deletion (`source` "channel" or "webhook")."""

    source: str
    channel_id: int | None
    message_id: int | None
    token: str | None = None


@dataclass(kw_only=True)
class TypingCall(Record):
    """POST /channels/{id}/typing."""

    channel_id: int


@dataclass(kw_only=True)
class CommandSync(Record):
    """PUT of application commands; guild_id None means global."""

    guild_id: int | None
    commands: list[dict[str, Any]]

    @property
    def names(self) -> list[str]:
        """Names of the synced commands."""
        return [c["name"] for c in self.commands]


@dataclass(kw_only=True)
class ReactionCall(Record):
    """Reaction added (`added` True) or removed by the bot."""

    channel_id: int
    message_id: int
    emoji: str
    added: bool


@dataclass(kw_only=True)
class GatewayRecord(Record):
    """A gateway milestone: "connect", "identify", "resume", "ready", "resumed", "close", ..."""

    event: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class HeartbeatRecord(Record):
    """A heartbeat (op 1) received from the client and whether it was acknowledged."""

    sequence: int | None
    acked: bool


@dataclass(kw_only=True)
class ServerError(Record):
    """An exception inside the fake itself (a bug in the fake or a payload it could not parse)."""

    method: str
    path: str
    error: str


class Recorder:
    """Bounded, ordered store of records with `wait_for` and consume-once `take` helpers."""

    def __init__(self, maxlen: int = 5000) -> None:
        self.maxlen = maxlen
        self.events: deque[Record] = deque(maxlen=maxlen)
        self._lists: dict[str, deque[Record]] = {}
        self._seq = 0
        self._waiters: list[tuple[Callable[[Record], bool], asyncio.Future[Record]]] = []
        self._taken: dict[str, set[int]] = {}

    def list(self, name: str) -> deque[Record]:
        """The named bounded list (created on first use)."""
        if name not in self._lists:
            self._lists[name] = deque(maxlen=self.maxlen)
        return self._lists[name]

    def add(self, name: str, record: Record) -> Record:
        """Stamp `record` with seq/time, append it to list `name` and wake matching waiters."""
        self._seq += 1
        record.seq = self._seq
        record.time = time.monotonic()
        self.list(name).append(record)
        self.events.append(record)
        self.changed(record)
        return record

    def changed(self, record: Record) -> None:
        """Re-offer a record to waiters after it was updated (e.g. a request got its status)."""
        for predicate, fut in list(self._waiters):
            if fut.done():
                continue
            try:
                if predicate(record):
                    fut.set_result(record)
            except Exception as exc:  # surface predicate bugs in the waiting test
                fut.set_exception(exc)
        self._waiters = [(p, f) for p, f in self._waiters if not f.done()]

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest record (use as `after=` for later waits)."""
        return self._seq

    async def wait_for(self, predicate: Callable[[Record], bool], timeout: float = 5.0, *,
                       after: int = 0, what: str = "a matching record") -> Record:
        """First record with seq > `after` satisfying `predicate`, already recorded or future."""
        for record in self.events:
            if record.seq > after and predicate(record):
                return record
        fut: asyncio.Future[Record] = asyncio.get_running_loop().create_future()
        entry = (predicate, fut)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise WaitTimeout(f"no {what} within {timeout}s; {self.describe_recent()}") from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def take(self, key: str, predicate: Callable[[Record], bool], timeout: float = 5.0, *,
                   what: str = "a matching record") -> Record:
        """Like wait_for, but each record is returned at most once per `key` (a queue)."""
        taken = self._taken.setdefault(key, set())
        record = await self.wait_for(lambda r: r.seq not in taken and predicate(r), timeout,
                                     what=what)
        taken.add(record.seq)
        if len(taken) > 2 * self.maxlen and self.events:
            oldest = self.events[0].seq
            self._taken[key] = {s for s in taken if s >= oldest}
        return record

    def describe_recent(self, n: int = 12) -> str:
        """Short text of the last `n` records (used in timeout messages)."""
        tail = list(self.events)[-n:]
        lines = []
        for r in tail:
            if isinstance(r, RequestRecord):
                lines.append(f"#{r.seq} {r.method} {r.path} -> {r.status}")
            elif isinstance(r, SentMessage):
                lines.append(f"#{r.seq} {type(r).__name__}({r.source} {r.method} {r.path}, "
                             f"content={r.content!r}, files={[f.filename for f in r.files]})")
            else:
                lines.append(f"#{r.seq} {r!r}"[:200])
        return "recent records:\n  " + ("\n  ".join(lines) if lines else "(none)")

    def clear(self) -> None:
        """Forget every record (waiters stay)."""
        self.events.clear()
        for items in self._lists.values():
            items.clear()
        self._taken.clear()
