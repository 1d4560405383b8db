"""Rate limiting shared by every worker process: slots counted where the platform counts them, in Redis.

What the platform counts (docs/adr/0028): TikTok accepts at most N requests per API per app + shop in any rolling
1 s window, counted when a request ARRIVES at its gateway (the sandbox does exactly that: a log of accepted arrivals,
one per API and app + shop, over (t - 1 s, t]; refused requests are not counted).

A grant here is not an arrival there, so the limiter does not count grants. It holds a slot for each call over
every moment at which that call's arrival could still be inside the platform's window:

* from the grant (the request cannot arrive before it was sent, and it is sent after the grant),
* until the answer came back plus the window (the answer proves the arrival happened before it),
* less the path's floor: where the round trips of this key begin. A new request cannot arrive sooner than the way
  there takes, and an answered request arrived at least the way back before its answer; together at least one
  round trip of the fastest kind. The way there of one call and the way back of another can both be fast without
  any single call having been that fast, so the floor is not the shortest round trip seen but where they begin,
  extrapolated from the fastest few: shortest - (FLOOR_FASTEST-th shortest - shortest). With no floor known yet
  (fewer than FLOOR_MIN_SAMPLES answers) it is 0, which is exact for any network.

No window ever holds more than N arrivals if no round trip is faster than the fastest one seen: every call arriving
in a window (t - 1 s, t] still holds its slot at the latest grant among them, and at most N slots are ever held.
A slot is never released less than a full window after its grant (a round trip is never shorter than the floor),
so no window ever holds more than N grants either.

When every slot is held, the caller is told when the next one frees (if every held slot is still in flight: one
window less the floor from now, the soonest any of them can free) and asks again then.

When the platform refuses anyway (HTTP 429 / 36009002), `throttled` pauses every caller of the key for one window
(the time for every arrival the platform counted before refusing to leave its window) and forgets the floor, which
the refusal has just shown to be too optimistic.

Why not a token bucket: a bucket with burst N refilling at N/s lets N through at t=0.99 s and N more at t=1.01 s:
2N in one window. Why not a window widened by a margin: it guesses the jitter (too small: refusals; too large:
throughput lost on every call) where the answers measure it.

Clock: the scripts read Redis's own TIME, so workers on different machines with skewed clocks still agree, and a
round trip is measured on the same clock as the grant.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

# Answers needed on a key before its shortest round trip is trusted as the path's floor: the minimum of a few
# answers is far above the true one; with 50 (one second at TikTok's default) it is close to it.
FLOOR_MIN_SAMPLES = 50
# The floor is extrapolated from this many fastest round trips (see the module's docstring).
FLOOR_FASTEST = 8
# An idle key forgets its floor after this long: the path may have changed meanwhile.
FLOOR_MEMORY_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class Slot:
    """One granted call. `granted_us` is on the limiter's clock; `local` when the in-process fallback granted it."""

    key: str
    token: str
    granted_us: int
    local: bool = False


class RateLimiter(Protocol):
    def acquire(self, key: str, *, limit: int, window_ms: int, lease_ms: int) -> Slot | float:
        """A slot, or the seconds to wait before asking again. `lease_ms` bounds how long the call may stay in flight
        (a worker that dies mid-call holds its slot that long)."""
        ...

    def release(self, slot: Slot, *, window_ms: int, answered: bool) -> None:
        """The call is over: hold the slot one window (less the path's floor) from now. `answered` when the call
        surely went through the platform's counter and back (a success), so its round trip is a sample of the
        path's floor. A fast answer that did not (a gateway refusal) only lowers the floor: less credit, never
        too many calls."""
        ...

    def throttled(self, key: str, *, pause_ms: int) -> None:
        """The platform refused a call on `key`: no grant for anyone for `pause_ms`, and forget the floor."""
        ...


# The floor (µs) of a key: HASH n (answers) and fastest (the FLOOR_FASTEST shortest round trips, ascending, "a,b,c").
_FLOOR_LUA = f"""
local function fastest_of(floor_key)
  local fastest = {{}}
  for v in string.gmatch(redis.call('HGET', floor_key, 'fastest') or '', '[^,]+') do
    fastest[#fastest + 1] = tonumber(v)
  end
  return fastest
end
local function floor_of(floor_key, min_samples)
  local fastest = fastest_of(floor_key)
  if tonumber(redis.call('HGET', floor_key, 'n') or '0') < min_samples or #fastest < {FLOOR_FASTEST} then
    return 0
  end
  local floor = 2 * fastest[1] - fastest[{FLOOR_FASTEST}]
  if floor < 0 then floor = 0 end
  return floor
end
"""

