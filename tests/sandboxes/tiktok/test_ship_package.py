"""Non-US flow (Ship Package / Batch Ship / handover slots) and seller shipping (Mark As Shipped, Update Info)."""

from __future__ import annotations

from tests.sandboxes.tiktok.conftest import Api, first_order


def _uk(api: Api) -> None:
    api.authorize(seller_index=1)
    assert api.sb.world.shops_by_cipher[api.cipher or ""].region == "GB"


def test_uk_ship_package_with_slot_then_document(api: Api) -> None:
    _uk(api)
    o = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="TIKTOK", is_buyer_request_cancel=False
    )
    detail = api.ok("GET", "/order/202309/orders", {"ids": o.id})["orders"][0]
    pkg_id = detail["packages"][0]["id"]  # non-US: the package exists from payment
    doc = api.call(
        "GET", f"/fulfillment/202309/packages/{pkg_id}/shipping_documents", {"document_type": "SHIPPING_LABEL"}
    )
    assert doc.json()["code"] == 21023035
    slots = api.ok("GET", f"/fulfillment/202309/packages/{pkg_id}/handover_time_slots")
    assert slots["can_van_collection"] is True
    assert all("avaliable" in s for s in slots["pickup_slots"])
    bad = api.call(
        "POST",
        f"/fulfillment/202309/packages/{pkg_id}/ship",
        {},
        {"handover_method": "PICKUP", "pickup_slot": {"start_time": 1, "end_time": 2}},
    )
    assert bad.json()["code"] == 21011053
    slot = slots["pickup_slots"][2]
    api.ok(
        "POST",
        f"/fulfillment/202309/packages/{pkg_id}/ship",
        {},
        {"handover_method": "PICKUP", "pickup_slot": {"start_time": slot["start_time"], "end_time": slot["end_time"]}},
    )
    assert o.status == "AWAITING_COLLECTION"
    again = api.call("POST", f"/fulfillment/202309/packages/{pkg_id}/ship", {}, {"handover_method": "DROP_OFF"})
    assert again.json()["code"] == 11006021
    doc = api.ok(
        "GET", f"/fulfillment/202309/packages/{pkg_id}/shipping_documents", {"document_type": "SHIPPING_LABEL"}
    )
    assert doc["tracking_number"]
    assert api.ok("GET", f"/fulfillment/202309/packages/{pkg_id}")["pickup_slot"]["start_time"] == slot["start_time"]


def test_batch_ship_reports_per_package_errors(api: Api) -> None:
    _uk(api)
    shop = api.sb.world.shops_by_cipher[api.cipher or ""]
    ready = [
        o
        for o in api.sb.world.orders.values()
        if o.shop_id == shop.id
        and o.status == "AWAITING_SHIPMENT"
        and o.shipping_type == "TIKTOK"
        and not o.is_buyer_request_cancel
    ][:2]
    seller = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER", is_buyer_request_cancel=False
    )
    body = {
        "packages": [
            {"id": ready[0].package_ids[0], "handover_method": "DROP_OFF"},
            {"id": ready[1].package_ids[0], "handover_method": "DROP_OFF"},
            {"id": seller.package_ids[0], "handover_method": "DROP_OFF"},
            {"id": "999", "handover_method": "DROP_OFF"},
        ]
    }
    data = api.ok("POST", "/fulfillment/202309/packages/ship", {}, body)
    failed = {e["detail"]["package_id"]: e["code"] for e in data["errors"]}
    assert failed == {seller.package_ids[0]: 11001002, "999": 21008111}
    assert ready[0].status == ready[1].status == "AWAITING_COLLECTION"
    # Seller shipping through Ship Package needs self_shipment with a provider of the order's delivery option.
    provider_id = "7117861200000000001"  # Royal Mail
    ok = api.call(
        "POST",
        f"/fulfillment/202309/packages/{seller.package_ids[0]}/ship",
        {},
        {"self_shipment": {"tracking_number": "AB123456789GB", "shipping_provider_id": provider_id}},
    )
    assert ok.json()["code"] == 0


