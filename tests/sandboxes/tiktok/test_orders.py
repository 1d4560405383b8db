"""Search Orders paging (no gaps, no duplicates, fast) and Get Order Detail."""

from __future__ import annotations

import httpx

from sandboxes.tiktok.app import TikTokSandbox
from tests.sandboxes.tiktok.conftest import Api

SEARCH = "/order/202309/orders/search"
DETAIL = "/order/202309/orders"


def _shop_id(api: Api) -> str:
    return api.sb.world.shops_by_cipher[api.cipher or ""].id


def test_paging_thousands_without_gap_or_duplicate(api: Api, client: httpx.Client) -> None:
    api.sb.limiter.qps = 100_000  # this test is about paging, not throttling
    r = client.post(f"/sandbox/shops/{_shop_id(api)}/orders", json={"count": 3000, "seed": 7})
    assert r.status_code == 201
    expected = len(api.sb.world.index[_shop_id(api)].by_create)
    for sort_order in ("DESC", "ASC"):
        seen: list[str] = []
        token = ""
        total = None
        while True:
            q = {"page_size": "100", "sort_order": sort_order}
            if token:
                q["page_token"] = token
            data = api.ok("POST", SEARCH, q, {})
            total = data["total_count"]
            seen += [o["id"] for o in data["orders"]]
            token = data["next_page_token"]
            if not token:
                break
        assert total == expected
        assert len(seen) == len(set(seen)) == expected
        times = [api.sb.world.orders[i].create_time for i in seen]
        assert times == sorted(times, reverse=sort_order == "DESC")


def test_filters_and_total(api: Api) -> None:
    data = api.ok(
        "POST", SEARCH, {"page_size": "100"}, {"order_status": "AWAITING_SHIPMENT", "shipping_type": "SELLER"}
    )
    assert data["orders"]
    assert all(o["status"] == "AWAITING_SHIPMENT" and o["shipping_type"] == "SELLER" for o in data["orders"])
    assert data["total_count"] == len(data["orders"])
    pending = api.ok("POST", SEARCH, {"page_size": "100"}, {"is_buyer_request_cancel": True})
    assert all(o["is_buyer_request_cancel"] for o in pending["orders"])
    now = api.sb.clock.now()
    recent = api.ok("POST", SEARCH, {"page_size": "100", "sort_field": "update_time"}, {"update_time_ge": now - 3600})
    assert all(o["update_time"] >= now - 3600 for o in recent["orders"])


def test_tampered_token_rejected(api: Api) -> None:
    token = api.ok("POST", SEARCH, {"page_size": "10"}, {})["next_page_token"]
    assert token
    bad = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    assert api.call("POST", SEARCH, {"page_size": "10", "page_token": bad}, {}).json()["code"] != 0
    # A token from another search (different filters) is rejected too.
    r = api.call("POST", SEARCH, {"page_size": "10", "page_token": token}, {"order_status": "UNPAID"})
    assert r.json()["code"] != 0


def test_search_pages_through_a_large_shop(sb: TikTokSandbox, api: Api, client: httpx.Client) -> None:
    """50,000 seeded orders page by page. How fast is bench/order_sync.py's business (it imports from this sandbox),
    not a wall-clock assertion that fails whenever the machine is busy."""
    r = client.post(f"/sandbox/shops/{_shop_id(api)}/orders", json={"count": 50000, "seed": 3})
    assert r.status_code == 201
    first = api.ok("POST", SEARCH, {"page_size": "100"}, {})
    second = api.ok("POST", SEARCH, {"page_size": "100", "page_token": first["next_page_token"]}, {})
    assert len(first["orders"]) == len(second["orders"]) == 100
    assert not {o["id"] for o in first["orders"]} & {o["id"] for o in second["orders"]}
    assert second["total_count"] >= 50000


def test_order_object_shape(api: Api) -> None:
    world = api.sb.world
    shop_id = _shop_id(api)
    orders = [o for o in world.orders.values() if o.shop_id == shop_id]
    on_hold = next(o for o in orders if o.status == "ON_HOLD")
    tiktok = next(o for o in orders if o.status == "AWAITING_SHIPMENT" and o.shipping_type == "TIKTOK")
    seller = next(o for o in orders if o.status == "AWAITING_SHIPMENT" and o.shipping_type == "SELLER")
    data = api.ok("GET", DETAIL, {"ids": ",".join([on_hold.id, tiktok.id, seller.id])})
    by_id = {o["id"]: o for o in data["orders"]}
    assert "recipient_address" not in by_id[on_hold.id]
    masked = by_id[tiktok.id]["recipient_address"]
    assert "***" in masked["phone_number"]
    assert "*" in masked["name"]
    assert by_id[seller.id]["recipient_address"]["name"] == seller.address.name
    o = by_id[tiktok.id]
    assert isinstance(o["payment"]["total_amount"], str)
    assert o["payment"]["currency"] == "USD"
    for key in (
        "rts_sla_time",
        "tts_sla_time",
        "shipping_due_time",
        "collection_due_time",
        "delivery_due_time",
        "cancel_order_sla_time",
        "create_time",
        "update_time",
        "paid_time",
    ):
        assert isinstance(o[key], int), key
    assert all("quantity" not in li for li in o["line_items"])
    assert o["recipient_address"]["district_info"][0]["address_level"] == "L0"


def test_detail_limits_and_foreign_ids(api: Api) -> None:
    shop_id = _shop_id(api)
    mine = [o.id for o in api.sb.world.orders.values() if o.shop_id == shop_id]
    assert api.call("GET", DETAIL, {"ids": ",".join(mine[:51])}).json()["code"] != 0
    assert len(api.ok("GET", DETAIL, {"ids": ",".join(mine[:50])})["orders"]) == 50
    other = next(o.id for o in api.sb.world.orders.values() if o.shop_id != shop_id)
    assert api.call("GET", DETAIL, {"ids": other}).json()["code"] == 21008111
    # Documented 202507 version is served too.
    assert api.call("GET", "/order/202507/orders", {"ids": mine[0]}).json()["code"] == 0
