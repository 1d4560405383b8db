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
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF  # random start leaves headroom for the counter
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (now_ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    # What uuid.UUID(int=value) builds, without its argument checks (the value is in range by construction): an import
    # makes several ids per order. Python 3.14's own uuid7 builds its UUIDs this way (UUID._from_int).
    made = _new_uuid(uuid.UUID)
    _set_slot(made, "int", value)
    _set_slot(made, "is_safe", uuid.SafeUUID.unknown)
    return made


_new_uuid = object.__new__
_set_slot = object.__setattr__
