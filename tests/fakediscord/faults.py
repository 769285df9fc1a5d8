"""Fault switches a test flips on `FakeDiscord.faults` to make the fake misbehave."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RouteFault:
    """Answer the next `count` requests matching `method` and `path` (a regex) with `status`."""

    method: str
    path: str
    status: int
    count: int | None = 1
    body: dict[str, Any] | None = None
    retry_after: float = 0.05
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to the request (path is relative to /api/v10)."""
        return (self.method == "*" or self.method.upper() == method.upper()) and bool(
            re.fullmatch(self.path, path)
        )


@dataclass
class Faults:
    """All switches; defaults mean "behave like a healthy Discord". Counters count down as used.

    CDN (attachment and avatar downloads):
      cdn_status / cdn_status_count: answer with this HTTP status (count None = until cleared).
      cdn_delay: seconds to wait before answering; cdn_trickle: body bytes per second;
      cdn_truncate_at: advertise the full Content-Length but drop the connection after N bytes.
    Uploads (any message create/edit/follow-up/callback request that carries files):
      upload_429_count (answered 429 with upload_retry_after), upload_500_count.
    Gateway: ack_heartbeats=False stops HEARTBEAT_ACKs (zombie connection).
    Interactions: interaction_deadline = seconds after which an unanswered interaction is
      "Unknown interaction" (10062), like Discord's 3-second rule; None disables it.
    Any route: `fail(method, path_regex, status, count=1)` (see RouteFault).
    """

    cdn_status: int | None = None
    cdn_status_count: int | None = None
    cdn_delay: float = 0.0
    cdn_trickle: int | None = None
    cdn_truncate_at: int | None = None
    upload_429_count: int = 0
    upload_retry_after: float = 0.05
    upload_500_count: int = 0
    ack_heartbeats: bool = True
    interaction_deadline: float | None = None
    routes: list[RouteFault] = field(default_factory=list)

    def fail(self, method: str, path: str, status: int, count: int | None = 1, *,
             body: dict[str, Any] | None = None, retry_after: float = 0.05,
             delay: float = 0.0) -> RouteFault:
        """Make the next `count` matching REST requests fail with `status` (None = forever)."""
        rule = RouteFault(method, path, status, count, body, retry_after, delay)
        self.routes.append(rule)
        return rule

    def reset(self) -> None:
        """Turn every fault off."""
        fresh = Faults()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))

    # -- used by the server -------------------------------------------------------------

    def take_route_fault(self, method: str, path: str) -> RouteFault | None:
        """Consume and return the first route fault matching the request, if any."""
        for rule in self.routes:
            if rule.matches(method, path) and (rule.count is None or rule.count > 0):
                if rule.count is not None:
                    rule.count -= 1
                return rule
        return None

    def take_cdn_status(self) -> int | None:
        """Consume one CDN failure, returning its status or None when the CDN is healthy."""
        if self.cdn_status is None:
            return None
        if self.cdn_status_count is not None:
            if self.cdn_status_count <= 0:
                return None
            self.cdn_status_count -= 1
        return self.cdn_status

    def take_upload_fault(self) -> tuple[int, float] | None:
        """Consume one upload failure: (429, retry_after) or (500, 0), else None."""
        if self.upload_429_count > 0:
            self.upload_429_count -= 1
            return 429, self.upload_retry_after
        if self.upload_500_count > 0:
            self.upload_500_count -= 1
            return 500, 0.0
        return None
