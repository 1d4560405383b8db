"""Orders move with the sandbox clock: remorse window, collection, delivery, completion, SLA auto-cancel."""

from __future__ import annotations

from tests.sandboxes.tiktok.conftest import Api, first_order
from tests.sandboxes.tiktok.test_labels import _ready_order


def test_full_lifecycle(api: Api) -> None:
    sb = api.sb
    unpaid = first_order(sb, api.cipher or "", status="UNPAID", shipping_type="TIKTOK")
    api.client.post(f"/sandbox/orders/{unpaid.id}/events", json={"type": "pay"})
    assert unpaid.status == "ON_HOLD"
    before = unpaid.update_time
    sb.clock.advance(3601)
    detail = api.ok("GET", "/order/202309/orders", {"ids": unpaid.id})["orders"][0]
    assert detail["status"] == "AWAITING_SHIPMENT"
    assert detail["update_time"] > before
    assert "recipient_address" in detail
    o = _ready_order(api)
    api.ok("POST", "/fulfillment/202309/packages", {}, {"order_id": o.id})
    assert o.status == "AWAITING_COLLECTION"
    sb.clock.advance(12 * 3600)
    assert api.ok("GET", "/order/202309/orders", {"ids": o.id})["orders"][0]["status"] == "IN_TRANSIT"
    sb.clock.advance(3 * 86400)
    assert o.status == "DELIVERED"
    pkg = api.ok("GET", f"/fulfillment/202309/packages/{o.package_ids[0]}")
    assert pkg["package_status"] == "COMPLETED"
    events = api.ok("GET", f"/fulfillment/202309/orders/{o.id}/tracking")["tracking"]
    assert events[0]["description"] == "Your package was delivered!"
    sb.clock.advance(7 * 86400)
    assert o.status == "COMPLETED"


def test_sla_auto_cancel_by_system(api: Api) -> None:
    sb = api.sb
    o = first_order(sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER")
    sb.clock.set(o.shipping_due_time + 1)
    detail = api.ok("GET", "/order/202309/orders", {"ids": o.id})["orders"][0]
    assert detail["status"] == "CANCELLED"
    assert detail["cancellation_initiator"] == "SYSTEM"
    assert all(li["package_status"] == "CANCELLED" for li in detail["line_items"])


def test_search_by_update_time_sees_changes(api: Api) -> None:
    sb = api.sb
    o = first_order(sb, api.cipher or "", status="ON_HOLD")
    sb.clock.advance(3601)
    now = sb.clock.now()
    changed = api.ok(
        "POST",
        "/order/202309/orders/search",
        {"page_size": "100", "sort_field": "update_time"},
        {"update_time_ge": now - 3700, "order_status": "AWAITING_SHIPMENT"},
    )
    assert o.id in {x["id"] for x in changed["orders"]}


def test_buyer_cancel_request(api: Api) -> None:
    o = _ready_order(api)
    api.client.post(f"/sandbox/orders/{o.id}/events", json={"type": "buyer_cancel_request"})
    pending = api.ok("POST", "/order/202309/orders/search", {"page_size": "100"}, {"is_buyer_request_cancel": True})
    assert o.id in {x["id"] for x in pending["orders"]}
    api.sb.clock.advance(48 * 3600 + 1)
    assert o.status == "CANCELLED"
    assert o.cancellation_initiator == "BUYER"
