"""Recipient address updates in the sandbox: the order's address and update_time change, webhook 3 carries the
documented envelope, and a label bought before the change is listed as showing the old address."""

from __future__ import annotations

from tests.sandboxes.tiktok.aftersale_support import Hooks, code, event, pick, state
from tests.sandboxes.tiktok.conftest import Api

NEW = {"line1": "742 Evergreen Terrace", "city": "Springfield", "state_code": "OR", "postal_code": "97403"}


def _detail(api: Api, order_id: str) -> dict:
    orders: list[dict] = api.ok("GET", "/order/202309/orders", {"ids": order_id})["orders"]
    return orders[0]


def test_the_buyer_changes_the_address_and_webhook_3_says_so(api: Api) -> None:
    hooks = Hooks(api)
    api.sb.clock.freeze()
    o = pick(api, status="AWAITING_SHIPMENT", shipping_type="SELLER")
    before = _detail(api, o.id)
    api.sb.clock.advance(60)
    assert event(api, o.id, "address_update", **NEW).status_code == 200
    after = _detail(api, o.id)
    assert after["recipient_address"]["address_line1"] == "742 Evergreen Terrace"
    assert "Springfield" in after["recipient_address"]["full_address"]
    assert after["has_updated_recipient_address"] is True
    assert after["update_time"] == api.sb.clock.now() > before["update_time"]
    (push,) = hooks.of(3, o.id)
    assert push["type"] == 3
    assert push["shop_id"] == o.shop_id
    assert isinstance(push["timestamp"], int)
    assert push["data"] == {"order_id": o.id, "update_time": after["update_time"]}
    changed = api.ok(
        "POST", "/order/202309/orders/search", {"page_size": "100"}, {"update_time_ge": after["update_time"]}
    )
    assert o.id in {x["id"] for x in changed["orders"]}


def test_a_label_bought_before_the_change_is_listed_with_the_old_address(api: Api) -> None:
    o = pick(api, status="AWAITING_SHIPMENT")
    created = api.ok("POST", "/fulfillment/202309/packages", {}, {"order_id": o.id})
    tracking = api.sb.world.packages[created["package_id"]].tracking_number
    old_line1 = o.address.line1
    assert event(api, o.id, "address_update", **NEW).status_code == 200
    (change,) = state(api, o.id)["address_changes"]
    assert change["before"]["line1"] == old_line1
    assert change["after"]["line1"] == NEW["line1"]
    assert change["labels_with_old_address"] == [tracking]


def test_the_new_address_is_what_the_next_quote_uses(api: Api) -> None:
    o = pick(api, status="AWAITING_SHIPMENT")
    path = f"/fulfillment/202309/orders/{o.id}/shipping_services/query"
    assert api.ok("POST", path, {}, {})["shipping_services"]
    event(api, o.id, "address_update", line1="", bad_reason="missing_line1")
    assert code(api.call("POST", path, {}, {})) == 11021012


def test_the_address_cannot_change_once_the_carrier_has_the_parcel(api: Api) -> None:
    for status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
        o = pick(api, status=status)
        r = event(api, o.id, "address_update", **NEW)
        assert r.status_code == 409, status
        assert o.address.line1 != NEW["line1"]
