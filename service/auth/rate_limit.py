"""Per-API-key token buckets: a steady rate with a burst allowance, in this process."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``per_minute`` requests a minute on average, up to ``burst`` at once; 0 turns it off.

    Each replica keeps its own buckets (no shared state on the request path), so with N
    replicas behind a balancer a key may reach N times the rate; docs/scaling.md discusses it.
    """

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.enabled = per_minute > 0
        self._buckets: dict[int, _Bucket] = {}

    def retry_after(self, key_id: int, now: float | None = None) -> float:
        """Take a token for ``key_id``; 0 if allowed, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
