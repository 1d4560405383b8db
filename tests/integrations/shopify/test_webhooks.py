"""Webhooks (notes §7): base64 HMAC over the raw body, the topic/shop/event read from the headers kept with the body,
Dropline's topic names, subscribing once; and the sandbox's real deliveries read end to end."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.base import NotificationRejected
from integrations.errors import PlatformError
from integrations.shopify import webhooks
from integrations.shopify.adapter import NOTIFICATION_TOPICS, ShopifyAdapter
from tests.integrations.shopify.conftest import SHOP, Sandbox

VECTOR_BODY = b'{"id":820982911946154508,"name":"#9999"}'
VECTOR_HMAC = "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78="
VECTOR_HEX = "601c2727dbec89babbb2b39b817c9b9861d6bb0a2cfa30c42ffffbef8f574bbf"


def _headers(topic: str, signature: str = VECTOR_HMAC, **extra: str) -> dict[str, str]:
    return {
        "x-shopify-hmac-sha256": signature,
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": SHOP,
        "x-shopify-event-id": "6a7c0b6e-1111-4c4c-9d9d-0123456789ab",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-triggered-at": "2026-08-02T10:15:00.123Z",
        "x-shopify-api-version": "2026-07",
        "content-type": "application/json",
        **extra,
    }


@pytest.fixture
def hush(settings: Any) -> ShopifyAdapter:
    settings.SHOPIFY_CLIENT_SECRET = "hush"
    return ShopifyAdapter()


def test_the_notes_vector_verifies(hush: ShopifyAdapter) -> None:
    received = hush.receive_notification(_headers("orders/updated"), VECTOR_BODY)

    assert received.event is not None
    event = received.event
    assert (event.topic, event.order_id, event.shop_id, event.seller_open_id) == (
        "ORDER_STATUS_CHANGE",
        "820982911946154508",
        SHOP,
        SHOP,
    )
    assert event.notification_id == "6a7c0b6e-1111-4c4c-9d9d-0123456789ab"
    assert event.sent_at is not None
    assert event.sent_at.isoformat() == "2026-08-02T10:15:00.123000+00:00"
    assert (received.shop_id, received.seller_id) == (SHOP, SHOP)
    # What the core keeps with the body, and all parse_notification needs later: the body alone names no topic.
    assert dict(received.headers) == {
        "x-shopify-topic": "orders/updated",
        "x-shopify-shop-domain": SHOP,
        "x-shopify-event-id": "6a7c0b6e-1111-4c4c-9d9d-0123456789ab",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-triggered-at": "2026-08-02T10:15:00.123Z",
        "x-shopify-api-version": "2026-07",
    }
    assert hush.parse_notification(VECTOR_BODY, received.headers) == event


@pytest.mark.parametrize(
    "headers",
    [
        _headers("orders/updated", VECTOR_HEX),  # the OAuth encoding, wrong for webhooks (§10.1)
        _headers("orders/updated", VECTOR_HMAC.lower()),
        {k: v for k, v in _headers("orders/updated").items() if k != "x-shopify-hmac-sha256"},
        _headers("orders/updated", ""),
    ],
)
def test_anything_but_the_base64_signature_is_rejected(hush: ShopifyAdapter, headers: dict[str, str]) -> None:
    with pytest.raises(NotificationRejected):
        hush.receive_notification(headers, VECTOR_BODY)


def test_a_reserialised_body_does_not_verify(hush: ShopifyAdapter) -> None:
    with pytest.raises(NotificationRejected):
        hush.receive_notification(_headers("orders/updated"), json.dumps(json.loads(VECTOR_BODY)).encode())


def test_signed_but_unreadable_is_recorded_not_rejected(hush: ShopifyAdapter) -> None:
    headers = {k: v for k, v in _headers("orders/updated").items() if k != "x-shopify-topic"}
    received = hush.receive_notification(headers, VECTOR_BODY)
    assert received.event is None
    assert "topic" in received.unreadable
    assert received.shop_id == SHOP
    with pytest.raises(PlatformError):
        hush.parse_notification(VECTOR_BODY, received.headers)


@pytest.mark.parametrize(
    ("topic", "body", "expected"),
    [
        ("orders/create", {"id": 5600000001}, ("ORDER_STATUS_CHANGE", "5600000001")),
        ("orders/cancelled", {"id": 5600000001}, ("ORDER_STATUS_CHANGE", "5600000001")),
        ("orders/fulfilled", {"id": 5600000001}, ("ORDER_STATUS_CHANGE", "5600000001")),
        ("orders/partially_fulfilled", {"id": 5600000001}, ("ORDER_STATUS_CHANGE", "5600000001")),
        ("orders/edited", {"order_edit": {"id": 9, "order_id": 5600000001}}, ("ORDER_STATUS_CHANGE", "5600000001")),
        (
            "fulfillment_orders/placed_on_hold",
            {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/1", "order_id": "gid://shopify/Order/7"}},
            ("ORDER_STATUS_CHANGE", "7"),
        ),
        ("fulfillment_orders/hold_released", {"fulfillment_order": {"id": 1}}, ("ORDER_STATUS_CHANGE", "")),
        ("app/uninstalled", {"id": 1, "domain": SHOP}, ("SELLER_DEAUTHORIZATION", "")),
        ("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, ("SHOP_REDACT", "")),
        ("inventory_levels/update", {"inventory_item_id": 1}, ("UNKNOWN_inventory_levels/update", "")),
    ],
)
def test_topics(topic: str, body: dict[str, Any], expected: tuple[str, str]) -> None:
    event = webhooks.parse_event(json.dumps(body).encode(), _headers(topic))
    assert (event.topic, event.order_id) == expected


def test_privacy_requests_name_the_customer_and_the_orders() -> None:
    body = {
        "shop_id": 1,
        "shop_domain": SHOP,
        "customer": {"id": 207119551, "email": "jane@example.com", "phone": None},
        "orders_requested": [5600000001, 5600000002],
        "data_request": {"id": 9999},
    }
    event = webhooks.parse_event(json.dumps(body).encode(), _headers("customers/data_request"))
    assert (event.topic, event.order_ids, event.customer_id, event.customer_email, event.request_id) == (
        "CUSTOMER_DATA_REQUEST",
        ("5600000001", "5600000002"),
        "207119551",
        "jane@example.com",
        "9999",
    )
    redact = {**body, "orders_to_redact": [5600000003]}
    del redact["orders_requested"], redact["data_request"]
    event = webhooks.parse_event(json.dumps(redact).encode(), _headers("customers/redact"))
    assert (event.topic, event.order_ids, event.request_id) == ("CUSTOMER_REDACT", ("5600000003",), "")


def test_subscribing_twice_creates_each_subscription_once(sandbox: Sandbox, tokens: Any) -> None:
    channel = sandbox.channel(tokens)
    address = "https://dropline.example/webhooks/shopify/"

    assert channel.subscribe_notifications(address) == list(NOTIFICATION_TOPICS)
    assert channel.subscribe_notifications(address) == list(NOTIFICATION_TOPICS)

    creates = sandbox.recorder.graphql("DroplineWebhookCreate")
    assert [c["variables"] for c in creates] == [
        {"topic": topic, "sub": {"uri": address, "format": "JSON"}} for topic in NOTIFICATION_TOPICS.values()
    ]
    subscribed = sandbox.control("GET", "/sandbox/webhook-subscriptions", params={"shop": SHOP})["subscriptions"]
    assert sorted((s["topic"], s["uri"]) for s in subscribed) == sorted((t, address) for t in NOTIFICATION_TOPICS)


# ------------------------------------------------------------------------------------- the sandbox's deliveries
class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append(({k.lower(): v for k, v in self.headers.items()}, raw))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []
    handler = type("Receiver", (_Receiver,), {"got": got})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/shopify/", got
    server.shutdown()


def test_the_sandboxs_deliveries_are_verified_and_read(
    sandbox: Sandbox, tokens: Any, adapter: ShopifyAdapter, receiver: Any
) -> None:
    address, got = receiver
    sandbox.channel(tokens).subscribe_notifications(address)
    order = sandbox.control("POST", "/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "LED-WHT"}]})
    order_id = order["id"].rsplit("/", 1)[-1]
    sandbox.control("POST", f"/sandbox/orders/{order_id}/cancel", json={})
    sandbox.control("POST", "/sandbox/webhooks/flush")

    events = []
    for headers, body in got:
        received = adapter.receive_notification(headers, body)
        assert received.event is not None, received.unreadable
        assert adapter.parse_notification(body, received.headers) == received.event
        events.append(received.event)
    topics = {(headers["x-shopify-topic"], e.topic, e.order_id) for (headers, _), e in zip(got, events, strict=True)}
    assert ("orders/create", "ORDER_STATUS_CHANGE", order_id) in topics
    assert ("orders/cancelled", "ORDER_STATUS_CHANGE", order_id) in topics
    assert all(e.shop_id == SHOP and e.notification_id for e in events)


def test_the_privacy_topics_come_from_the_app_config(sandbox: Sandbox, adapter: ShopifyAdapter, receiver: Any) -> None:
    address, got = receiver
    sandbox.control(
        "PUT",
        "/sandbox/apps/webhooks",
        json={
            "subscriptions": [
                {"compliance_topics": ["customers/redact"], "topics": ["app/uninstalled"], "uri": address}
            ]
        },
    )
    sandbox.connect(adapter)
    email = sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"][0]["email"]
    sandbox.control("POST", "/sandbox/privacy/customers-redact", json={"shop": SHOP, "email": email})
    sandbox.control("POST", "/sandbox/apps/uninstall", json={"shop": SHOP})
    sandbox.control("POST", "/sandbox/webhooks/flush")

    events = {}
    for headers, body in got:
        event = adapter.receive_notification(headers, body).event
        assert event is not None
        events[event.topic] = event
    assert events["CUSTOMER_REDACT"].customer_email == email
    assert events["CUSTOMER_REDACT"].order_ids
    assert events["SELLER_DEAUTHORIZATION"].shop_id == SHOP


def test_a_duplicate_delivery_carries_the_same_event_id(
    sandbox: Sandbox, tokens: Any, adapter: ShopifyAdapter, receiver: Any
) -> None:
    """The core drops the second by its unique (platform, notification_id)."""
    address, got = receiver
    sandbox.channel(tokens).subscribe_notifications(address)
    sandbox.control("POST", "/sandbox/faults", json={"webhook_duplicates": 2})
    sandbox.control("POST", "/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "LED-WHT"}]})
    sandbox.control("POST", "/sandbox/webhooks/flush")

    ids = [
        adapter.receive_notification(h, b).event.notification_id
        for h, b in got
        if h["x-shopify-topic"] == "orders/create"
    ]  # type: ignore[union-attr]
    assert len(ids) == 2
    assert ids[0] == ids[1]
