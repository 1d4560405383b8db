"""Webhook queue, signing, delivery with retries on the sandbox clock, and the delivery log."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from .signing import sign_webhook

if TYPE_CHECKING:
    from .app import TikTokSandbox

# type code -> Event API event_type (README §7.2)
EVENT_TYPES: dict[int, str] = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
    18: "PRODUCT_CATEGORY_CHANGE",
    33: "NEW_MESSAGE_LISTENER",
    36: "INVOICE_STATUS_CHANGE",
    37: "PRODUCT_AUDIT_STATUS_CHANGE",
}
EVENT_API_TYPES = (
    "ORDER_STATUS_CHANGE",
    "RECIPIENT_ADDRESS_UPDATE",
    "PACKAGE_UPDATE",
    "PRODUCT_STATUS_CHANGE",
    "SELLER_DEAUTHORIZATION",
    "UPCOMING_AUTHORIZATION_EXPIRATION",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
    "NEW_CONVERSATION",
    "NEW_MESSAGE",
    "PRODUCT_INFORMATION_CHANGE",
    "PRODUCT_CREATION",
    "PRODUCT_CATEGORY_CHANGE",
    "NEW_MESSAGE_LISTENER",
    "INVOICE_STATUS_CHANGE",
    "PRODUCT_AUDIT_STATUS_CHANGE",
    "REVERSE_STATUS_UPDATE",
)
RETRY_DELAYS = (120, 1800, 3 * 3600, 12 * 3600)  # after each failure; given up after the 4th retry
# The configuration guide's two acceptable answers: 200 (received) and 401 (the receiver refused the signature).
# Both end the delivery; anything else (or no answer) is retried on RETRY_DELAYS.
ACCEPTED = 200
REFUSED = 401


@dataclass
class Attempt:
    sandbox_time: int
    status_code: int | None
    error: str
    copy: int


@dataclass
class Delivery:
    id: int
    notification_id: str
    shop_id: str
    type: int
    event_type: str
    url: str
    body: str
    created: int
    next_attempt: int
    state: str = "pending"  # pending | delivered | refused (answered 401: acknowledged, not retried) | failed
    attempts: list[Attempt] = field(default_factory=list)


class WebhookDispatcher:
    def __init__(self, sb: TikTokSandbox) -> None:
        self.sb = sb
        self._lock = threading.Lock()
        self._deliver_lock = threading.Lock()  # one flush at a time, so nothing is sent twice by accident
        self.deliveries: list[Delivery] = []
        self.undeliverable: list[dict[str, Any]] = []  # events with no registered address

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.undeliverable.clear()

    def destinations(self, shop_id: str, event_type: str) -> list[str]:
        shop = self.sb.world.shops.get(shop_id)
        registered = shop.webhooks.get(event_type) if shop else None
        if registered:
            return [registered["address"]]
        return [self.sb.config.webhook_url] if self.sb.config.webhook_url else []

    def enqueue(self, shop_id: str, type_code: int, data: dict[str, Any]) -> None:
        """Called with the world lock held whenever state changes."""
        world = self.sb.world
        now = self.sb.clock.now()
        envelope = {
            "type": type_code,
            "tts_notification_id": world.ids.next("notification"),
            "shop_id": shop_id,
            "timestamp": now,
            "data": data,
        }
        event_type = EVENT_TYPES.get(type_code, str(type_code))
        urls = self.destinations(shop_id, event_type)
        body = json.dumps(envelope, separators=(",", ":"))
        with self._lock:
            if not urls:
                if len(self.undeliverable) < 10000:  # bounded: bulk activity must not grow memory forever
                    self.undeliverable.append(envelope)
                return
            for url in urls:
                self.deliveries.append(
                    Delivery(
                        id=len(self.deliveries) + 1,
                        notification_id=envelope["tts_notification_id"],
                        shop_id=shop_id,
                        type=type_code,
                        event_type=event_type,
                        url=url,
                        body=body,
                        created=now,
                        next_attempt=now,
                    )
                )

    def deliver_due(self) -> list[dict[str, Any]]:
        """Send every due delivery (outside the world lock; receivers may call back into the sandbox)."""
        with self._deliver_lock:
            now = self.sb.clock.now()
            with self._lock:
                due = [d for d in self.deliveries if d.state == "pending" and d.next_attempt <= now]
            if not due:
                return []
            copies = self.sb.faults.webhook_duplicates
            cfg = self.sb.config
            transport = self.sb.webhook_transport
            kwargs: dict[str, Any] = {"timeout": cfg.webhook_timeout_seconds}
            if transport is not None:
                kwargs["transport"] = transport
            results = []
            with httpx.Client(**kwargs) as client:
                for d in due:
                    raw = d.body.encode()
                    headers = {
                        "Content-Type": "application/json",
                        "Authorization": sign_webhook(cfg.app_key, cfg.app_secret, raw),
                    }
                    ok = refused = False
                    for copy in range(copies):
                        status: int | None = None
                        error = ""
                        try:
                            resp = client.post(d.url, content=raw, headers=headers)
                            status = resp.status_code
                        except httpx.HTTPError as exc:
                            error = f"{type(exc).__name__}: {exc}"
                        with self._lock:
                            d.attempts.append(Attempt(now, status, error, copy + 1))
                        ok = ok or status == ACCEPTED
                        refused = refused or status == REFUSED
                        if copy == 0 and status != ACCEPTED:
                            break  # no duplicates of a failed or refused first copy
                    with self._lock:
                        failures = sum(
                            1 for a in d.attempts if a.copy == 1 and a.status_code not in (ACCEPTED, REFUSED)
                        )
                        if ok:
                            d.state = "delivered"
                        elif refused:
                            d.state = "refused"
                        elif failures > len(RETRY_DELAYS):
                            d.state = "failed"
                        else:
                            d.next_attempt = now + RETRY_DELAYS[failures - 1]
                    results.append(self.view(d))
            return results

    def view(self, d: Delivery) -> dict[str, Any]:
        out = asdict(d)
        out["payload"] = json.loads(d.body)
        del out["body"]
        return out

    def log(self) -> dict[str, Any]:
        with self._lock:
            return {
                "deliveries": [self.view(d) for d in self.deliveries],
                "undeliverable_count": len(self.undeliverable),
                "undeliverable_recent": self.undeliverable[-50:],
            }
