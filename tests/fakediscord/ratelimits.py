"""Discord-like rate limits for the fake: per-channel route buckets and the global limit.

Discord does not document its per-route numbers (clients must read the headers), so the
defaults are the long-observed ones: creating messages 5 per 5 s per channel, editing 5 per 5 s,
deleting 5 per 1 s, reactions 1 per 0.25 s (adding and removing share one bucket); and the
documented global limit, 50 requests per second per bot, which interaction callbacks and
interaction webhooks do not count against. Each bucket is a fixed window that opens with its
first request, as Discord's `X-RateLimit-Reset-After` describes it; the answers carry the
headers discord.py's `Ratelimit` reads, and a request over a limit gets Discord's 429.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Bucket:
    """One shared limit: `limit` requests per `per` seconds for each top-level resource.

    `routes` are (method, regex on the path after /api/v10) pairs; the first regex group is the
    top-level resource (the channel id) that gets a window of its own.
    """

    name: str  # sent as X-RateLimit-Bucket (Discord sends an opaque hash, the same per bucket)
    limit: int
    per: float
    routes: tuple[tuple[str, str], ...]

    def resource(self, method: str, path: str) -> str | None:
        """The top-level resource id when this bucket covers the request, else None."""
        for route_method, pattern in self.routes:
            if route_method == method.upper() and (match := re.fullmatch(pattern, path)):
                return match.group(1)
        return None


MESSAGE = r"/channels/(\d+)/messages/\d+"
DEFAULT_BUCKETS = (
    Bucket("message-create", 5, 5.0, (("POST", r"/channels/(\d+)/messages"),)),
    Bucket("message-edit", 5, 5.0, (("PATCH", MESSAGE),)),
    Bucket("message-delete", 5, 1.0, (("DELETE", MESSAGE),)),
    Bucket("reactions", 1, 0.25, (("PUT", MESSAGE + r"/reactions/[^/]+/[^/]+"),
                                  ("DELETE", MESSAGE + r"/reactions/[^/]+/[^/]+"))),
)
EXEMPT_FROM_GLOBAL = (r"/interactions/.*", r"/webhooks/\d+/[^/]+(/.*)?")


@dataclass
class RateLimits:
    """The limits one fake enforces; flip `enabled` (or pass `rate_limits=None` to FakeDiscord)
    for a test that must not wait for them."""

    enabled: bool = True
    buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS
    global_limit: int = 50  # requests per global_per seconds, all routes but interactions
    global_per: float = 1.0

    def scaled(self, factor: float) -> RateLimits:
        """The same limits with every window `factor` times as long (tests use short ones)."""
        return RateLimits(self.enabled,
                          tuple(Bucket(b.name, b.limit, b.per * factor, b.routes)
                                for b in self.buckets),
                          self.global_limit, self.global_per * factor)


@dataclass
class _Window:
    count: int = 0
    ends: float = 0.0


@dataclass
class Verdict:
    """What the limiter says about one request: headers for its answer, or a 429 to send."""

    headers: dict[str, str] = field(default_factory=dict)
    refused: tuple[int, dict[str, Any], dict[str, str]] | None = None  # status, body, headers


@dataclass(kw_only=True)
class RateLimitHit:
    """A request the fake refused with 429 (`scope` "user" for a route bucket, or "global")."""

    method: str
    path: str
    bucket: str
    resource: str | None
    retry_after: float


class RateLimiter:
    """Counts requests per (bucket, channel) and globally; answers like Discord does."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits if limits is not None else RateLimits(enabled=False)
        self._windows: dict[tuple[str, str | None], _Window] = {}
        self.hits: list[RateLimitHit] = []

    @property
    def enabled(self) -> bool:
        """Whether limits are enforced now."""
        return self.limits.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.limits.enabled = value

    def reset(self) -> None:
        """Forget every window (all budgets full again)."""
        self._windows.clear()

    def check(self, method: str, path: str) -> Verdict:
        """Count one REST request (path relative to /api/v10) and say how to answer it."""
        verdict = Verdict()
        if not self.limits.enabled:
            return verdict
        now = time.monotonic()
        if not any(re.fullmatch(p, path) for p in EXEMPT_FROM_GLOBAL):
            window = self._open(("global", None), now, self.limits.global_per)
            if window.count >= self.limits.global_limit:
                return self._refuse(verdict, method, path, "global", None, window.ends - now)
            window.count += 1
        for bucket in self.limits.buckets:
            resource = bucket.resource(method, path)
            if resource is None:
                continue
            window = self._open((bucket.name, resource), now, bucket.per)
            reset_after = window.ends - now
            verdict.headers = {
                "X-RateLimit-Limit": str(bucket.limit),
                "X-RateLimit-Remaining": str(max(0, bucket.limit - window.count - 1)),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": bucket.name,
            }
            if window.count >= bucket.limit:
                verdict.headers["X-RateLimit-Remaining"] = "0"
                return self._refuse(verdict, method, path, bucket.name, resource, reset_after)
            window.count += 1
            break
        return verdict

    def _open(self, key: tuple[str, str | None], now: float, per: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now >= window.ends:
            window = self._windows[key] = _Window(0, now + per)
        return window

    def _refuse(self, verdict: Verdict, method: str, path: str, bucket: str,
                resource: str | None, retry_after: float) -> Verdict:
        retry_after = max(retry_after, 0.001)
        is_global = bucket == "global"
        self.hits.append(RateLimitHit(method=method, path=path, bucket=bucket, resource=resource,
                                      retry_after=retry_after))
        body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3),
                "global": is_global, "code": 0}
        headers = {**verdict.headers, "Retry-After": str(max(1, math.ceil(retry_after))),
                   "Via": "1.1 google", "X-RateLimit-Scope": "global" if is_global else "user"}
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        verdict.refused = (429, body, headers)
        return verdict
