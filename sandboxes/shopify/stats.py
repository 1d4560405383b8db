"""Call counters per shop and per root field, so a benchmark can assert "no rate-limit violations" (throttled == 0)."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Counters:
    calls: int = 0  # every authenticated GraphQL request, whatever came of it
    queries: int = 0
    mutations: int = 0
    ok: int = 0  # executed (may still carry userErrors or field errors)
    throttled: int = 0  # refused by the real cost bucket (THROTTLED)
    max_cost_exceeded: int = 0
    injected_errors: int = 0  # 5xx from the faults
    dropped: int = 0  # executed, answer lost on purpose (drop_response_after_commit)
    errors: int = 0  # executed with top-level errors (ACCESS_DENIED, a missing @idempotent, ...)
    unauthorized: int = 0  # 401s (counted by shop when the shop is known)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.shops: dict[str, Counters] = defaultdict(Counters)
        self.fields: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        with self._lock:
            self.shops.clear()
            self.fields.clear()

    def call(self, shop: str, kind: str, fields: list[str]) -> None:
        with self._lock:
            c = self.shops[shop]
            c.calls += 1
            if kind == "mutation":
                c.mutations += 1
            else:
                c.queries += 1
            for f in fields:
                self.fields[f] += 1

    def count(self, shop: str, outcome: str) -> None:
        with self._lock:
            c = self.shops[shop]
            setattr(c, outcome, getattr(c, outcome) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            shops = {k: asdict(v) for k, v in sorted(self.shops.items())}
            totals = {k: sum(s[k] for s in shops.values()) for k in asdict(Counters())}
            return {"shops": shops, "totals": totals, "fields": dict(sorted(self.fields.items()))}
