"""Products, Update Inventory validation, and the change visible through Inventory Search."""

from __future__ import annotations

import httpx

from tests.sandboxes.tiktok.conftest import Api


def _shop(api: Api):
    return api.sb.world.shops_by_cipher[api.cipher or ""]


def test_update_then_search(api: Api, client: httpx.Client) -> None:
    shop = _shop(api)
    product = next(p for p in shop.products if p.status == "ACTIVATE" and len(p.skus[0].inventory) == 2)
    sku = product.skus[0]
    wh = list(sku.inventory)
    body = {
        "skus": [
            {
                "id": sku.id,
                "inventory": [{"warehouse_id": wh[0], "quantity": 7}, {"warehouse_id": wh[1], "quantity": 0}],
            }
        ]
    }
    data = api.ok("POST", f"/product/202309/products/{product.id}/inventory/update", {}, body)
    assert data.get("errors", []) == []
    inv = api.ok("POST", "/product/202309/inventory/search", {}, {"sku_ids": [sku.id]})["inventory"]
    s = inv[0]["skus"][0]
    assert s["total_available_quantity"] == 7
    assert {w["warehouse_id"]: w["available_quantity"] for w in s["warehouse_inventory"]} == {wh[0]: 7, wh[1]: 0}
    updates = client.get(f"/sandbox/inventory/{shop.id}").json()["updates"]
    assert updates[-1]["sku_id"] == sku.id
    assert updates[-1]["after"] == {wh[0]: 7, wh[1]: 0}


def test_update_validation(api: Api) -> None:
    shop = _shop(api)
    multi = next(p for p in shop.products if p.status == "ACTIVATE" and len(p.skus[0].inventory) == 2)
    single = next(p for p in shop.products if p.status == "ACTIVATE" and len(p.skus[0].inventory) == 1)
    inactive = next(p for p in shop.products if p.status != "ACTIVATE")
    sku = multi.skus[0]
    wh = list(sku.inventory)
    url = f"/product/202309/products/{multi.id}/inventory/update"

    def sku_errors(body: dict) -> list[int]:
        r = api.call("POST", url, {}, body).json()
        assert r["code"] == 0, r
        return [e["code"] for e in r["data"].get("errors", [])]

    # Only one of the SKU's two warehouses -> rejected per SKU, top-level code 0.
    assert sku_errors({"skus": [{"id": sku.id, "inventory": [{"warehouse_id": wh[0], "quantity": 3}]}]}) == [12052533]
    assert sku_errors({"skus": [{"id": sku.id, "inventory": [{"quantity": 3}]}]}) == [12019028]
    assert sku_errors(
        {
            "skus": [
                {
                    "id": single.skus[0].id,
                    "inventory": [{"warehouse_id": wh[0], "quantity": 1}, {"warehouse_id": wh[1], "quantity": 1}],
                }
            ]
        }
    ) == [12052556]  # SKU of another product
    too_many = {
        "skus": [
            {
                "id": sku.id,
                "inventory": [{"warehouse_id": wh[0], "quantity": 100000}, {"warehouse_id": wh[1], "quantity": 1}],
            }
        ]
    }
    assert sku_errors(too_many) == [12052990]
    unknown_wh = {
        "skus": [
            {"id": sku.id, "inventory": [{"warehouse_id": "1", "quantity": 1}, {"warehouse_id": wh[1], "quantity": 1}]}
        ]
    }
    assert sku_errors(unknown_wh) == [12052990]
    # Mixed: one good SKU applied, one bad reported.
    good = multi.skus[1]
    mixed = {
        "skus": [
            {"id": good.id, "inventory": [{"warehouse_id": w, "quantity": 11} for w in good.inventory]},
            {"id": sku.id, "inventory": []},
        ]
    }
    assert sku_errors(mixed) == [12019022]
    assert set(good.inventory.values()) == {11}
    # Whole-request errors.
    r = api.call(
        "POST",
        f"/product/202309/products/{inactive.id}/inventory/update",
        {},
        {"skus": [{"id": inactive.skus[0].id, "inventory": [{"quantity": 1}]}]},
    )
    assert r.json()["code"] == 12052037
    assert api.call("POST", "/product/202309/products/1/inventory/update", {}, {"skus": []}).json()["code"] == 12052032
    assert api.call("POST", url, {}, {"skus": [{"id": sku.id}, {"id": sku.id}]}).json()["code"] == 12052553


def test_search_products_and_logistics(api: Api) -> None:
    shop = _shop(api)
    page = api.ok("POST", "/product/202309/products/search", {"page_size": "3"}, {"status": "ACTIVATE"})
    assert page["total_count"] == sum(p.status == "ACTIVATE" for p in shop.products)
    assert len(page["products"]) == 3
    assert page["next_page_token"]
    rest = api.ok(
        "POST",
        "/product/202309/products/search",
        {"page_size": "100", "page_token": page["next_page_token"]},
        {"status": "ACTIVATE"},
    )
    assert len(page["products"]) + len(rest["products"]) == page["total_count"]
    assert api.call("POST", "/product/202309/products/search", {"page_size": "0"}, {}).json()["code"] == 12019109
    whs = api.ok("GET", "/logistics/202309/warehouses")["warehouses"]
    assert len(whs) == 2
    assert "distict" in whs[0]["address"]
    opts = api.ok("GET", f"/logistics/202309/warehouses/{whs[0]['id']}/delivery_options")["delivery_options"]
    assert {o["type"] for o in opts} >= {"STANDARD", "EXPRESS", "SEND_BY_SELLER"}
    seller_opt = next(o for o in opts if o["type"] == "SEND_BY_SELLER")
    providers = api.ok("GET", f"/logistics/202309/delivery_options/{seller_opt['id']}/shipping_providers")
    assert {p["name"] for p in providers["shipping_providers"]} == {"USPS", "UPS", "FedEx"}
    fbt = next(o for o in shop.delivery_options if o.fulfilled_by_tiktok)
    r = api.call("GET", f"/logistics/202309/delivery_options/{fbt.id}/shipping_providers")
    assert r.json()["code"] == 21008117
