"""The /sandbox/ control API: what merchants and buyers do, with the webhooks and inventory moves Shopify would make."""

from __future__ import annotations

import json
from pathlib import Path

from sandboxes.shopify.app import ShopifySandbox
from sandboxes.shopify.config import ShopifyConfig

from .conftest import SHOP, Receiver, Shopify
from .test_webhooks import app_config

FO_TOPICS = [
    "fulfillment_orders/order_routing_complete",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/hold_released",
    "fulfillment_orders/cancelled",
]


def test_cancel_fires_its_topics_restocks_and_moves_updated_at(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), ["orders/cancelled", "orders/updated", "inventory_levels/update", *FO_TOPICS])
    before = api.level("YOGA-PUR")
    order = api.order([("YOGA-PUR", 2)])
    (routed,) = receiver.wait_for(1, topic="fulfillment_orders/order_routing_complete")
    fo_id = order["fulfillment_orders"][0]["id"]
    assert json.loads(routed.raw) == {"fulfillment_order": {"id": fo_id, "status": "open", "fulfillment_holds": []}}
    api.client.post("/sandbox/clock", json={"advance": 300})
    numeric = order["id"].rsplit("/", 1)[1]
    cancelled = api.control("POST", f"orders/{numeric}/cancel", reason="customer")
    assert cancelled["cancelled_at"] is not None
    assert cancelled["updated_at"] > order["updated_at"]
    assert cancelled["fulfillment_orders"][0]["status"] == "CANCELLED"
    (hit,) = receiver.wait_for(1, topic="orders/cancelled")
    payload = json.loads(hit.raw)
    assert (payload["cancel_reason"], payload["financial_status"]) == ("customer", "refunded")
    (fo_hit,) = receiver.wait_for(1, topic="fulfillment_orders/cancelled")
    assert json.loads(fo_hit.raw)["fulfillment_order"]["status"] == "cancelled"
    receiver.wait_for(1, topic="orders/updated")
    receiver.wait_for(2, topic="inventory_levels/update")  # the sale, then the restock
    assert api.level("YOGA-PUR")["available"] == before["available"]
    again = api.client.post(f"/sandbox/orders/{numeric}/cancel", json={})
    assert again.status_code == 409


def test_hold_and_release_fire_fulfillment_order_topics(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), FO_TOPICS)
    order = api.order([("LED-WHT", 1)])
    fo = order["fulfillment_orders"][0]["id"].rsplit("/", 1)[1]
    held = api.control("POST", f"fulfillment-orders/{fo}/hold", reason="high_risk_of_fraud", notes="check")
    assert held["status"] == "ON_HOLD"
    (hit,) = receiver.wait_for(1, topic="fulfillment_orders/placed_on_hold")
    payload = json.loads(hit.raw)
    assert payload["fulfillment_order"]["status"] == "on_hold"
    assert payload["created_fulfillment_hold"]["reason"] == "high_risk_of_fraud"
    assert payload["created_fulfillment_hold"]["reason_notes"] == "check"
    assert api.control("POST", f"fulfillment-orders/{fo}/release")["status"] == "OPEN"
    (released,) = receiver.wait_for(1, topic="fulfillment_orders/hold_released")
    assert json.loads(released.raw)["fulfillment_order"] == {
        "id": order["fulfillment_orders"][0]["id"],
        "status": "open",
        "fulfillment_holds": [],
    }
    assert api.client.post(f"/sandbox/fulfillment-orders/{fo}/release").status_code == 409


def test_merchant_fulfils_and_edits_in_the_admin(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), ["fulfillments/create", "orders/updated", "orders/edited"])
    order = api.order([("WOMEN-RED-M", 3), ("LED-WHT", 1)])
    numeric = order["id"].rsplit("/", 1)[1]
    done = api.control(
        "POST",
        f"orders/{numeric}",
        fulfill={"LED-WHT": 1},
        tracking={"company": "FedEx", "number": "7712"},
        remove={"WOMEN-RED-M": 1},
    )
    assert done["display_fulfillment_status"] == "PARTIALLY_FULFILLED"
    assert done["edited"] is True
    assert done["lines"][0]["current_quantity"] == 2
    assert done["fulfillments"][0]["tracking"] == [{"company": "FedEx", "number": "7712", "url": None}]
    assert done["fulfillments"][0]["origin"] == "admin"
    receiver.wait_for(1, topic="fulfillments/create")
    receiver.wait_for(1, topic="orders/edited")
    last = receiver.wait_for(2, topic="orders/updated")[-1]  # the fulfillment's, then the edit's
    assert [li["current_quantity"] for li in json.loads(last.raw)["line_items"]] == [2, 1]