def test_us_seller_shipping_mark_and_update_once(api: Api) -> None:
    o = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER", is_buyer_request_cancel=False
    )
    url = f"/fulfillment/202309/orders/{o.id}/packages"
    ups = "7117859084333745966"
    assert (
        api.call("POST", url, {}, {"tracking_number": "12345", "shipping_provider_id": ups}).json()["code"] == 21004015
    )
    assert (
        api.call("POST", url, {}, {"tracking_number": "1Z-999", "shipping_provider_id": ups}).json()["code"] == 21004012
    )
    assert (
        api.call("POST", url, {}, {"tracking_number": "1Z999AA10123456784", "shipping_provider_id": "1"}).json()["code"]
        == 21011022
    )
    data = api.ok("POST", url, {}, {"tracking_number": "1Z999AA10123456784", "shipping_provider_id": ups})
    assert data["package_id"]
    assert o.status == "AWAITING_COLLECTION"
    upd = f"/fulfillment/202309/orders/{o.id}/shipping_info/update"
    api.ok("POST", upd, {}, {"tracking_number": "1Z999AA10123456785", "shipping_provider_id": ups})
    assert (
        api.call("POST", upd, {}, {"tracking_number": "1Z999AA10123456786", "shipping_provider_id": ups}).json()["code"]
        == 21011049
    )  # only once
    # TikTok-shipping orders cannot be marked shipped by the seller.
    tt = first_order(
        api.sb,
        api.cipher or "",
        status="AWAITING_SHIPMENT",
        shipping_type="TIKTOK",
        fulfillment_type="FULFILLMENT_BY_SELLER",
    )
    r = api.call(
        "POST",
        f"/fulfillment/202309/orders/{tt.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456787", "shipping_provider_id": ups},
    )
    assert r.json()["code"] == 21011004


def test_update_window_72h(api: Api) -> None:
    o = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER", is_buyer_request_cancel=False
    )
    ups = "7117859084333745966"
    api.ok(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456790", "shipping_provider_id": ups},
    )
    api.sb.clock.advance(72 * 3600 + 5)
    r = api.call(
        "POST",
        f"/fulfillment/202309/packages/{o.package_ids[0]}/shipping_info/update",
        {},
        {"tracking_number": "1Z999AA10123456791", "shipping_provider_id": ups},
    )
    assert r.json()["code"] == 21011049


def test_mark_package_as_shipped_follows_the_spec_and_keeps_a_ledger(api: Api) -> None:
    """Spec (mark-package-as-shipped.spec.json): a cancelled order answers 21042057 (21011041 is Update Shipping
    Info's code); the API is exclusive to US, UK, ES, IE, IT, DE, FR, JP (21008106 elsewhere). Every committed call
    is kept in the sandbox's own ledger (GET /sandbox/seller_shipments), what a client's test counts."""
    ups = "7117859084333745966"
    cancelled = first_order(api.sb, api.cipher or "", status="CANCELLED", shipping_type="SELLER")
    r = api.call(
        "POST",
        f"/fulfillment/202309/orders/{cancelled.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456700", "shipping_provider_id": ups},
    )
    assert r.json()["code"] == 21042057
    o = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER", is_buyer_request_cancel=False
    )
    data = api.ok(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456701", "shipping_provider_id": ups},
    )
    ledger = api.client.get("/sandbox/seller_shipments", params={"order_id": o.id}).json()
    assert ledger["count"] == 1
    assert ledger["seller_shipments"][0]["package_id"] == data["package_id"]
    assert ledger["seller_shipments"][0]["tracking_number"] == "1Z999AA10123456701"
    # Elsewhere (a Malaysian shop) the API is not offered at all.
    api.sb.world.shops_by_cipher[api.cipher or ""].region = "MY"
    other = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER", is_buyer_request_cancel=False
    )
    r = api.call(
        "POST",
        f"/fulfillment/202309/orders/{other.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456702", "shipping_provider_id": ups},
    )
    assert r.json()["code"] == 21008106
    assert api.client.get("/sandbox/seller_shipments").json()["count"] == 1


def test_update_shipping_info_refuses_delivered_orders_and_after_sale_requests(api: Api) -> None:
    """Spec (update-shipping-info.spec.json): 21011030 once delivered, 21011007 with an after-sale request."""
    ups = "7117859084333745966"
    o = first_order(
        api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER", is_buyer_request_cancel=False
    )
    api.ok(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456710", "shipping_provider_id": ups},
    )
    upd = f"/fulfillment/202309/orders/{o.id}/shipping_info/update"
    o.is_buyer_request_cancel = True
    body = {"tracking_number": "1Z999AA10123456711", "shipping_provider_id": ups}
    assert api.call("POST", upd, {}, body).json()["code"] == 21011007
    o.is_buyer_request_cancel = False
    o.status = "DELIVERED"
    assert api.call("POST", upd, {}, body).json()["code"] == 21011030
