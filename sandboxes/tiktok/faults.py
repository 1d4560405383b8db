"""Faults on demand: latency, injected errors, held requests, dropped responses, duplicate webhooks.

A fault rule targets an API key ("METHOD /path/{template}", e.g. "POST /fulfillment/202309/packages")
or "*" for every open-API call. Rules fire either with a probability (``rate``, drawn from a seeded RNG)
or deterministically for the ``next`` N matching calls.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

DROP_APIS = (
    "POST /fulfillment/{v}/packages",
    "POST /fulfillment/{v}/packages/{package_id}/ship",
    "POST /fulfillment/{v}/packages/ship",
)


@dataclass
class Latency:
    api: str = "*"
    ms: float = 0.0
    jitter_ms: float = 0.0


@dataclass
class ErrorRule:
    api: str = "*"
    code: int = 36009003
    http_status: int = 200
    message: str = ""
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
    api: str = "POST /fulfillment/{v}/packages"
    rate: float | None = None
    next: int | None = None


@dataclass
class FaultConfig:
    latency: list[Latency] = field(default_factory=list)
    errors: list[ErrorRule] = field(default_factory=list)
    timeouts: list[TimeoutRule] = field(default_factory=list)
    drop_response_after_commit: list[DropRule] = field(default_factory=list)
    webhook_duplicates: int = 1  # each webhook delivery is sent this many times
    seed: int = 0


def _matches(rule_api: str, api: str) -> bool:
    if rule_api in ("*", api):
        return True
    # Accept concrete versions too: "POST /fulfillment/202309/packages" matches template "POST /fulfillment/{v}/..."
    parts_r, parts_a = rule_api.split("/"), api.split("/")
    return len(parts_r) == len(parts_a) and all(
        r == a or "{v}" in (r, a) for r, a in zip(parts_r, parts_a, strict=True)
    )


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
            drops = payload.get("drop_response_after_commit") or []
            cfg.drop_response_after_commit += [DropRule(**x) for x in drops]
            if "webhook_duplicates" in payload:
                cfg.webhook_duplicates = max(1, int(payload["webhook_duplicates"]))
            self.config = cfg
        return self.as_dict()

    # Convenience for Python callers.
    def add_error(
        self,
        api: str = "*",
        code: int = 36009003,
        http_status: int = 200,
        message: str = "",
        rate: float | None = None,
        next: int | None = None,
    ) -> None:
        with self._lock:
            self.config.errors.append(ErrorRule(api, code, http_status, message, rate, next))

    def add_latency(self, api: str = "*", ms: float = 0.0, jitter_ms: float = 0.0) -> None:
        with self._lock:
            self.config.latency.append(Latency(api, ms, jitter_ms))

    def add_timeout(
        self, api: str = "*", hold_ms: float = 5000.0, rate: float | None = None, next: int | None = None
    ) -> None:
        with self._lock:
            self.config.timeouts.append(TimeoutRule(api, hold_ms, rate, next))

    def drop_after_commit(
        self, api: str = "POST /fulfillment/{v}/packages", rate: float | None = None, next: int | None = None
    ) -> None:
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

    def latency_seconds(self, api: str) -> float:
        with self._lock:
            total = 0.0
            for lat in self.config.latency:
                if _matches(lat.api, api):
                    jitter = self._rng.uniform(-lat.jitter_ms, lat.jitter_ms) if lat.jitter_ms else 0.0
                    total += max(0.0, lat.ms + jitter)
            return total / 1000.0

    def pick_error(self, api: str) -> ErrorRule | None:
        with self._lock:
            for rule in self.config.errors:
                if _matches(rule.api, api) and self._fires(rule):
                    return rule
            return None

    def hold_seconds(self, api: str) -> float:
        with self._lock:
            for rule in self.config.timeouts:
                if _matches(rule.api, api) and self._fires(rule):
                    return rule.hold_ms / 1000.0
            return 0.0

    def should_drop(self, api: str) -> bool:
        with self._lock:
            return any(_matches(rule.api, api) and self._fires(rule) for rule in self.config.drop_response_after_commit)

    @property
    def webhook_duplicates(self) -> int:
        with self._lock:
            return self.config.webhook_duplicates
