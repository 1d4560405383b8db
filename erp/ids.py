"""Primary keys for Dropline's rows: UUID version 7 (RFC 9562).

Time-ordered, so B-tree inserts stay local and "newest first" is an index scan on the key; globally unique, so an
id never means anything outside its own row (the tenant-isolation test relies on that); not guessable in a URL.
Python 3.11's uuid module has no uuid7, and the layout is twelve lines.
"""

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0
# Random bits come from the operating system's CSPRNG a few kilobytes at a time: one system call per id was a third
# of an id's cost, and an import makes several ids per order. A forked child must never hand out its parent's unused
# bytes (two Celery workers would make the same ids), so the child starts with an empty pool.
_POOL_BYTES = 4096
_pool = b""
_taken = 0


def _forget_pool() -> None:
    global _pool, _taken
    _pool, _taken = b"", 0


os.register_at_fork(after_in_child=_forget_pool)


def _random_bits(count: int) -> int:
    """`count` (at most 64) random bits from the pool; the caller holds `_lock`."""
    global _pool, _taken
    if _taken + 8 > len(_pool):
        _pool, _taken = os.urandom(_POOL_BYTES), 0
    chunk = _pool[_taken : _taken + 8]
    _taken += 8
    return int.from_bytes(chunk, "big") & ((1 << count) - 1)


def uuid7() -> uuid.UUID:
    """48-bit Unix milliseconds, then a 12-bit counter (monotonic within a millisecond), then 62 random bits."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # more than 4096 ids in one millisecond: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            now_ms = _last_ms
        else:
            _last_ms = now_ms
            _counter = _random_bits(10)  # random start leaves headroom for the counter
        counter = _counter
        rand = _random_bits(62)
    value = (now_ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    # What uuid.UUID(int=value) builds, without its argument checks (the value is in range by construction). Python
    # 3.14's own uuid7 builds its UUIDs this way (UUID._from_int).
    made = _new_uuid(uuid.UUID)
    _set_slot(made, "int", value)
    _set_slot(made, "is_safe", uuid.SafeUUID.unknown)
    return made


_new_uuid = object.__new__
_set_slot = object.__setattr__
