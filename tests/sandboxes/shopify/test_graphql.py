"""The GraphQL endpoint: auth, versions, scopes, orders with cursors and the updated_at filter, GIDs."""

from __future__ import annotations

import re
from typing import Any

from sandboxes.shopify.app import supported_versions

from .conftest import SHOP, Shopify

ORDERS = """
query Orders($first: Int!, $after: String, $q: String, $sort: OrderSortKeys, $reverse: Boolean) {
  orders(first: $first, after: $after, query: $q, sortKey: $sort, reverse: $reverse) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id name createdAt updatedAt cancelledAt displayFulfillmentStatus displayFinancialStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        shippingAddress { name address1 city provinceCode zip countryCodeV2 phone }
        lineItems(first: 10) { edges { node { id sku quantity currentQuantity variant { id inventoryItem { id } } } } }
        fulfillmentOrders(first: 2) { edges { node {
          id status requestStatus assignedLocation { location { id } } supportedActions { action }
          lineItems(first: 10) { edges { node { id totalQuantity remainingQuantity lineItem { id sku } } } }
        } } }
      }
    }
  }
}
"""


def all_orders(api: Shopify, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        page = api.data(ORDERS, {"first": 5, "after": after, **variables})["orders"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination never ended")


def test_401_without_or_with_a_wrong_token(shopify: Shopify) -> None:
    r = shopify.gql("{ shop { id } }", token=None)
    assert r.status_code == 401
    assert "Invalid API key or access token" in r.json()["errors"]
    assert shopify.gql("{ shop { id } }", token="shpat_nope").status_code == 401


def test_token_of_another_shop_is_refused(api: Shopify) -> None:
    r = api.client.post(
        "/dropline-uk.myshopify.com/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { id } }"},
        headers={"X-Shopify-Access-Token": api.token or ""},
    )
    assert r.status_code == 401


def test_version_is_echoed_and_unsupported_versions_get_the_oldest(api: Shopify) -> None:
    versions = supported_versions(api.sb.clock.now())
    assert "unstable" in versions
    assert len(versions) == 6
    for v in ("2026-10", "unstable", versions[-2]):
        r = api.gql("{ shop { name } }", version=v)
        assert r.status_code == 200
        assert r.headers["x-shopify-api-version"] == v
    r = api.gql("{ shop { name } }", version="2023-01")
    assert r.status_code == 200
    assert r.headers["x-shopify-api-version"] == versions[0]


def test_shop_and_locations_use_gids(api: Shopify) -> None:
    data = api.data("{ shop { id myshopifyDomain currencyCode } locations(first: 10) { edges { node { id name } } } }")
    assert re.fullmatch(r"gid://shopify/Shop/\d+", data["shop"]["id"])
    assert data["shop"]["myshopifyDomain"] == SHOP
    assert data["shop"]["currencyCode"] == "USD"
    locs = [e["node"] for e in data["locations"]["edges"]]
    assert len(locs) == 2
    assert all(re.fullmatch(r"gid://shopify/Location/\d+", loc["id"]) for loc in locs)


def test_scope_missing_is_access_denied(shopify: Shopify) -> None:
    shopify.install("read_orders")
    r = shopify.gql("{ locations(first: 5) { edges { node { id } } } }")
    assert r.status_code == 200
    errors = r.json()["errors"]
    assert errors[0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_locations" in errors[0]["message"]


def test_orders_pages_with_cursors_without_gaps_or_repeats(api: Shopify) -> None:
    nodes = all_orders(api, sort="UPDATED_AT")
    ids = [n["id"] for n in nodes]
    expected = list(api.client.get("/sandbox/orders", params={"shop": SHOP}).json()["orders"])
    assert len(ids) == len(set(ids)) == len(expected) == 24
    stamps = [n["updatedAt"] for n in nodes]
    assert stamps == sorted(stamps)
    reverse = all_orders(api, sort="UPDATED_AT", reverse=True)
    assert [n["id"] for n in reverse] == ids[::-1]


def test_order_fields_and_gids(api: Shopify) -> None:
    node = api.data(ORDERS, {"first": 1})["orders"]["edges"][0]["node"]
    assert re.fullmatch(r"gid://shopify/Order/\d+", node["id"])
    assert node["name"].startswith("#")
    assert re.fullmatch(r"\d+\.\d\d", node["totalPriceSet"]["shopMoney"]["amount"])
    assert node["totalPriceSet"]["shopMoney"]["currencyCode"] == "USD"
    assert node["shippingAddress"]["countryCodeV2"]
    li = node["lineItems"]["edges"][0]["node"]
    assert re.fullmatch(r"gid://shopify/LineItem/\d+", li["id"])
    assert re.fullmatch(r"gid://shopify/ProductVariant/\d+", li["variant"]["id"])
    assert re.fullmatch(r"gid://shopify/InventoryItem/\d+", li["variant"]["inventoryItem"]["id"])
    fo = node["fulfillmentOrders"]["edges"][0]["node"]
    assert re.fullmatch(r"gid://shopify/FulfillmentOrder/\d+", fo["id"])
    assert re.fullmatch(r"gid://shopify/Location/\d+", fo["assignedLocation"]["location"]["id"])
    assert fo["requestStatus"] == "UNSUBMITTED"
    assert re.fullmatch(r"gid://shopify/FulfillmentOrderLineItem/\d+", fo["lineItems"]["edges"][0]["node"]["id"])


def test_seeded_orders_cover_every_state(api: Shopify) -> None:
    nodes = all_orders(api)
    statuses = {n["displayFulfillmentStatus"] for n in nodes}
    assert {"UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED"} <= statuses
    cancelled = [n for n in nodes if n["cancelledAt"]]
    assert cancelled
    assert all(n["fulfillmentOrders"]["edges"][0]["node"]["status"] == "CANCELLED" for n in cancelled)
    edited = [
        n for n in nodes if any(e["node"]["currentQuantity"] < e["node"]["quantity"] for e in n["lineItems"]["edges"])
    ]
    assert edited
    partial = next(n for n in nodes if n["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED")
    fo = partial["fulfillmentOrders"]["edges"][0]["node"]
    assert fo["status"] == "IN_PROGRESS"
    assert any(e["node"]["totalQuantity"] - e["node"]["remainingQuantity"] > 0 for e in fo["lineItems"]["edges"])


def test_updated_at_filter(api: Shopify) -> None:
    nodes = all_orders(api, sort="UPDATED_AT")
    mark = nodes[len(nodes) // 2]["updatedAt"]
    newer = all_orders(api, sort="UPDATED_AT", q=f"updated_at:>='{mark}'")
    assert newer
    assert all(n["updatedAt"] >= mark for n in newer)
    assert len(newer) == sum(1 for n in nodes if n["updatedAt"] >= mark)
    older = all_orders(api, sort="UPDATED_AT", q=f"updated_at:<='{mark}'")
    assert older
    assert all(n["updatedAt"] <= mark for n in older)
    strictly = all_orders(api, sort="UPDATED_AT", q=f"updated_at:>'{mark}'")
    assert all(n["updatedAt"] > mark for n in strictly)
    one = all_orders(api, q=f"updated_at:>='{mark}' updated_at:<='{mark}'")
    assert one
    assert all(n["updatedAt"] == mark for n in one)


def test_control_api_edits_move_updated_at_into_the_sync_window(api: Shopify) -> None:
    nodes = all_orders(api, sort="UPDATED_AT")
    watermark = nodes[-1]["updatedAt"]
    api.client.post("/sandbox/clock", json={"advance": 120})
    oldest = nodes[0]
    numeric = oldest["id"].rsplit("/", 1)[1]
    r = api.client.post(f"/sandbox/orders/{numeric}/cancel", json={"reason": "customer"})
    assert r.status_code == 200, r.text
    created = api.client.post("/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "WOMEN-RED-M", "quantity": 2}]})
    assert created.status_code == 201
    fresh = all_orders(api, sort="UPDATED_AT", q=f"updated_at:>'{watermark}'")
    assert {n["id"] for n in fresh} == {oldest["id"], created.json()["id"]}
    cancelled = next(n for n in fresh if n["id"] == oldest["id"])
    assert cancelled["cancelledAt"] is not None
    new = next(n for n in fresh if n["id"] != oldest["id"])
    assert new["lineItems"]["edges"][0]["node"]["sku"] == "WOMEN-RED-M"
    assert new["displayFulfillmentStatus"] == "UNFULFILLED"


def test_orders_older_than_60_days_need_read_all_orders(api: Shopify) -> None:
    api.client.post("/sandbox/clock", json={"advance": 30 * 86_400})
    api.install("read_orders,read_merchant_managed_fulfillment_orders")
    recent = all_orders(api)
    assert 0 < len(recent) < 24
    api.install("read_orders,read_all_orders,read_merchant_managed_fulfillment_orders")
    assert len(all_orders(api)) == 24


def test_first_over_250_is_rejected(api: Shopify) -> None:
    r = api.gql("query($n: Int!) { orders(first: $n) { edges { node { id } } } }", {"n": 251})
    assert r.status_code == 200
    body = r.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "MAX_PAGE_SIZE_EXCEEDED"
    assert api.gql("{ orders(first: 250) { edges { node { id } } } }").json()["data"]["orders"]


def test_bad_cursor_is_an_error(api: Shopify) -> None:
    r = api.gql('{ orders(first: 5, after: "nonsense") { edges { node { id } } } }')
    assert r.status_code == 200
    assert r.json()["errors"]


def test_syntax_error_is_a_200_with_errors(api: Shopify) -> None:
    r = api.gql("{ orders(first: 5) { edges { node { id }")
    assert r.status_code == 200
    assert r.json()["errors"]


def test_host_header_names_the_shop_and_order_by_gid(api: Shopify) -> None:
    first = api.data("{ orders(first: 1) { nodes { id name } } }")["orders"]["nodes"][0]
    r = api.client.post(
        "/admin/api/2026-10/graphql.json",
        json={"query": "query($id: ID!) { order(id: $id) { id name } }", "variables": {"id": first["id"]}},
        headers={"X-Shopify-Access-Token": api.token or "", "Host": SHOP},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["order"] == first
    r = api.client.post(
        "/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { id } }"},
        headers={"X-Shopify-Access-Token": api.token or "", "Host": "dropline-uk.myshopify.com"},
    )
    assert r.status_code == 401


def test_reset_restores_the_seeded_world(api: Shopify) -> None:
    before = api.client.get("/sandbox/orders", params={"shop": SHOP}).json()["orders"]
    api.client.post("/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "LED-WHT", "quantity": 1}]})
    assert api.client.post("/sandbox/reset", json={}).status_code == 200
    after = api.client.get("/sandbox/orders", params={"shop": SHOP}).json()["orders"]
    assert [o["id"] for o in after] == [o["id"] for o in before]
    assert api.gql("{ shop { id } }").status_code == 401  # tokens went with the old world