# KEYS: slots (ZSET token -> free-at µs), pause, floor. ARGV: limit, window µs, lease µs, token, min samples.
# Returns {0, now} for a grant, {wait µs, 0} otherwise.
_ACQUIRE_LUA = (
    _FLOOR_LUA
    + """
local slots, pause, floor_key = KEYS[1], KEYS[2], KEYS[3]
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2])
local lease_us = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused_ms = redis.call('PTTL', pause)
if paused_ms > 0 then
  return {paused_ms * 1000, 0}
end
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
local count = redis.call('ZCARD', slots)
if count < limit then
  redis.call('ZADD', slots, now + lease_us, ARGV[4])
  redis.call('PEXPIRE', slots, math.floor(lease_us / 1000) + 1000)
  return {0, now}
end
local freed = tonumber(redis.call('ZRANGE', slots, count - limit, count - limit, 'WITHSCORES')[2])
local wait = freed - now
-- A slot whose score is further away than a window is still in flight (its score is the lease): it is released
-- when its answer comes, at the earliest now + window - floor.
local floor = floor_of(floor_key, tonumber(ARGV[5]))
if wait > window_us - floor then
  wait = window_us - floor
  if wait < 10000 then wait = 10000 end  -- a path as slow as the window: its answer frees the slot, ask again soon
end
if wait < 1 then wait = 1 end
return {wait, 0}
"""
)

# KEYS: slots, floor. ARGV: token, window µs, granted µs, answered (0/1), min samples, floor memory ms.
_RELEASE_LUA = (
    _FLOOR_LUA
    + f"""
local slots, floor_key = KEYS[1], KEYS[2]
local window_us = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[4] == '1' then
  local rtt = now - tonumber(ARGV[3])
  local fastest = fastest_of(floor_key)
  local at = #fastest + 1
  while at > 1 and fastest[at - 1] > rtt do at = at - 1 end
  if at <= {FLOOR_FASTEST} then
    table.insert(fastest, at, rtt)
    if #fastest > {FLOOR_FASTEST} then table.remove(fastest) end
    redis.call('HSET', floor_key, 'fastest', table.concat(fastest, ','))
  end
  redis.call('HINCRBY', floor_key, 'n', 1)
  redis.call('PEXPIRE', floor_key, tonumber(ARGV[6]))
end
local floor = floor_of(floor_key, tonumber(ARGV[5]))
redis.call('ZADD', slots, now + window_us - floor, ARGV[1])
if redis.call('PTTL', slots) < math.floor(window_us / 1000) + 1000 then  -- never shorten other slots' leases
  redis.call('PEXPIRE', slots, math.floor(window_us / 1000) + 1000)
end
return 0
"""
)

# KEYS: pause, floor. ARGV: pause ms.
_THROTTLED_LUA = """
local pause_ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < pause_ms then
  redis.call('SET', KEYS[1], '1', 'PX', pause_ms)
end
redis.call('DEL', KEYS[2])
return 0
"""


