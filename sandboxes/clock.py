"""The sandbox clock: real time plus an offset that tests can move, or a frozen instant.

Only business time (order deadlines, token expiry, doc_url expiry, webhook retries) follows this clock.
Request signing timestamps and the rate limiter use real time, as a real gateway would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SandboxClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        # Called (outside the clock lock) after the clock moves so the world can apply due transitions.
        self.listeners: list[Callable[[], None]] = []

    def now_float(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> int:
        """Sandbox time in whole Unix seconds (both TikTok and Shopify serialise whole seconds)."""
        return int(self.now_float())

    def advance(self, seconds: float) -> int:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        self._notify()
        return self.now()

    def set(self, epoch: float) -> int:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = float(epoch)
            else:
                self._offset = float(epoch) - time.time()
        self._notify()
        return self.now()

    def freeze(self) -> int:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
        return self.now()

    def unfreeze(self) -> int:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None
        return self.now()

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    def describe(self) -> dict[str, object]:
        return {
            "now": self.now(),
            "frozen": self.frozen,
            "offset_seconds": round(self._offset, 3),
            "real_now": int(time.time()),
        }

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()
