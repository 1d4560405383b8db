"""Fulfilled by TikTok: the four FBT read APIs at their documented paths and versions, through the full gateway, and
the control route that moves FBT stock."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.tiktok.app import TikTokSandbox
from tests.sandboxes.tiktok.conftest import Api, make_config

REGIONS = "/fbt/202409/merchants/onboarded_regions"
WAREHOUSES = "/fbt/202408/warehouses"
INVENTORY = "/fbt/202408/inventory/search"
GOODS = "/fbt/202409/goods/search"


def _shop(api: Api):
    return api.sb.world.shops_by_cipher[api.cipher or ""]


def _fbt_warehouse(api: Api) -> dict:
    (wh,) = api.ok("GET", WAREHOUSES)["warehouses"]
    return wh


def test_us_shop_is_onboarded_and_has_one_subscribed_fbt_warehouse(api: Api) -> None:
    assert api.ok("GET", REGIONS) == {"onboarded_regions": [{"region_code": "US"}]}
    wh = _fbt_warehouse(api)
    assert set(wh) == {
        "fbt_warehouse_id",
        "warehouse_ids",
        "name",
        "type",
        "subscribed",
        "addresses",
        "logistics_services",
    }
    assert wh["type"] == "PLATFORM_WAREHOUSE"
    assert wh["subscribed"] is True
    assert wh["fbt_warehouse_id"].isdigit()
    assert len(wh["warehouse_ids"]) == 1
    assert wh["name"] == "TikTok_Eastvale(CA)"
    assert wh["addresses"][0]["region_code"] == "US"
    assert wh["addresses"][0]["address_line_1"]
    assert wh["logistics_services"][0]["subscribed"] is True
    # Not one of the shop's own (seller) warehouses: Get Warehouse List is unchanged.
    own = {w["id"] for w in api.ok("GET", "/logistics/202309/warehouses")["warehouses"]}
    assert wh["fbt_warehouse_id"] not in own
    assert len(own) == 2


def test_a_shop_that_is_not_onboarded_gets_empty_data(client: httpx.Client, sb) -> None:
    uk = Api(client, sb)
    uk.authorize(seller_index=1)
    assert uk.ok("GET", REGIONS) == {}
    assert uk.ok("GET", WAREHOUSES) == {"warehouses": []}
    assert uk.ok("POST", INVENTORY, {"page_size": "10"}, {})["inventory"] == []


def test_inventory_search_shape_matches_the_spec_and_the_shops_skus(api: Api) -> None:
    shop = _shop(api)
    shop_skus = {s.id for p in shop.products for s in p.skus}
    data = api.ok("POST", INVENTORY, {"page_size": "100"}, {})
    # Seeded: four goods matched to shop SKUs (the last with nothing on hand but units in transit) + one unmatched.
    assert data["total_count"] == 5
    assert data["next_page_token"] == ""
    wh_id = _fbt_warehouse(api)["fbt_warehouse_id"]
    for row in data["inventory"]:
        assert row["fbt_warehouse_id"] == wh_id
        detail = row["on_hand_detail"]
        assert set(detail) == {"total_quantity", "available_quantity", "reserved_quantity", "unfulfillable_quantity"}
        assert detail["total_quantity"] == (
            detail["available_quantity"] + detail["reserved_quantity"] + detail["unfulfillable_quantity"]
        )
        assert isinstance(row["in_transit_quantity"], int)
        assert set(row["goods"]) == {"id", "reference_code", "name", "skus"}
        for sku in row["goods"]["skus"]:
            assert sku["id"] in shop_skus
            assert sku["on_hand_detail"]["available_quantity"] == detail["available_quantity"]
            assert sku["on_hand_detail"]["total_quantity"] == detail["available_quantity"] + detail["reserved_quantity"]
    matched = [r for r in data["inventory"] if r["goods"]["skus"]]
    assert len(matched) == 4
    assert sum(1 for r in matched if r["on_hand_detail"]["total_quantity"] == 0 and r["in_transit_quantity"] > 0) == 1


def test_inventory_pages_with_page_size_and_page_token(api: Api) -> None:
    seen, token, pages = [], "", 0
    while True:
        query = {"page_size": "2", **({"page_token": token} if token else {})}
        data = api.ok("POST", INVENTORY, query, {})
        seen += [r["goods"]["id"] for r in data["inventory"]]
        pages += 1
        token = data["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    # A token is bound to its filter.
    first = api.ok("POST", INVENTORY, {"page_size": "2"}, {})["next_page_token"]
    r = api.call("POST", INVENTORY, {"page_size": "2", "page_token": first}, {"sku_ids": ["1"]}).json()
    assert r["code"] == 36009004


def test_inventory_filters(api: Api) -> None:
    rows = api.ok("POST", INVENTORY, {"page_size": "100"}, {})["inventory"]
    target = next(r for r in rows if r["goods"]["skus"])
    sku_id = target["goods"]["skus"][0]["id"]
    by_sku = api.ok("POST", INVENTORY, {"page_size": "100"}, {"sku_ids": [sku_id]})["inventory"]
    assert [r["goods"]["id"] for r in by_sku] == [target["goods"]["id"]]
    by_goods = api.ok("POST", INVENTORY, {"page_size": "100"}, {"goods_ids": [target["goods"]["id"]]})
    assert by_goods["total_count"] == 1
    other_wh = api.ok("POST", INVENTORY, {"page_size": "100"}, {"fbt_warehouse_ids": ["1"]})
    assert other_wh["total_count"] == 0
    assert other_wh["inventory"] == []


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({}, {}),  # page_size is required
        ({"page_size": "0"}, {}),
        ({"page_size": "101"}, {}),
        ({"page_size": "10", "page_token": "not-a-token"}, {}),
        ({"page_size": "10"}, {"goods_ids": ["1"], "sku_ids": ["2"]}),  # "only allows either goods_ids or sku_ids"
        ({"page_size": "10"}, {"sku_ids": [str(i) for i in range(101)]}),  # maximum length 100
    ],
)
def test_inventory_invalid_parameters(api: Api, query: dict, body: dict) -> None:
    assert api.call("POST", INVENTORY, query, body).json()["code"] == 36009004


def test_goods_search(api: Api) -> None:
    shop = _shop(api)
    data = api.ok("POST", GOODS, {"page_size": "100"}, {})
    assert data["total_count"] == 5
    matched = [g for g in data["goods"] if g["skus"]]
    g = matched[0]
    sku = api.sb.world.skus[g["skus"][0]["id"]]
    assert g["reference_code"] == sku.seller_sku
    assert g["skus"][0]["product"]["id"] == sku.product_id
    assert g["skus"][0]["matched"] is True
    assert g["merchant_declaration_info"]["weight"]["unit"] == "POUND"
    by_product = api.ok("POST", GOODS, {"page_size": "10"}, {"product_ids": [sku.product_id]})["goods"]
    assert [x["id"] for x in by_product] == [g["id"]]
    by_ref = api.ok("POST", GOODS, {"page_size": "10"}, {"reference_codes": [sku.seller_sku]})["goods"]
    assert [x["id"] for x in by_ref] == [g["id"]]
    shop_skus = {s.id for p in shop.products for s in p.skus}
    assert all(x["skus"][0]["id"] in shop_skus for x in matched)
    assert api.call("POST", GOODS, {}, {}).json()["code"] == 36009004


def test_gateway_rules_apply_to_fbt(api: Api) -> None:
    # shop_cipher required, signature checked, the version is the spec's.
    assert api.call("GET", WAREHOUSES, cipher=None).json()["code"] == 106013
    assert api.call("GET", WAREHOUSES, query={"extra": "1"}, sign=False).json()["code"] == 36009004
    r = api.call("GET", WAREHOUSES)
    assert r.json()["code"] == 0
    bad_sign = api.call("GET", WAREHOUSES, secret="wrong-secret").json()
    assert bad_sign["code"] == 106001
    assert api.call("GET", "/fbt/202309/warehouses").json()["code"] == 36009014
    assert api.call("POST", WAREHOUSES, body={}).json()["code"] == 36009010
    assert api.call("GET", INVENTORY).json()["code"] == 36009010


def test_fbt_is_rate_limited_per_api_and_shop() -> None:
    small = TikTokSandbox(make_config(rate_limit_qps=3))
    with httpx.Client(transport=small.httpx_transport(), base_url="http://sandbox.local") as c:
        a = Api(c, small)
        a.authorize()
        codes = [a.call("POST", INVENTORY, {"page_size": "10"}, {}) for _ in range(5)]
        assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
        assert codes[-1].json()["code"] == 36009002
        assert small.limiter.snapshot()["apis"]["POST /fbt/202408/inventory/search"]["violations"] == 2


def test_control_sets_fbt_quantities_and_search_shows_them(api: Api, client: httpx.Client) -> None:
    wh_id = _fbt_warehouse(api)["fbt_warehouse_id"]
    rows = api.ok("POST", INVENTORY, {"page_size": "100"}, {})["inventory"]
    sku_id = next(r for r in rows if r["goods"]["skus"])["goods"]["skus"][0]["id"]
    r = client.post(
        "/sandbox/fbt/inventory",
        json={"sku_id": sku_id, "fbt_warehouse_id": wh_id, "available": 7, "reserved": 2, "in_transit": 0},
    )
    assert r.status_code == 200, r.text
    row = api.ok("POST", INVENTORY, {"page_size": "10"}, {"sku_ids": [sku_id]})["inventory"][0]
    assert row["on_hand_detail"]["available_quantity"] == 7
    assert row["on_hand_detail"]["reserved_quantity"] == 2
    assert row["in_transit_quantity"] == 0
    # Everything at zero: gone from the unfiltered search ("goods with non-zero inventory"), still found by sku.
    zero = {"sku_id": sku_id, "fbt_warehouse_id": wh_id, "available": 0, "reserved": 0, "unfulfillable": 0}
    assert client.post("/sandbox/fbt/inventory", json=zero).status_code == 200
    everything = api.ok("POST", INVENTORY, {"page_size": "100"}, {})["inventory"]
    assert sku_id not in {s["id"] for r in everything for s in r["goods"]["skus"]}
    assert api.ok("POST", INVENTORY, {"page_size": "10"}, {"sku_ids": [sku_id]})["total_count"] == 1
    listed = client.get("/sandbox/fbt/inventory", params={"shop_id": _shop(api).id}).json()
    assert len(listed["warehouses"]) == 1
    assert len(listed["inventory"]) == 5
    # Errors are the control API's 400s.
    assert client.post("/sandbox/fbt/inventory", json={"sku_id": sku_id, "fbt_warehouse_id": "1"}).status_code == 400
    bad = {"sku_id": sku_id, "fbt_warehouse_id": wh_id, "available": -1}
    assert client.post("/sandbox/fbt/inventory", json=bad).status_code == 400


def test_seeding_fbt_leaves_the_rest_of_the_world_alone(sb) -> None:
    # FBT uses its own RNG and id kinds: shops, SKUs and orders keep the ids a seed always gave them.
    world = sb.world
    assert len(world.fbt_warehouses) == 2  # the two US shops
    us_shops = [s for s in world.shops.values() if s.is_us]
    assert {s.id for s in us_shops} == set(world.fbt_warehouses)
    for goods in world.fbt_goods.values():
        for sku_id in goods.sku_ids:
            assert world.products[world.skus[sku_id].product_id].shop_id == goods.shop_id
