"""The money path: eligible services -> create packages (buy the label once) -> shipping document -> PDF."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import httpx
from pypdf import PdfReader

from tests.sandboxes.tiktok.conftest import Api, first_order

PACKAGES = "/fulfillment/202309/packages"


def _eligible(api: Api, order_id: str, body: dict | None = None) -> httpx.Response:
    return api.call("POST", f"/fulfillment/202309/orders/{order_id}/shipping_services/query", {}, body or {})


def _ready_order(api: Api) -> object:
    shop = api.sb.world.shops_by_cipher[api.cipher or ""]
    for o in sorted(api.sb.world.orders.values(), key=lambda o: o.id):
        if (
            o.shop_id == shop.id
            and o.status == "AWAITING_SHIPMENT"
            and o.shipping_type == "TIKTOK"
            and o.fulfillment_type == "FULFILLMENT_BY_SELLER"
            and not o.is_buyer_request_cancel
            and not o.address.bad_reason
            and all(api.sb.world.skus[li.sku_id].weight_lb < 10 for li in o.line_items)
        ):
            return o
    raise LookupError


def test_buy_label_once_and_print_it(any_api: Api) -> None:
    api = any_api
    o = _ready_order(api)
    data = api.ok(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/shipping_services/query",
        {},
        {"weight": {"value": "2.5", "unit": "POUND"}},
    )
    services = data["shipping_services"]
    assert {s["shipping_provider_name"] for s in services} >= {"USPS", "UPS", "FedEx"}
    assert data["order_line_id"] == [li.id for li in o.line_items]
    assert sum(s["is_default"] for s in services) == 1
    assert all(isinstance(s["price"], str) and s["currency"] == "USD" for s in services)
    ups = next(s for s in services if s["name"] == "UPS Ground")
    created = api.ok(
        "POST",
        PACKAGES,
        {},
        {"order_id": o.id, "shipping_service_id": ups["id"], "weight": {"value": "2.5", "unit": "POUND"}},
    )
    assert created["shipping_service_info"]["id"] == ups["id"]
    assert created["shipping_service_info"]["price"] == ups["price"]
    pkg_id = created["package_id"]
    # The order moved on, and the lines carry the package.
    detail = api.ok("GET", "/order/202309/orders", {"ids": o.id})["orders"][0]
    assert detail["status"] == "AWAITING_COLLECTION"
    assert all(li["package_id"] == pkg_id and li["tracking_number"] for li in detail["line_items"])
    # A second purchase for the same lines is refused, and the ledger holds exactly one label.
    again = api.call("POST", PACKAGES, {}, {"order_id": o.id})
    assert again.json()["code"] == 21022025
    assert (
        api.call("POST", PACKAGES, {}, {"order_id": o.id, "order_line_item_ids": [o.line_items[0].id]}).json()["code"]
        == 21022025
    )
    labels = api.client.get("/sandbox/labels", params={"order_id": o.id}).json()["labels"]
    assert len(labels) == 1
    assert labels[0]["package_id"] == pkg_id
    assert labels[0]["price"] == ups["price"]
    # Shipping document -> real PDF with the tracking number.
    doc = api.ok(
        "GET",
        f"/fulfillment/202309/packages/{pkg_id}/shipping_documents",
        {"document_type": "SHIPPING_LABEL", "document_size": "A6"},
    )
    tracking = doc["tracking_number"]
    assert tracking == labels[0]["tracking_number"]
    url = urlsplit(doc["doc_url"])
    assert url.path.startswith("/wsos_v2/oec_fulfillment_doc_tts/object/")
    pdf = api.client.get(url.path)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = reader.pages[0].extract_text()
    assert tracking in text
    assert o.id in text
    assert pkg_id in text
    assert o.address.name in text  # unmasked: the label must be deliverable
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    height_mm = float(reader.pages[0].mediabox.height) / 72 * 25.4
    assert round(width_mm) == 105
    assert round(height_mm) == 148
    slip = api.ok(
        "GET",
        f"/fulfillment/202309/packages/{pkg_id}/shipping_documents",
        {"document_type": "SHIPPING_LABEL_AND_PACKING_SLIP"},
    )
    both = PdfReader(io.BytesIO(api.client.get(urlsplit(slip["doc_url"]).path).content))
    assert len(both.pages) >= 2
    assert "PACKING SLIP" in both.pages[1].extract_text()
    # Package detail, search and tracking see it.
    pkg = api.ok("GET", f"/fulfillment/202309/packages/{pkg_id}")
    assert pkg["package_status"] == "PROCESSING"
    assert pkg["tracking_number"] == tracking
    found = api.ok("POST", "/fulfillment/202309/packages/search", {"page_size": "50"}, {"package_status": "PROCESSING"})
    assert pkg_id in {p["id"] for p in found["packages"]}
    events = api.ok("GET", f"/fulfillment/202309/orders/{o.id}/tracking")["tracking"]
    assert events
    assert events[0]["update_time_millis"] % 1000 == 0
    assert events[0]["update_time_millis"] > 10**12
    # doc_url expires 24 h of sandbox time after issue: 403 like a CDN.
    api.sb.clock.advance(24 * 3600 + 1)
    assert api.client.get(url.path).status_code == 403


def test_document_rules(api: Api) -> None:
    o = _ready_order(api)
    pkg_id = api.ok("POST", PACKAGES, {}, {"order_id": o.id})["package_id"]
    base = f"/fulfillment/202309/packages/{pkg_id}/shipping_documents"
    assert api.call("GET", base, {}).json()["code"] != 0  # document_type required
    assert api.call("GET", base, {"document_type": "SHIPPING_LABEL", "document_size": "4x6"}).json()["code"] != 0
    assert api.call("GET", base, {"document_type": "SHIPPING_LABEL", "document_format": "ZPL"}).json()["code"] != 0
    seller_order = first_order(api.sb, api.cipher or "", status="AWAITING_COLLECTION", shipping_type="SELLER")
    seller_pkg = seller_order.package_ids[0]
    r = api.call(
        "GET", f"/fulfillment/202309/packages/{seller_pkg}/shipping_documents", {"document_type": "SHIPPING_LABEL"}
    )
    assert r.json()["code"] == 11034002


def test_service_rules(api: Api) -> None:
    o = _ready_order(api)
    assert _eligible(api, o.id, {"weight": {"value": "200", "unit": "POUND"}}).json()["code"] == 11021014
    assert (
        _eligible(api, o.id, {"dimension": {"length": "120", "width": "10", "height": "10", "unit": "INCH"}}).json()[
            "code"
        ]
        == 11021014
    )
    assert _eligible(api, o.id, {"weight": {"value": "1", "unit": "KILO"}}).json()["code"] == 21001001
    heavy = _eligible(api, o.id, {"weight": {"value": "90", "unit": "POUND"}}).json()["data"]["shipping_services"]
    assert {s["shipping_provider_name"] for s in heavy} == {"UPS", "FedEx"}
    # Bad addresses.
    o.address.bad_reason, o.address.postal_code = "unknown_postal", "00000"
    assert _eligible(api, o.id).json()["code"] == 11021012
    o.address.bad_reason, o.address.line1 = "po_box", "PO Box 99"
    po = _eligible(api, o.id).json()["data"]["shipping_services"]
    assert {s["shipping_provider_name"] for s in po} == {"USPS"}
    assert _eligible(api, o.id, {"weight": {"value": "90", "unit": "POUND"}}).json()["code"] == 21011037
    # Unknown service id.
    o.address.bad_reason = ""
    assert api.call("POST", PACKAGES, {}, {"order_id": o.id, "shipping_service_id": "1"}).json()["code"] == 21004008


def test_status_errors(api: Api) -> None:
    sb, cipher = api.sb, api.cipher or ""
    cancelled = first_order(sb, cipher, status="CANCELLED", shipping_type="TIKTOK")
    shipped = first_order(sb, cipher, status="IN_TRANSIT", shipping_type="TIKTOK")
    on_hold = first_order(sb, cipher, status="ON_HOLD", shipping_type="TIKTOK")
    fbt = first_order(sb, cipher, fulfillment_type="FULFILLMENT_BY_TIKTOK")
    seller = first_order(sb, cipher, status="AWAITING_SHIPMENT", shipping_type="SELLER")
    codes = {
        name: api.call("POST", PACKAGES, {}, {"order_id": o.id}).json()["code"]
        for name, o in [
            ("cancelled", cancelled),
            ("shipped", shipped),
            ("on_hold", on_hold),
            ("fbt", fbt),
            ("seller", seller),
        ]
    }
    assert codes == {
        "cancelled": 21011003,
        "shipped": 21011006,
        "on_hold": 21011003,
        "fbt": 21008025,
        "seller": 21011012,
    }
    o = _ready_order(api)
    o.is_buyer_request_cancel = True
    assert api.call("POST", PACKAGES, {}, {"order_id": o.id}).json()["code"] == 21011007
    assert api.call("POST", PACKAGES, {}, {}).json()["code"] == 21001001
    assert api.call("POST", PACKAGES, {}, {"order_id": "123"}).json()["code"] == 21011029


def test_partial_then_full_and_label_allocation(api: Api, client: httpx.Client) -> None:
    o = next(
        o
        for o in sorted(api.sb.world.orders.values(), key=lambda o: o.id)
        if o.shop_id == api.sb.world.shops_by_cipher[api.cipher or ""].id
        and o.status == "AWAITING_SHIPMENT"
        and o.shipping_type == "TIKTOK"
        and o.fulfillment_type == "FULFILLMENT_BY_SELLER"
        and len(o.line_items) >= 2
        and not o.address.bad_reason
        and not o.is_buyer_request_cancel
        and all(api.sb.world.skus[li.sku_id].weight_lb < 10 for li in o.line_items)
    )
    first = [o.line_items[0].id]
    api.ok("POST", PACKAGES, {}, {"order_id": o.id, "order_line_item_ids": first})
    assert o.status == "PARTIALLY_SHIPPING"
    api.ok("POST", PACKAGES, {}, {"order_id": o.id})
    assert o.status == "AWAITING_COLLECTION"
    assert len(o.package_ids) == 2
    # Label allocation shop: exactly one service and shipping_service_id is ignored.
    api.cipher = api.ok("GET", "/authorization/202309/shops", cipher=None)["shops"][1]["cipher"]
    assert api.sb.world.shops_by_cipher[api.cipher].label_allocation
    o2 = _ready_order(api)
    services = _eligible(api, o2.id).json()["data"]["shipping_services"]
    assert len(services) == 1
    created = api.ok("POST", PACKAGES, {}, {"order_id": o2.id, "shipping_service_id": "7208502187360569134"})
    assert created["shipping_service_info"]["id"] == services[0]["id"]
