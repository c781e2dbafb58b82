"""The token bucket itself; the HTTP 429 contract is in tests/reliability/test_rate_limit.py."""

from __future__ import annotations

from service.auth.rate_limit import RateLimiter


def test_bucket_allows_burst_then_refills() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    assert [limiter.retry_after(1, now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.retry_after(1, now=0.0) == 1.0
    assert limiter.retry_after(2, now=0.0) == 0.0
    assert limiter.retry_after(1, now=1.0) == 0.0


def test_disabled_limiter_never_limits() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.retry_after(1, now=0.0) == 0.0 for _ in range(1000))
