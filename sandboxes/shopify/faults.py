"""Faults on demand, as the TikTok sandbox does them: latency, injected 5xx, held requests, answers lost after the
work was done, duplicate webhooks. (A THROTTLED storm is the real bucket drained: POST /sandbox/rate-limit/drain.)

A rule targets GraphQL calls by `api`: "*" (every call), "query" or "mutation" (every call of that kind), or a root
field name ("fulfillmentCreate", "orders"). Rules fire for the `next` N matching calls, or with probability `rate`
(drawn from a seeded RNG).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


class DropConnection(Exception):
    """Raised after the work is committed when a fault asks for the socket to close without an answer."""


@dataclass
class Latency:
    api: str = "*"
    ms: float = 0.0
    jitter_ms: float = 0.0


@dataclass
class ErrorRule:
    api: str = "*"
    http_status: int = 503
    message: str = ""
    retry_after: float | None = None  # seconds, sent as Retry-After when set
    rate: float | None = None
    next: int | None = None


@dataclass
class TimeoutRule:
    api: str = "*"
    hold_ms: float = 5000.0
    rate: float | None = None
    next: int | None = None


@dataclass
class DropRule:
    api: str = "mutation"
    rate: float | None = None
    next: int | None = None


@dataclass
class FaultConfig:
    latency: list[Latency] = field(default_factory=list)
    errors: list[ErrorRule] = field(default_factory=list)
    timeouts: list[TimeoutRule] = field(default_factory=list)
    drop_response_after_commit: list[DropRule] = field(default_factory=list)
    webhook_duplicates: int = 1  # each successful webhook delivery is sent this many times (same event id)
    seed: int = 0


def matches(rule_api: str, kind: str, fields: list[str]) -> bool:
    return rule_api in ("*", kind) or rule_api in fields


class Faults:
    """Thread-safe holder. Tests may poke ``sb.faults`` directly or go through /sandbox/faults."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig(seed=seed)
        self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self.config = FaultConfig(seed=self.config.seed)
            self._rng = random.Random(self.config.seed)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.config)

    def update(self, payload: dict[str, Any], replace: bool = True) -> dict[str, Any]:
        """Set faults from JSON. ``replace`` drops existing rules first (PUT semantics)."""
        with self._lock:
            cfg = FaultConfig(seed=self.config.seed) if replace else self.config
            if "seed" in payload:
                cfg.seed = int(payload["seed"])
                self._rng = random.Random(cfg.seed)
            lat = payload.get("latency")
            if isinstance(lat, dict):  # {"ms": 100} shorthand for a global latency
                lat = [lat]
            cfg.latency += [Latency(**x) for x in lat or []]
            cfg.errors += [ErrorRule(**x) for x in payload.get("errors") or []]
            cfg.timeouts += [TimeoutRule(**x) for x in payload.get("timeouts") or []]
            cfg.drop_response_after_commit += [DropRule(**x) for x in payload.get("drop_response_after_commit") or []]
            if "webhook_duplicates" in payload:
                cfg.webhook_duplicates = max(1, int(payload["webhook_duplicates"]))
            self.config = cfg
        return self.as_dict()

    # Convenience for Python callers.
    def add_error(
        self, api: str = "*", http_status: int = 503, next: int | None = None, rate: float | None = None
    ) -> None:
        with self._lock:
            self.config.errors.append(ErrorRule(api, http_status, rate=rate, next=next))

    def add_latency(self, api: str = "*", ms: float = 0.0, jitter_ms: float = 0.0) -> None:
        with self._lock:
            self.config.latency.append(Latency(api, ms, jitter_ms))

    def drop_after_commit(self, api: str = "mutation", next: int | None = None, rate: float | None = None) -> None:
        with self._lock:
            self.config.drop_response_after_commit.append(DropRule(api, rate, next))

    def set_webhook_duplicates(self, k: int) -> None:
        with self._lock:
            self.config.webhook_duplicates = max(1, k)

    # ------------------------------------------------------------------ decisions
    def _fires(self, rule: ErrorRule | TimeoutRule | DropRule) -> bool:
        if rule.next is not None:
            if rule.next <= 0:
                return False
            rule.next -= 1
            return True
        return rule.rate is not None and self._rng.random() < rule.rate

    def latency_seconds(self, kind: str, fields: list[str]) -> float:
        with self._lock:
            total = 0.0
            for lat in self.config.latency:
                if matches(lat.api, kind, fields):
                    jitter = self._rng.uniform(-lat.jitter_ms, lat.jitter_ms) if lat.jitter_ms else 0.0
                    total += max(0.0, lat.ms + jitter)
            return total / 1000.0

    def pick_error(self, kind: str, fields: list[str]) -> ErrorRule | None:
        with self._lock:
            for rule in self.config.errors:
                if matches(rule.api, kind, fields) and self._fires(rule):
                    return rule
            return None

    def hold_seconds(self, kind: str, fields: list[str]) -> float:
        with self._lock:
            for rule in self.config.timeouts:
                if matches(rule.api, kind, fields) and self._fires(rule):
                    return rule.hold_ms / 1000.0
            return 0.0

    def should_drop(self, kind: str, fields: list[str]) -> bool:
        with self._lock:
            return any(
                matches(rule.api, kind, fields) and self._fires(rule) for rule in self.config.drop_response_after_commit
            )

    @property
    def webhook_duplicates(self) -> int:
        with self._lock:
            return self.config.webhook_duplicates
