"""Per-API, per app+shop sliding-log rate limiter and request statistics (real monotonic time)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

WINDOW = 1.0


@dataclass
class ApiStats:
    requests: int = 0
    ok: int = 0
    business_errors: int = 0
    violations: int = 0  # 429s produced by the real limiter
    injected_429: int = 0  # 429s produced by faults
    injected_errors: int = 0  # other injected errors
    max_in_1s: int = 0  # most requests (accepted or not) that arrived in any rolling 1 s window, per app+shop
    max_accepted_in_1s: int = 0
    by_shop: dict[str, int] = field(default_factory=dict)


class RateLimiter:
    def __init__(self, qps: int) -> None:
        self.qps = qps
        self._lock = threading.Lock()
        self._accepted: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._arrivals: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.stats: dict[str, ApiStats] = defaultdict(ApiStats)

    def reset(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._arrivals.clear()
            self.stats.clear()

    def hit(self, api: str, scope: str) -> bool:
        """Record an arrival; True when accepted, False when over the limit (caller answers 429)."""
        now = time.monotonic()
        key = (api, scope)
        with self._lock:
            st = self.stats[api]
            st.requests += 1
            st.by_shop[scope] = st.by_shop.get(scope, 0) + 1
            arrivals = self._arrivals[key]
            arrivals.append(now)
            while arrivals and arrivals[0] <= now - WINDOW:
                arrivals.popleft()
            st.max_in_1s = max(st.max_in_1s, len(arrivals))
            log = self._accepted[key]
            while log and log[0] <= now - WINDOW:
                log.popleft()
            if self.qps > 0 and len(log) >= self.qps:
                st.violations += 1
                return False
            log.append(now)
            st.max_accepted_in_1s = max(st.max_accepted_in_1s, len(log))
            return True

    def record(self, api: str, outcome: str) -> None:
        with self._lock:
            st = self.stats[api]
            if outcome == "ok":
                st.ok += 1
            elif outcome == "business_error":
                st.business_errors += 1
            elif outcome == "injected_429":
                st.injected_429 += 1
            elif outcome == "injected_error":
                st.injected_errors += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rate_limit_qps": self.qps,
                "apis": {
                    api: {
                        "requests": s.requests,
                        "ok": s.ok,
                        "business_errors": s.business_errors,
                        "violations": s.violations,
                        "injected_429": s.injected_429,
                        "injected_errors": s.injected_errors,
                        "max_in_1s": s.max_in_1s,
                        "max_accepted_in_1s": s.max_accepted_in_1s,
                        "by_shop": dict(s.by_shop),
                    }
                    for api, s in sorted(self.stats.items())
                },
            }