def test_inventory_control_reads_and_sets_levels(api: Shopify, receiver: Receiver) -> None:
    app_config(api, receiver.url(), ["inventory_levels/update"])
    listed = api.client.get("/sandbox/inventory", params={"shop": SHOP}).json()
    assert len(listed["items"]) == 13
    one = api.client.get("/sandbox/inventory", params={"shop": SHOP, "sku": "LED-WHT"}).json()["items"][0]
    assert [lv["location_name"] for lv in one["levels"]] == ["Main Warehouse", "West Coast DC"]
    out = api.control("PUT", "inventory", shop=SHOP, sku="LED-WHT", location="West Coast DC", available=42, reserved=3)
    level = out["levels"][1]
    assert (level["available"], level["reserved"], level["on_hand"]) == (42, 3, 42 + 3 + level["committed"])
    (hit,) = receiver.wait_for(1)
    assert json.loads(hit.raw)["available"] == 42
    # Stocking the oversize frame at the second location makes it a valid inventory target there.
    refused = api.client.put(
        "/sandbox/inventory", json={"shop": SHOP, "sku": "TANDING-FRAME", "location": "West Coast DC", "available": 1}
    )
    assert refused.status_code == 409
    stocked = api.control(
        "PUT", "inventory", shop=SHOP, sku="TANDING-FRAME", location="West Coast DC", stocked=True, available=5
    )
    assert [lv["available"] for lv in stocked["levels"]][-1] == 5
    assert api.client.get("/sandbox/inventory/NOPE", params={"shop": SHOP}).status_code == 404


def test_order_creation_validates_and_routes(api: Shopify) -> None:
    assert api.client.post("/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "NOPE"}]}).status_code == 404
    not_stocked = api.client.post(
        "/sandbox/orders",
        json={"shop": SHOP, "lines": [{"sku": "TANDING-FRAME", "quantity": 1, "location": "West Coast DC"}]},
    )
    assert not_stocked.status_code == 409
    routed = api.order([("TANDING-FRAME", 1)])
    assert (
        routed["fulfillment_orders"][0]["location_id"]
        == api.client.get("/sandbox/state").json()["shops"][0]["locations"][0]["id"]
    )
    for state, status in (("fulfilled", "FULFILLED"), ("partial", "PARTIALLY_FULFILLED"), ("on_hold", "ON_HOLD")):
        made = api.order([("WOMEN-RED-M", 2)], state=state)
        assert made["display_fulfillment_status"] == status, state


def test_snapshot_round_trip(api: Shopify, tmp_path: Path) -> None:
    order = api.order([("LED-WHT", 2)])
    path = tmp_path / "shopify.pkl"
    assert api.control("POST", "snapshot", path=str(path))["saved"] == str(path)
    again = ShopifySandbox(ShopifyConfig(state_file=str(path)))
    numeric = int(order["id"].rsplit("/", 1)[1])
    assert numeric in again.world.orders
    assert again.world.orders[numeric].line_items[0].sku == "LED-WHT"
    assert again.world.on_event is not None  # webhooks work again in the loaded world


def test_describe_and_unknown_routes(api: Shopify) -> None:
    described = api.client.get("/sandbox").json()
    assert [s["myshopify_domain"] for s in described["shops"]] == [SHOP, "dropline-uk.myshopify.com"]
    assert described["shops"][0]["installed"] is True
    assert "customers/redact" in described["topics"]
    assert api.client.get("/sandbox/nope").status_code == 404
    bad = api.client.put("/sandbox/apps/webhooks", json={"subscriptions": [{"topics": ["orders/nope"], "uri": "x"}]})
    assert bad.status_code == 400
