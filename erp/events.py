"""In-process announcements from a lower layer to the layers above it.

Dependencies run one way (erp → integrations → inventory → orders → shipping). When a lower layer must let a
higher one react (a store was connected: sync it; stock was freed: retry held orders), it declares an Event and the
higher app connects a receiver in its AppConfig.ready(). Receivers are called in order, synchronously, with the
sender's arguments; they should only enqueue or mark work, never do it at length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class Event:
    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Callable[..., None]] = []

    def __repr__(self) -> str:
        return f"<Event {self.name}: {len(self._receivers)} receiver(s)>"

    def connect(self, receiver: Callable[..., None]) -> Callable[..., None]:
        if receiver not in self._receivers:  # ready() may run twice in some test set-ups
            self._receivers.append(receiver)
        return receiver

    def send(self, *args: Any, **kwargs: Any) -> None:
        for receiver in list(self._receivers):
            receiver(*args, **kwargs)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """No receiver hears this event inside the block (benchmarks and tests that do the receivers' work
        themselves)."""
        saved, self._receivers = self._receivers, []
        try:
            yield
        finally:
            self._receivers = saved


class Contributions(Generic[R]):
    """What apps above contribute to a page of a lower layer (a section of the order page, rows of "At risk"): readers
    registered in their AppConfig.ready(), asked in order when the page is built. A reader answering None adds
    nothing. The read-side twin of Event."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._readers: list[Callable[..., R | None]] = []

    def __repr__(self) -> str:
        return f"<Contributions {self.name}: {len(self._readers)} reader(s)>"

    def provide(self, reader: Callable[..., R | None]) -> Callable[..., R | None]:
        if reader not in self._readers:  # ready() may run twice in some test set-ups
            self._readers.append(reader)
        return reader

    def gather(self, *args: Any, **kwargs: Any) -> list[R]:
        return [answer for reader in self._readers if (answer := reader(*args, **kwargs)) is not None]
