"""erp.ids.uuid7: RFC 9562 layout, ordered within a process, and never the same random bits in two processes."""

from __future__ import annotations

import os
import uuid

from erp.ids import uuid7


def test_uuid7_layout_and_order():
    made = [uuid7() for _ in range(20_000)]  # several milliseconds, and thousands within one
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in made)
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(str(u)) == u and hash(uuid.UUID(str(u))) == hash(u) for u in made[:100])


def test_a_forked_child_does_not_reuse_its_parents_random_bits():
    """The random bits come from a pool: a child forked with bytes left in it (a Celery worker forked from a parent
    that made ids) must draw its own, or parent and child would make the same ids in the same millisecond."""
    uuid7()  # the pool now holds unused bytes
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, uuid7().bytes)
        os._exit(0)
    os.waitpid(child, 0)
    childs = uuid.UUID(bytes=os.read(read, 16))
    parents = uuid7()
    os.close(read)
    os.close(write)
    random_bits = (1 << 62) - 1
    assert childs.int & random_bits != parents.int & random_bits
