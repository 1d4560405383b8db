"""§7: subscriptions, signed deliveries (verified here with the notes' own recipe), retries with the same event id,
duplicates on demand, compliance topics and app/uninstalled."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

from sandboxes.shopify.webhooks import sign

from .conftest import CLIENT_SECRET, SHOP, Receiver, Shopify, notes_webhook_hmac
from .test_fulfillment import create, fos, read
from .test_inventory import run_set, set_input, target

SUBSCRIBE = """
mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri format includeFields apiVersion { handle } }
    userErrors { field message }
  }
}
"""


def subscribe(api: Shopify, topic: str, uri: str, **extra: Any) -> dict[str, Any]:
    body = api.gql(SUBSCRIBE, {"topic": topic, "sub": {"uri": uri, "format": "JSON", **extra}}).json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["webhookSubscriptionCreate"]
    return payload


def app_config(api: Shopify, uri: str, topics: list[str], compliance: list[str] | None = None) -> None:
    r = api.client.put(
        "/sandbox/apps/webhooks",
        json={"subscriptions": [{"topics": topics, "compliance_topics": compliance or [], "uri": uri}]},
    )
    assert r.status_code == 200, r.text


def settled(api: Shopify, timeout: float = 5.0) -> dict[str, Any]:
    """The only delivery of the log once the sender has recorded its last answer (the receiver sees a request just
    before the sandbox reads the reply)."""
    deadline = time.monotonic() + timeout
    while True:
        (d,) = api.client.get("/sandbox/webhooks").json()["deliveries"]
        if d["state"] != "pending" or time.monotonic() > deadline:
            result: dict[str, Any] = d
            return result
        time.sleep(0.02)


def assert_signed(raw: bytes, headers: dict[str, str]) -> None:
    assert headers["x-shopify-hmac-sha256"] == notes_webhook_hmac(CLIENT_SECRET, raw)


def test_the_notes_vector_holds_for_the_test_and_the_sandbox() -> None:
    raw = b'{"id":820982911946154508,"name":"#9999"}'
    assert notes_webhook_hmac("hush", raw) == "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78="
    assert sign("hush", raw) == "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78="


def test_a_subscription_gets_a_signed_orders_create(api: Shopify, receiver: Receiver) -> None:
    sub = subscribe(api, "ORDERS_CREATE", receiver.url("/hooks/orders"))
    assert sub["userErrors"] == []
    assert sub["webhookSubscription"]["topic"] == "ORDERS_CREATE"
    assert sub["webhookSubscription"]["apiVersion"] == {"handle": "2026-10"}
    order = api.order([("WOMEN-RED-M", 2)])
    (hit,) = receiver.wait_for(1)
    h = hit.headers
    assert hit.path == "/hooks/orders"
    assert h["content-type"] == "application/json"
    assert h["x-shopify-topic"] == "orders/create"
    assert h["x-shopify-shop-domain"] == SHOP
    assert h["x-shopify-api-version"] == "2026-10"
    assert h["x-shopify-webhook-id"]
    assert h["x-shopify-event-id"]
    datetime.fromisoformat(h["x-shopify-triggered-at"].replace("Z", "+00:00"))
    assert_signed(hit.raw, h)
    payload = json.loads(hit.raw)
    # Signing a re-serialisation instead of the raw bytes would fail (§10.1).
    assert notes_webhook_hmac(CLIENT_SECRET, json.dumps(payload).encode()) != h["x-shopify-hmac-sha256"]
    assert payload["admin_graphql_api_id"] == order["id"]
    assert payload["id"] == int(order["id"].rsplit("/", 1)[1])
    assert payload["name"] == order["name"]
    assert payload["fulfillment_status"] is None
    assert [(li["sku"], li["quantity"], li["fulfillable_quantity"]) for li in payload["line_items"]] == [
        ("WOMEN-RED-M", 2, 2)
    ]
    assert payload["created_at"].endswith("-05:00")  # REST timestamps in the shop's zone (New York, December)
    d = settled(api)
    assert (d["state"], d["topic"], d["event_id"]) == ("delivered", "orders/create", h["x-shopify-event-id"])


def test_fulfillment_and_inventory_changes_fire_their_topics(api: Shopify, receiver: Receiver) -> None:
    app_config(
        api,
        receiver.url(),
        ["fulfillments/create", "orders/updated", "orders/partially_fulfilled", "inventory_levels/update"],
    )
    order = api.order([("LED-WHT", 2)])
    sale = receiver.wait_for(1, topic="inventory_levels/update")[0]
    assert sale.headers["x-shopify-api-version"] == "2026-07"  # the app config's version
    level = api.level("LED-WHT")
    assert json.loads(sale.raw)["available"] == level["available"]
    (fo,) = fos(read(api, order["id"]))
    tracking = {"company": "DHL Express", "number": "JD0146"}
    assert (
        create(
            api,
            [
                {
                    "fulfillmentOrderId": fo["id"],
                    "fulfillmentOrderLineItems": [{"id": fo["lineItems"]["nodes"][0]["id"], "quantity": 1}],
                }
            ],
            trackingInfo=tracking,
        )["userErrors"]
        == []
    )
    (made,) = receiver.wait_for(1, topic="fulfillments/create")
    assert_signed(made.raw, made.headers)
    f = json.loads(made.raw)
    assert (f["tracking_company"], f["tracking_number"], f["status"]) == ("DHL Express", "JD0146", "success")
    assert f["order_id"] == int(order["id"].rsplit("/", 1)[1])
    assert [(li["sku"], li["quantity"]) for li in f["line_items"]] == [("LED-WHT", 1)]
    updated = receiver.wait_for(1, topic="orders/updated")[-1]
    assert json.loads(updated.raw)["fulfillment_status"] == "partial"
    receiver.wait_for(1, topic="orders/partially_fulfilled")
    # Each event has its own id; the three of one fulfillment are three events.
    ids = {h.headers["x-shopify-event-id"] for h in receiver.hits}
    assert len(ids) == len(receiver.hits)


def test_retries_keep_the_event_id_and_payload(api: Shopify, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    subscribe(api, "ORDERS_CREATE", receiver.url())
    api.client.post("/sandbox/clock", json={"freeze": True})
    api.order([("YOGA-PUR", 1)])
    receiver.wait_for(1)
    api.client.post("/sandbox/clock", json={"advance": 59})
    assert api.client.post("/sandbox/webhooks/flush").json()["delivered"] == []
    assert len(receiver.hits) == 1  # the first retry is due a minute after the failure
    api.client.post("/sandbox/clock", json={"advance": 1})
    receiver.wait_for(2)
    api.client.post("/sandbox/clock", json={"advance": 119})
    api.client.post("/sandbox/webhooks/flush")
    assert len(receiver.hits) == 2  # the second retry waits two minutes
    api.client.post("/sandbox/clock", json={"advance": 1})
    hits = receiver.wait_for(3)
    d = settled(api)
    for key in ("x-shopify-event-id", "x-shopify-webhook-id", "x-shopify-triggered-at", "x-shopify-hmac-sha256"):
        assert len({h.headers[key] for h in hits}) == 1, key
    assert len({h.raw for h in hits}) == 1
    assert d["state"] == "delivered"
    assert [(a["kind"], a["status_code"]) for a in d["attempts"]] == [("first", 500), ("retry", 503), ("retry", 200)]


def test_eight_retries_then_failed_on_a_compressed_schedule(api: Shopify, receiver: Receiver) -> None:
    api.sb.config.webhook_retry_scale = 0.0001  # 60 s ... 7680 s become 6 ms ... 768 ms
    receiver.default = 500
    subscribe(api, "ORDERS_CREATE", receiver.url())
    api.order([("YOGA-TEAL", 1)])
    hits = receiver.wait_for(9, timeout=10)
    assert len({h.headers["x-shopify-event-id"] for h in hits}) == 1
    assert hits[8].at - hits[7].at > 0.7  # the backoff doubles: the last wait is the longest
    d = settled(api)
    assert d["failures"] == 9
    assert d["state"] == "failed"
    assert [a["kind"] for a in d["attempts"]] == ["first"] + ["retry"] * 8


def test_a_slow_receiver_times_out_and_is_retried(api: Shopify, receiver: Receiver) -> None:
    api.sb.config.webhook_timeout = 0.2
    receiver.delay = 0.5
    subscribe(api, "ORDERS_CREATE", receiver.url())
    api.client.post("/sandbox/clock", json={"freeze": True})
    api.order([("LED-WHT", 1)])
    receiver.wait_for(1)
    receiver.delay = 0
    api.client.post("/sandbox/clock", json={"advance": 60})
    receiver.wait_for(2)
    d = settled(api)
    first, second = d["attempts"]
    assert first["status_code"] is None
    assert "timed out" in first["error"].lower()
    assert second["status_code"] == 200


def test_duplicates_on_demand_share_the_event_id(api: Shopify, receiver: Receiver) -> None:
    subscribe(api, "ORDERS_CREATE", receiver.url())
    api.order([("LED-WHT", 1)])
    (first,) = receiver.wait_for(1)
    d = settled(api)
    dup = api.client.post(f"/sandbox/webhooks/{d['id']}/duplicate", json={"copies": 2}).json()
    assert [a["kind"] for a in dup["attempts"]] == ["first", "duplicate", "duplicate"]
    hits = receiver.wait_for(3)
    assert {h.headers["x-shopify-event-id"] for h in hits} == {first.headers["x-shopify-event-id"]}
    assert len({h.headers["x-shopify-webhook-id"] for h in hits}) == 3
    assert {h.raw for h in hits} == {first.raw}
    # The fault form: every successful delivery sent k times.
    api.client.put("/sandbox/faults", json={"webhook_duplicates": 2})
    api.order([("LED-WHT", 1)])
    later = receiver.wait_for(5)[3:]
    assert later[0].headers["x-shopify-event-id"] == later[1].headers["x-shopify-event-id"]


def test_include_fields_trims_the_payload(api: Shopify, receiver: Receiver) -> None:
    subscribe(api, "ORDERS_CREATE", receiver.url(), includeFields=["id", "name", "updated_at"])
    api.order([("LED-WHT", 1)])
    (hit,) = receiver.wait_for(1)
    assert set(json.loads(hit.raw)) == {"id", "name", "updated_at"}
    assert_signed(hit.raw, hit.headers)


def test_subscription_refusals_and_delete(api: Shopify, receiver: Receiver) -> None:
    plain = subscribe(api, "ORDERS_CREATE", "http://hooks.example.com/orders")
    assert plain["userErrors"] == [
        {"field": ["webhookSubscription", "uri"], "message": "Address protocol http:// is not supported"}
    ]
    made = subscribe(api, "ORDERS_CREATE", receiver.url())
    again = subscribe(api, "ORDERS_CREATE", receiver.url())
    assert again["userErrors"] == [
        {"field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken"}
    ]
    compliance = api.gql(SUBSCRIBE, {"topic": "CUSTOMERS_REDACT", "sub": {"uri": receiver.url()}}).json()
    assert "CUSTOMERS_REDACT" in compliance["errors"][0]["message"]  # not a topic the API knows (§7.5)
    listed = api.data("{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }")["webhookSubscriptions"]["nodes"]
    assert listed == [{"id": made["webhookSubscription"]["id"], "topic": "ORDERS_CREATE", "uri": receiver.url()}]
    deleted = api.data(
        "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) "
        "{ deletedWebhookSubscriptionId userErrors { message } } }",
        {"id": made["webhookSubscription"]["id"]},
    )["webhookSubscriptionDelete"]
    assert deleted == {"deletedWebhookSubscriptionId": made["webhookSubscription"]["id"], "userErrors": []}
    api.order([("LED-WHT", 1)])
    assert api.client.post("/sandbox/webhooks/flush").json()["delivered"] == []
    assert receiver.hits == []


def test_topic_scopes(shopify: Shopify, receiver: Receiver) -> None:
    shopify.install("read_products")
    refused = subscribe(shopify, "ORDERS_CREATE", receiver.url())
    assert refused["webhookSubscription"] is None
    assert refused["userErrors"][0]["field"] == ["topic"]
    assert "read_orders" in refused["userErrors"][0]["message"]
    assert subscribe(shopify, "APP_UNINSTALLED", receiver.url())["userErrors"] == []


def test_uninstall_revokes_tokens_and_queues_shop_redact(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), ["app/uninstalled", "orders/create"], ["customers/data_request", "shop/redact"])
    api.client.post("/sandbox/clock", json={"freeze": True})
    out = api.control("POST", "apps/uninstall", shop=SHOP)
    assert out["uninstalled"] is True
    (hit,) = receiver.wait_for(1, topic="app/uninstalled")
    assert_signed(hit.raw, hit.headers)
    assert json.loads(hit.raw)["myshopify_domain"] == SHOP
    assert api.gql("{ shop { id } }").status_code == 401
    api.order([("LED-WHT", 1)])  # not installed any more: nothing is sent
    api.client.post("/sandbox/clock", json={"advance": 47 * 3600})
    api.client.post("/sandbox/webhooks/flush")
    assert receiver.of("shop/redact") == []
    assert receiver.of("orders/create") == []
    api.client.post("/sandbox/clock", json={"advance": 3600})
    (redact,) = receiver.wait_for(1, topic="shop/redact")
    assert_signed(redact.raw, redact.headers)
    assert json.loads(redact.raw) == {"shop_id": int(json.loads(hit.raw)["id"]), "shop_domain": SHOP}


def test_customer_privacy_requests(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), [], ["customers/data_request", "customers/redact"])
    order = api.order([("LED-WHT", 1)], email="zoe@example.com")
    api.control("POST", "privacy/customers-data-request", shop=SHOP, email="zoe@example.com")
    (hit,) = receiver.wait_for(1, topic="customers/data_request")
    assert_signed(hit.raw, hit.headers)
    payload = json.loads(hit.raw)
    assert payload["shop_domain"] == SHOP
    assert payload["customer"]["email"] == "zoe@example.com"
    assert payload["orders_requested"] == [int(order["id"].rsplit("/", 1)[1])]
    assert "id" in payload["data_request"]
    api.control("POST", "privacy/customers-redact", shop=SHOP, email="zoe@example.com")
    (redact,) = receiver.wait_for(1, topic="customers/redact")
    assert json.loads(redact.raw)["orders_to_redact"] == payload["orders_requested"]
    assert json.loads(redact.raw)["customer"]["id"] == payload["customer"]["id"]


def test_the_verifier_explains_a_wrong_signature(api: Shopify, receiver: Receiver) -> None:
    subscribe(api, "ORDERS_CREATE", receiver.url())
    api.order([("LED-WHT", 1)])
    (hit,) = receiver.wait_for(1)
    d = settled(api)
    hexed = hmac.new(CLIENT_SECRET.encode(), hit.raw, hashlib.sha256).hexdigest()
    reparsed = notes_webhook_hmac(CLIENT_SECRET, json.dumps(json.loads(hit.raw)).encode())

    def verify(sig: str) -> dict[str, Any]:
        result: dict[str, Any] = api.client.post(
            "/sandbox/webhooks/verify", json={"delivery_id": d["id"], "hmac": sig}
        ).json()
        return result

    assert verify(hit.headers["x-shopify-hmac-sha256"])["valid"] is True
    assert verify(hexed)["reason"].startswith("hex encoding")
    assert "re-serialisation" in verify(reparsed)["reason"]


def test_an_uninstalled_shop_hears_nothing(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), ["orders/create"])
    api.client.post("/sandbox/orders", json={"shop": "dropline-uk.myshopify.com", "lines": [{"sku": "LED-WHT"}]})
    api.order([("LED-WHT", 1)])
    (hit,) = receiver.wait_for(1)
    assert hit.headers["x-shopify-shop-domain"] == SHOP
    assert api.client.get("/sandbox/webhooks").json()["unrouted_events"] >= 1


def test_set_quantities_fires_inventory_levels_update(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), ["inventory_levels/update"])
    item, location, _ = target(api, "CAST-12IN")
    row = {"inventoryItemId": item, "locationId": location, "quantity": 77, "changeFromQuantity": None}
    assert run_set(api, set_input([row]), key="wh-1")["userErrors"] == []
    (hit,) = receiver.wait_for(1)
    assert_signed(hit.raw, hit.headers)
    payload = json.loads(hit.raw)
    assert payload["available"] == 77
    assert payload["inventory_item_id"] == int(item.rsplit("/", 1)[1])
    assert payload["location_id"] == int(location.rsplit("/", 1)[1])
    assert payload["admin_graphql_api_id"] == (
        f"gid://shopify/InventoryLevel/{payload['location_id']}?inventory_item_id={payload['inventory_item_id']}"
    )
    assert run_set(api, set_input([row]), key="wh-2")["inventoryAdjustmentGroup"] is None  # no change, no webhook
    api.client.post("/sandbox/webhooks/flush")
    assert len(receiver.hits) == 1
