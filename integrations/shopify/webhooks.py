"""Incoming Shopify webhooks (contract notes §7): signature verification and reading.

Shopify names the topic, the shop and the event in HEADERS, not in the body (§7.1). The core records the raw body
with the headers `receive_notification` hands back (`InboundNotification.headers`) and gives both to
`parse_notification` later, so `kept_headers` picks the ones reading needs. The signature is verified over the raw
bytes as received, before anything parses them (§7.2, §10.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from integrations.errors import ErrorKind, PlatformError
from integrations.interface import WebhookEvent
from integrations.shopify import translate

PLATFORM = "shopify"
MALFORMED = "bad_webhook"
HMAC_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
SHOP_HEADER = "x-shopify-shop-domain"
EVENT_HEADER = "x-shopify-event-id"  # the same on every delivery of one event: the dedupe key (§7.3)
DELIVERY_HEADER = "x-shopify-webhook-id"  # one delivery; used only when an event id is missing
KEPT_HEADERS = (
    TOPIC_HEADER,
    SHOP_HEADER,
    EVENT_HEADER,
    DELIVERY_HEADER,
    "x-shopify-triggered-at",
    "x-shopify-api-version",
)

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/edited",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)
PRIVACY_TOPICS = {
    "customers/data_request": "CUSTOMER_DATA_REQUEST",
    "customers/redact": "CUSTOMER_REDACT",
    "shop/redact": "SHOP_REDACT",
}


def verify_signature(*, secret: str, raw_body: bytes, signature: str | None) -> bool:
    """True when the header is base64(HMAC_SHA256(client secret, raw body)); constant time. An empty body or a
    missing header never verifies (the library's MissingBody / MissingHmac)."""
    if not signature or not raw_body:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode())


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers reading needs later, by lower-case name (the view hands them lower-cased already)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    return {name: lowered[name] for name in KEPT_HEADERS if lowered.get(name)}


def topic_name(topic: str) -> str:
    """Shopify's topic ("orders/updated") as Dropline's (WebhookEvent.topic)."""
    if topic in ORDER_TOPICS or topic.startswith("fulfillment_orders/"):
        return "ORDER_STATUS_CHANGE"
    if topic == "app/uninstalled":
        return "SELLER_DEAUTHORIZATION"
    return PRIVACY_TOPICS.get(topic) or f"UNKNOWN_{topic}"


def parse_event(raw_body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """PlatformError kind INVALID for a notification that cannot be read (no topic, a body that is not a JSON
    object). Only says what changed: the order is fetched before anything acts on it."""
    kept = kept_headers(headers)
    topic = kept.get(TOPIC_HEADER, "").strip().lower()
    if not topic:
        raise _malformed("the notification names no topic (X-Shopify-Topic)")
    try:
        body = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        raise _malformed("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise _malformed("the body is not a JSON object")
    shop = (kept.get(SHOP_HEADER) or _text(body.get("shop_domain"))).strip().lower()
    name = topic_name(topic)
    customer = translate.obj(body.get("customer"))
    request = translate.obj(body.get("data_request"))
    return WebhookEvent(
        platform=PLATFORM,
        notification_id=(kept.get(EVENT_HEADER) or kept.get(DELIVERY_HEADER, ""))[:64],
        topic_code=0,  # Shopify numbers no topics
        topic=name,
        shop_id=shop,
        seller_open_id=shop,
        sent_at=translate.parse_time(kept.get("x-shopify-triggered-at")),
        order_id=_order_id(topic, body) if name == "ORDER_STATUS_CHANGE" else "",
        order_status="CANCELLED" if topic == "orders/cancelled" else "",
        updated_at=translate.parse_time(body.get("updated_at")),
        order_ids=_ids(body.get("orders_requested") or body.get("orders_to_redact")),
        customer_id=_id(customer.get("id")),
        customer_email=_text(customer.get("email")),
        request_id=_id(request.get("id")),
    )


def _order_id(topic: str, body: Mapping[str, Any]) -> str:
    """The order a notification is about: the body's own id for orders/* (orders/edited nests it in `order_edit`),
    `order_id` wherever a fulfillment order payload carries one; "" when it names none (the poller catches it)."""
    for nested in ("order_edit", "fulfillment_order"):
        inner = body.get(nested)
        if isinstance(inner, dict) and _id(inner.get("order_id")):
            return _id(inner.get("order_id"))
    if _id(body.get("order_id")):
        return _id(body.get("order_id"))
    return _id(body.get("id")) if topic.startswith("orders/") else ""


def _ids(values: Any) -> tuple[str, ...]:
    return tuple(_id(v) for v in values if _id(v)) if isinstance(values, list) else ()


def _id(value: Any) -> str:
    """A numeric id from a number, a digit string or a GID; "" for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value if translate.is_numeric_id(value) else translate.numeric(value)
    return ""


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _malformed(message: str) -> PlatformError:
    return PlatformError(PLATFORM, MALFORMED, message, kind=ErrorKind.INVALID)