class RedisSlidingWindowLimiter:
    """The production limiter: shared by all workers through Redis (scores and answers in microseconds)."""

    def __init__(self, redis_url: str, *, prefix: str = "dropline:ratelimit:") -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._acquire = self._redis.register_script(_ACQUIRE_LUA)
        self._release = self._redis.register_script(_RELEASE_LUA)
        self._throttled = self._redis.register_script(_THROTTLED_LUA)
        self._prefix = prefix
        # If Redis is unreachable we keep going on a per-process limiter rather than stopping every platform call:
        # the platform's 429s are still retried, and a Redis outage must not stop order import.
        self._fallback = InProcessSlidingWindowLimiter()

    def _keys(self, key: str) -> tuple[str, str, str]:
        base = self._prefix + key
        return base, base + ":pause", base + ":floor"

    def acquire(self, key: str, *, limit: int, window_ms: int, lease_ms: int) -> Slot | float:
        import redis

        slots, pause, floor = self._keys(key)
        token = uuid.uuid4().hex
        try:
            wait_us, now_us = self._acquire(
                keys=[slots, pause, floor], args=[limit, window_ms * 1000, lease_ms * 1000, token, FLOOR_MIN_SAMPLES]
            )
        except redis.RedisError as exc:
            log.warning("rate limiter: Redis unavailable (%s); using the in-process limiter", exc)
            return self._fallback.acquire(key, limit=limit, window_ms=window_ms, lease_ms=lease_ms)
        if int(wait_us) > 0:
            return int(wait_us) / 1_000_000
        return Slot(key=key, token=token, granted_us=int(now_us))

    def release(self, slot: Slot, *, window_ms: int, answered: bool) -> None:
        import redis

        if slot.local:
            self._fallback.release(slot, window_ms=window_ms, answered=answered)
            return
        slots, _, floor = self._keys(slot.key)
        args: list[str | int] = [
            slot.token,
            window_ms * 1000,
            slot.granted_us,
            int(answered),
            FLOOR_MIN_SAMPLES,
            FLOOR_MEMORY_MS,
        ]
        try:
            self._release(keys=[slots, floor], args=args)
        except redis.RedisError as exc:
            # The slot then stays held until its lease ends: fewer calls for a while, never too many.
            log.warning("rate limiter: Redis unavailable (%s); slot kept until its lease ends", exc)

    def throttled(self, key: str, *, pause_ms: int) -> None:
        import redis

        _, pause, floor = self._keys(key)
        try:
            self._throttled(keys=[pause, floor], args=[pause_ms])
        except redis.RedisError as exc:
            log.warning("rate limiter: Redis unavailable (%s); pausing this process only", exc)
            self._fallback.throttled(key, pause_ms=pause_ms)


class InProcessSlidingWindowLimiter:
    """Same algorithm in process memory, for the embedded dev mode without Redis.

    It only protects calls made from THIS process: with several workers and no Redis the platform limit can be
    exceeded (the client still backs off on 429). Never the production configuration.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, dict[str, float]] = {}  # key -> token -> free-at (monotonic seconds)
        self._floors: dict[str, tuple[list[float], int, float]] = {}  # key -> (fastest round trips, answers, last)
        self._paused_until: dict[str, float] = {}
        self._monotonic = time.monotonic

    def _floor(self, key: str, now: float) -> float:
        fastest, answers, last = self._floors.get(key, ([], 0, now))
        if answers < FLOOR_MIN_SAMPLES or len(fastest) < FLOOR_FASTEST or now - last > FLOOR_MEMORY_MS / 1000:
            return 0.0
        return max(2 * fastest[0] - fastest[FLOOR_FASTEST - 1], 0.0)

    def acquire(self, key: str, *, limit: int, window_ms: int, lease_ms: int) -> Slot | float:
        window = window_ms / 1000
        with self._lock:
            now = self._monotonic()
            paused = self._paused_until.get(key, 0.0) - now
            if paused > 0:
                return paused
            slots = self._slots.setdefault(key, {})
            for token in [token for token, free_at in slots.items() if free_at <= now]:
                del slots[token]
            if len(slots) < limit:
                token = uuid.uuid4().hex
                slots[token] = now + lease_ms / 1000
                return Slot(key=key, token=token, granted_us=round(now * 1_000_000), local=True)
            wait = sorted(slots.values())[len(slots) - limit] - now
            # A slot still in flight is released when its answer comes: at the earliest now + window - floor.
            if wait > window - self._floor(key, now):
                wait = max(window - self._floor(key, now), 0.01)
            return max(wait, 0.000001)

    def release(self, slot: Slot, *, window_ms: int, answered: bool) -> None:
        with self._lock:
            now = self._monotonic()
            if answered:
                fastest, answers, last = self._floors.get(slot.key, ([], 0, now))
                if now - last > FLOOR_MEMORY_MS / 1000:
                    fastest, answers = [], 0  # forgotten, as an idle Redis key expires
                fastest = sorted([*fastest, now - slot.granted_us / 1_000_000])[:FLOOR_FASTEST]
                self._floors[slot.key] = (fastest, answers + 1, now)
            self._slots.setdefault(slot.key, {})[slot.token] = now + window_ms / 1000 - self._floor(slot.key, now)

    def throttled(self, key: str, *, pause_ms: int) -> None:
        with self._lock:
            now = self._monotonic()
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), now + pause_ms / 1000)
            self._floors.pop(key, None)


def limiter_for(redis_url: str) -> RateLimiter:
    """The shared limiter when Redis is configured, else the in-process one (embedded mode)."""
    if redis_url:
        return RedisSlidingWindowLimiter(redis_url)
    log.info("rate limiter: no REDIS_URL, limits are per process only (embedded mode)")
    return InProcessSlidingWindowLimiter()
