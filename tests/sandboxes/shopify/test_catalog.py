"""§5 lookups: variants by SKU, inventory items and their levels per location with named quantities."""

from __future__ import annotations

from .conftest import SHOP, Shopify

VARIANTS = """
query($q: String, $first: Int!) {
  productVariants(first: $first, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku displayName inventoryQuantity
      inventoryItem {
        id sku
        inventoryLevels(first: 5) { nodes {
          id location { id name }
          quantities(names: ["available", "on_hand", "committed", "incoming"]) { name quantity }
        } }
      }
    }
  }
}
"""


def _quantities(level: dict) -> dict[str, int]:
    return {q["name"]: q["quantity"] for q in level["quantities"]}


def test_variant_by_sku_with_levels_and_named_quantities(api: Shopify) -> None:
    nodes = api.data(VARIANTS, {"q": "sku:WOMEN-RED-M", "first": 10})["productVariants"]["nodes"]
    assert [n["sku"] for n in nodes] == ["WOMEN-RED-M"]
    variant = nodes[0]
    assert variant["id"].startswith("gid://shopify/ProductVariant/")
    item = variant["inventoryItem"]
    assert item["id"].startswith("gid://shopify/InventoryItem/")
    levels = item["inventoryLevels"]["nodes"]
    assert len(levels) == 2  # both locations of the demo shop stock it
    control = api.client.get("/sandbox/inventory/WOMEN-RED-M", params={"shop": SHOP}).json()
    for level, expected in zip(levels, control["levels"], strict=True):
        q = _quantities(level)
        assert level["location"]["id"] == expected["location_id"]
        assert q == {n: expected[n] for n in ("available", "on_hand", "committed", "incoming")}
        assert q["on_hand"] == q["available"] + q["committed"]
        assert level["id"] == f"gid://shopify/InventoryLevel/{level['location']['id'].rsplit('/', 1)[1]}" + (
            f"?inventory_item_id={item['id'].rsplit('/', 1)[1]}"
        )
    assert variant["inventoryQuantity"] == sum(_quantities(lv)["available"] for lv in levels)


def test_sku_search_or_prefix_and_paging(api: Shopify) -> None:
    both = api.data(VARIANTS, {"q": "sku:LED-WHT OR sku:CAST-12IN", "first": 10})["productVariants"]["nodes"]
    assert sorted(n["sku"] for n in both) == ["CAST-12IN", "LED-WHT"]
    women = api.data(VARIANTS, {"q": "sku:women-*", "first": 10})["productVariants"]["nodes"]
    assert sorted(n["sku"] for n in women) == ["WOMEN-BLK-M", "WOMEN-RED-L", "WOMEN-RED-M"]
    assert api.data(VARIANTS, {"q": "sku:NO-SUCH", "first": 10})["productVariants"]["nodes"] == []
    page = api.data(VARIANTS, {"first": 5})["productVariants"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = api.data(
        "query($a: String) { productVariants(first: 50, after: $a) { nodes { sku } } }",
        {"a": page["pageInfo"]["endCursor"]},
    )["productVariants"]["nodes"]
    assert len(page["nodes"]) + len(rest) == 13  # the seeded catalogue, no repeats
    assert not {n["sku"] for n in page["nodes"]} & {n["sku"] for n in rest}


def test_variant_and_item_by_id_and_wrong_types(api: Shopify) -> None:
    variant = api.data(VARIANTS, {"q": "sku:LED-WHT", "first": 1})["productVariants"]["nodes"][0]
    item_id = variant["inventoryItem"]["id"]
    q = """query($v: ID!, $i: ID!) {
      productVariant(id: $v) { id sku inventoryItem { id } }
      inventoryItem(id: $i) { id sku variant { id } inventoryLevel(locationId: "gid://shopify/Location/1") { id } }
    }"""
    data = api.data(q, {"v": variant["id"], "i": item_id})
    assert data["productVariant"]["inventoryItem"]["id"] == item_id
    assert data["inventoryItem"]["variant"]["id"] == variant["id"]
    assert data["inventoryItem"]["inventoryLevel"] is None
    # A GID of another type is simply not found (null), as is a variant of another shop.
    swapped = api.data(q, {"v": item_id, "i": variant["id"]})
    assert swapped == {"productVariant": None, "inventoryItem": None}
    bad = api.gql('{ productVariant(id: "5600000001") { id } }').json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_inventory_items_by_sku(api: Shopify) -> None:
    data = api.data(
        '{ inventoryItems(first: 5, query: "sku:TAINLE-SIL") { nodes { id sku inventoryLevels(first: 5) '
        '{ nodes { location { name } quantities(names: ["available"]) { name quantity } } } } } }'
    )
    (item,) = data["inventoryItems"]["nodes"]
    assert item["sku"] == "TAINLE-SIL"
    assert [lv["location"]["name"] for lv in item["inventoryLevels"]["nodes"]] == ["Main Warehouse", "West Coast DC"]


def test_an_item_not_stocked_at_a_location_has_no_level_there(api: Shopify) -> None:
    data = api.data(
        '{ inventoryItems(first: 1, query: "sku:TANDING-FRAME") { nodes { inventoryLevels(first: 5) '
        "{ nodes { location { name } } } } } }"
    )
    levels = data["inventoryItems"]["nodes"][0]["inventoryLevels"]["nodes"]
    assert [lv["location"]["name"] for lv in levels] == ["Main Warehouse"]


def test_unknown_quantity_name_is_an_error(api: Shopify) -> None:
    r = api.gql(
        '{ inventoryItems(first: 1) { nodes { inventoryLevels(first: 1) { nodes { quantities(names: ["avail"]) '
        "{ quantity } } } } } }"
    )
    body = r.json()
    assert r.status_code == 200
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "avail" in body["errors"][0]["message"]


def test_scopes_guard_products_and_inventory(shopify: Shopify) -> None:
    shopify.install("read_orders")
    r = shopify.gql('{ productVariants(first: 1, query: "sku:LED-WHT") { nodes { id } } }').json()
    assert r["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_products" in r["errors"][0]["message"]
    r = shopify.gql("{ inventoryItems(first: 1) { nodes { id } } }").json()
    assert r["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_inventory" in r["errors"][0]["message"]
