"""The per-participant token bucket, on a clock the test moves."""

from __future__ import annotations

from courtroom.ratelimit import RateLimit, TokenBucket


def test_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(RateLimit(rate=10, burst=5), clock=lambda: now[0])
    assert [bucket.take() for _ in range(5)] == [0.0] * 5
    assert abs(bucket.take() - 0.1) < 1e-9
    now[0] += 0.1
    assert bucket.take() == 0.0 and bucket.take() > 0
    now[0] += 100
    assert [bucket.take() for _ in range(5)] == [0.0] * 5 and bucket.take() > 0  # never above the burst


def test_rate_zero_is_no_limit() -> None:
    bucket = TokenBucket(RateLimit(rate=0, burst=0))
    assert all(bucket.take() == 0.0 for _ in range(10_000))
