"""Rate limiting shared by every worker process: a sliding-window log in Redis, one atomic Lua script.

Why not a token bucket: TikTok (and the sandbox) accept at most N requests in ANY rolling 1 s window. A bucket with
burst N refilling at N/s lets N through at t=0.99 s and N more at t=1.01 s: 2N in one window. A sliding log counts
the grants of the last `window` exactly, so no window ever holds more than N grants.

Why the window is wider than 1 s: a grant here is not an arrival there. Two requests granted 1.0 s apart may reach
TikTok 0.95 s apart if the first one is delayed by the network. Widening the window by a margin (default 150 ms)
absorbs that jitter at the cost of ~13% of the throughput.

Clock: the script reads Redis's own TIME, so workers on different machines with skewed clocks still agree.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from typing import Protocol

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def reserve(self, key: str, limit: int, window_ms: int) -> float:
        """Record a grant and return 0.0, or record nothing and return the seconds to wait before trying again."""
        ...


_SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2])
local member = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_us)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.floor(window_us / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window_us - now
if wait < 1 then wait = 1 end
return wait
"""


class RedisSlidingWindowLimiter:
    """The production limiter: shared by all workers through Redis (scores and answers in microseconds)."""

    def __init__(self, redis_url: str, *, prefix: str = "dropline:ratelimit:") -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._script = self._redis.register_script(_SLIDING_WINDOW_LUA)
        self._prefix = prefix
        # If Redis is unreachable we keep going on a per-process limiter rather than stopping every platform call:
        # the platform's 429s are still retried, and a Redis outage must not stop order import.
        self._fallback = InProcessSlidingWindowLimiter()

    def reserve(self, key: str, limit: int, window_ms: int) -> float:
        import redis

        try:
            wait_us = self._script(keys=[self._prefix + key], args=[limit, window_ms * 1000, uuid.uuid4().hex])
        except redis.RedisError as exc:
            log.warning("rate limiter: Redis unavailable (%s); using the in-process limiter", exc)
            return self._fallback.reserve(key, limit, window_ms)
        return int(wait_us) / 1_000_000


class InProcessSlidingWindowLimiter:
    """Same algorithm in process memory, for the embedded dev mode without Redis.

    It only protects calls made from THIS process: with several workers and no Redis the platform limit can be
    exceeded (the client still backs off on 429). Never the production configuration.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, deque[float]] = {}
        self._monotonic = time.monotonic

    def reserve(self, key: str, limit: int, window_ms: int) -> float:
        window = window_ms / 1000
        with self._lock:
            now = self._monotonic()
            grants = self._grants.setdefault(key, deque())
            while grants and grants[0] <= now - window:
                grants.popleft()
            if len(grants) < limit:
                grants.append(now)
                return 0.0
            return max(grants[len(grants) - limit] + window - now, 0.000001)


def limiter_for(redis_url: str) -> RateLimiter:
    """The shared limiter when Redis is configured, else the in-process one (embedded mode)."""
    if redis_url:
        return RedisSlidingWindowLimiter(redis_url)
    log.info("rate limiter: no REDIS_URL, limits are per process only (embedded mode)")
    return InProcessSlidingWindowLimiter()
