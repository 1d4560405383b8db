"""Webhook delivery (§7): who is subscribed, the signed POST, retries with the same event id, the delivery log.

Deliveries are queued when the world changes (under the world lock) and sent by a background thread or a flush
(never under the world lock: a receiver may call back into the sandbox). Delivery uses http.client, so the sandbox
needs nothing beyond the standard library for it.

Headers (§7.1): X-Shopify-Topic, X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the exact body bytes, keyed with the
app's client secret), X-Shopify-Shop-Domain, X-Shopify-API-Version (the subscription's), X-Shopify-Webhook-Id (one
per delivery, kept across its retries; a fault-injected duplicate gets a new one), X-Shopify-Event-Id (one per event:
the same on every retry and every duplicate), X-Shopify-Triggered-At (the event's time, kept across retries).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .state import World
from .topics import COMPLIANCE_TOPICS

if TYPE_CHECKING:
    from .app import ShopifySandbox

log = logging.getLogger(__name__)

# §7.3: 8 retries over about 4 hours with exponential backoff; doubling from one minute (60 s ... 7680 s, 4 h 15 min
# in all) [guess: the exact schedule is not published]. ShopifyConfig.webhook_retry_scale compresses it for tests.
RETRY_DELAYS = tuple(60.0 * 2**k for k in range(8))
USER_AGENT = "Shopify-Captain-Hook"


def sign(secret: str, raw: bytes) -> str:
    """§7.2: base64 of HMAC-SHA256 over the raw body bytes, keyed with the app's client secret."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def encode_body(payload: dict[str, Any]) -> bytes:
    # Compact and UTF-8 (non-ASCII kept): re-serialising the parsed JSON with Python's defaults gives other bytes,
    # so a receiver that signs json.dumps(parsed) instead of the raw body fails, as it would at Shopify (§10.1).
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def triggered_at(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def explain_signature(secret: str, raw: bytes, header: str) -> dict[str, Any]:
    """The strict verifier of §10.1: whether `header` is the right signature of `raw`, and if not, the likely why."""
    expected = sign(secret, raw)
    digest = hmac.new(secret.encode(), raw, hashlib.sha256)
    out: dict[str, Any] = {"valid": hmac.compare_digest(expected, header.strip()), "expected": expected}
    if out["valid"]:
        out["reason"] = "ok"
    elif header.strip().lower() == digest.hexdigest():
        out["reason"] = "hex encoding: webhooks are signed in base64 (hex is the OAuth query HMAC)"
    else:
        out["reason"] = "different bytes or a different secret: sign the raw body bytes with the app's client secret"
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if parsed is not None:
            for label, again in (
                ("json.dumps(parsed)", json.dumps(parsed).encode()),
                ("json.dumps(parsed, sort_keys=True)", json.dumps(parsed, sort_keys=True).encode()),
                ("compact json.dumps(parsed)", json.dumps(parsed, separators=(",", ":")).encode()),
            ):
                if again != raw and header.strip() in (
                    sign(secret, again),
                    hmac.new(secret.encode(), again, hashlib.sha256).hexdigest(),
                ):
                    out["reason"] = f"signed a re-serialisation ({label}) instead of the raw body bytes"
    return out


@dataclass
class Attempt:
    at: str  # sandbox time, ISO 8601
    kind: str  # first | retry | duplicate
    webhook_id: str
    status_code: int | None
    error: str


@dataclass
class Delivery:
    id: int
    event_id: str
    webhook_id: str
    topic: str
    shop_id: int
    shop_domain: str
    client_id: str
    url: str
    api_version: str
    body: bytes
    triggered_at: float
    next_attempt: float
    subscription_id: int | None = None  # set for subscriptions made through the Admin API
    source: str = "api"  # api (webhookSubscriptionCreate) | app_config (shopify.app.toml) | compliance
    state: str = "pending"  # pending | delivered | failed
    failures: int = 0
    copies_due: int = 0
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Destination:
    client_id: str
    url: str
    api_version: str
    source: str
    subscription_id: int | None = None
    include_fields: list[str] = field(default_factory=list)


class WebhookDispatcher:
    def __init__(self, sb: ShopifySandbox) -> None:
        self.sb = sb
        self._lock = threading.Lock()
        self._deliver_lock = threading.Lock()  # one flush at a time, so nothing is sent twice by accident
        self.wake = threading.Event()
        self.deliveries: list[Delivery] = []
        self.unrouted = 0  # events nobody was subscribed to

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.unrouted = 0

    # ------------------------------------------------------------------ routing (world lock held)
    def destinations(self, world: World, topic: str, shop_id: int) -> list[Destination]:
        cfg = self.sb.config
        client_id = cfg.client_id
        compliance = topic in COMPLIANCE_TOPICS
        # An app hears about a shop only while installed there; app/uninstalled is queued just before the grant
        # goes, and the compliance topics arrive whatever the install state (shop/redact comes after uninstall).
        if not compliance and not world.installed(client_id, shop_id):
            return []
        out: list[Destination] = []
        for block in cfg.app_webhooks:
            topics = block.get("compliance_topics" if compliance else "topics") or []
            if topic in topics:
                out.append(
                    Destination(
                        client_id,
                        str(block["uri"]),
                        str(block.get("api_version") or cfg.webhooks_api_version),
                        "compliance" if compliance else "app_config",
                        include_fields=list(block.get("include_fields") or []),
                    )
                )
        if not compliance:
            for sub in world.subscriptions.values():
                if sub.client_id == client_id and sub.shop_id == shop_id and sub.topic == topic:
                    out.append(
                        Destination(client_id, sub.uri, sub.api_version, "api", sub.id, list(sub.include_fields))
                    )
        return out

    def enqueue(self, topic: str, shop_id: int, payload: dict[str, Any], at: float | None = None) -> None:
        """Called with the world lock held whenever the world changes (world.on_event). `at` delays the first try
        (shop/redact, 48 h after an uninstall)."""
        world = self.sb.world
        now = self.sb.clock.now_float()
        dests = self.destinations(world, topic, shop_id)
        if not dests:
            with self._lock:
                self.unrouted += 1
            return
        event_id = str(uuid.uuid4())
        shop_domain = world.shops[shop_id].myshopify_domain
        with self._lock:
            for d in dests:
                body = payload
                if d.include_fields:
                    body = {k: v for k, v in payload.items() if k in d.include_fields}
                self.deliveries.append(
                    Delivery(
                        id=len(self.deliveries) + 1,
                        event_id=event_id,
                        webhook_id=str(uuid.uuid4()),
                        topic=topic,
                        shop_id=shop_id,
                        shop_domain=shop_domain,
                        client_id=d.client_id,
                        url=d.url,
                        api_version=d.api_version,
                        body=encode_body(body),
                        triggered_at=now,
                        next_attempt=at if at is not None else now,
                        subscription_id=d.subscription_id,
                        source=d.source,
                    )
                )
        self.wake.set()

    def duplicate(self, delivery_id: int, copies: int = 1) -> dict[str, Any]:
        with self._lock:
            d = self._get(delivery_id)
            d.copies_due += max(1, copies)
        self.wake.set()
        return self.view(d)

    # ------------------------------------------------------------------ sending (no world lock)
    def _send(self, d: Delivery, webhook_id: str) -> tuple[int | None, str]:
        cfg = self.sb.config
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Shopify-Topic": d.topic,
            "X-Shopify-Hmac-Sha256": sign(cfg.client_secret, d.body),
            "X-Shopify-Shop-Domain": d.shop_domain,
            "X-Shopify-API-Version": d.api_version,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": d.event_id,
            "X-Shopify-Triggered-At": triggered_at(d.triggered_at),
        }
        parts = urlsplit(d.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        # §7.3: 1 s to connect, 5 s for the answer.
        conn = conn_cls(parts.hostname or "", parts.port, timeout=cfg.webhook_connect_timeout)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(cfg.webhook_timeout)
            conn.request("POST", target, body=d.body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, ""
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()

    def _record(self, d: Delivery, kind: str, webhook_id: str, status: int | None, error: str) -> None:
        with self._lock:
            d.attempts.append(Attempt(triggered_at(self.sb.clock.now_float()), kind, webhook_id, status, error))

    def deliver_due(self) -> list[dict[str, Any]]:
        """Send every due delivery and every requested duplicate now; returns what was attempted."""
        with self._deliver_lock:
            now = self.sb.clock.now_float()
            with self._lock:
                due = [d for d in self.deliveries if d.state == "pending" and d.next_attempt <= now]
                copies = [d for d in self.deliveries if d.copies_due > 0]
            cfg = self.sb.config
            failed_subscriptions: list[int] = []
            for d in due:
                kind = "retry" if d.attempts else "first"
                status, error = self._send(d, d.webhook_id)
                self._record(d, kind, d.webhook_id, status, error)
                ok = status is not None and 200 <= status < 300
                with self._lock:
                    if ok:
                        d.state = "delivered"
                        d.copies_due += self.sb.faults.webhook_duplicates - 1
                    else:
                        d.failures += 1
                        if d.failures > len(RETRY_DELAYS):
                            d.state = "failed"
                            if d.subscription_id is not None and cfg.webhook_delete_failing_subscriptions:
                                failed_subscriptions.append(d.subscription_id)
                        else:
                            d.next_attempt = now + RETRY_DELAYS[d.failures - 1] * cfg.webhook_retry_scale
                if ok and d.copies_due and all(c is not d for c in copies):
                    copies.append(d)
            for d in copies:
                with self._lock:
                    n, d.copies_due = d.copies_due, 0
                for _ in range(n):
                    webhook_id = str(uuid.uuid4())
                    status, error = self._send(d, webhook_id)
                    self._record(d, "duplicate", webhook_id, status, error)
            if failed_subscriptions:
                # §7.3 [3P]: Shopify may delete an Admin-API subscription after 8 consecutive failures.
                with self.sb.world.lock:
                    for sid in failed_subscriptions:
                        self.sb.world.subscriptions.pop(sid, None)
            seen = {d.id: d for d in [*due, *copies]}
            return [self.view(d) for d in seen.values()]

    # ------------------------------------------------------------------ log
    def view(self, d: Delivery) -> dict[str, Any]:
        return {
            "id": d.id,
            "event_id": d.event_id,
            "webhook_id": d.webhook_id,
            "topic": d.topic,
            "shop": d.shop_domain,
            "url": d.url,
            "api_version": d.api_version,
            "source": d.source,
            "subscription_id": d.subscription_id,
            "state": d.state,
            "failures": d.failures,
            "triggered_at": triggered_at(d.triggered_at),
            "next_attempt": triggered_at(d.next_attempt) if d.state == "pending" else None,
            "attempts": [a.__dict__.copy() for a in d.attempts],
            "payload": json.loads(d.body),
        }

    def log(self, topic: str | None = None, shop: str | None = None, state: str | None = None) -> dict[str, Any]:
        with self._lock:
            rows = [
                self.view(d)
                for d in self.deliveries
                if (not topic or d.topic == topic)
                and (not shop or d.shop_domain == shop)
                and (not state or d.state == state)
            ]
            return {"deliveries": rows, "count": len(rows), "unrouted_events": self.unrouted}

    def view_of(self, delivery_id: int) -> dict[str, Any]:
        with self._lock:
            return self.view(self._get(delivery_id))

    def _get(self, delivery_id: int) -> Delivery:
        d = next((x for x in self.deliveries if x.id == delivery_id), None)
        if d is None:
            raise KeyError(f"delivery {delivery_id}")
        return d

    def raw_body(self, delivery_id: int) -> bytes:
        with self._lock:
            return self._get(delivery_id).body


class WebhookPump(threading.Thread):
    """The background sender: wakes when something is queued, and at least every `webhook_poll_seconds`."""

    def __init__(self, sb: ShopifySandbox) -> None:
        super().__init__(name="shopify-sandbox-webhooks", daemon=True)
        self.sb = sb
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sb.webhooks.wake.wait(self.sb.config.webhook_poll_seconds)
            self.sb.webhooks.wake.clear()
            if self.stop_event.is_set():
                return
            try:
                self.sb.webhooks.deliver_due()
            except Exception:  # the pump must survive a bad receiver
                log.exception("webhook delivery failed")

    def stop(self) -> None:
        self.stop_event.set()
        self.sb.webhooks.wake.set()
