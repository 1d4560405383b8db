"""§6: every response carries extensions.cost; an empty bucket gives THROTTLED with HTTP 200."""

from __future__ import annotations

from .conftest import Shopify

QUERY = (
    "{ orders(first: 100) { pageInfo { hasNextPage } "
    "edges { node { id lineItems(first: 10) { edges { node { sku } } } } } } }"
)


def test_cost_extension_on_every_response(api: Shopify) -> None:
    body = api.gql(QUERY).json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 100 * (1 + 2 + 10)
    assert 0 < cost["actualQueryCost"] < cost["requestedQueryCost"]
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0
    assert status["restoreRate"] == 100.0
    assert status["maximumAvailable"] - cost["actualQueryCost"] <= status["currentlyAvailable"] <= 2000.0


def test_a_burst_is_throttled_with_http_200(api: Shopify) -> None:
    api.client.post("/sandbox/rate-limit", json={"maximum_available": 1400, "restore_rate": 1})
    results = [api.gql(QUERY) for _ in range(5)]
    assert all(r.status_code == 200 for r in results)
    bodies = [r.json() for r in results]
    assert "errors" not in bodies[0]
    throttled = [b for b in bodies if "errors" in b]
    assert throttled, [b["extensions"] for b in bodies]
    t = throttled[0]
    assert t["errors"][0]["message"] == "Throttled"
    assert t["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert t.get("data") is None
    assert t["extensions"]["cost"]["actualQueryCost"] is None
    assert (
        t["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < t["extensions"]["cost"]["requestedQueryCost"]
    )


def test_throttle_status_can_be_429(api: Shopify) -> None:
    api.client.post("/sandbox/rate-limit", json={"maximum_available": 1400, "restore_rate": 1, "status_code": 429})
    assert api.gql(QUERY).status_code == 200
    r = api.gql(QUERY)
    assert r.status_code == 429
    assert r.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_a_query_above_the_bucket_is_max_cost_exceeded(api: Shopify) -> None:
    r = api.gql("{ orders(first: 250) { edges { node { id lineItems(first: 250) { edges { node { sku } } } } } } }")
    assert r.status_code == 200
    assert r.json()["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_buckets_are_per_app_and_shop(api: Shopify) -> None:
    api.client.post("/sandbox/rate-limit", json={"maximum_available": 1400, "restore_rate": 1})
    assert "errors" not in api.gql(QUERY).json()
    assert api.gql(QUERY).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    code = api.client.post("/sandbox/authorize", json={"shop": "dropline-uk.myshopify.com", "scopes": ["read_orders"]})
    from .conftest import CLIENT_ID, CLIENT_SECRET

    r = api.client.post(
        "/dropline-uk.myshopify.com/admin/oauth/access_token",
        json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code.json()["code"], "expiring": "1"},
    )
    token = r.json()["access_token"]
    other = api.client.post(
        "/dropline-uk.myshopify.com/admin/api/2026-10/graphql.json",
        json={"query": QUERY},
        headers={"X-Shopify-Access-Token": token},
    )
    assert "errors" not in other.json()


def test_a_mutation_costs_ten_plus_its_payload(api: Shopify) -> None:
    order = api.order([("LED-WHT", 1)])
    query = (
        "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) "
        "{ fulfillment { id } userErrors { field message } } }"
    )
    fo = order["fulfillment_orders"][0]["id"]
    body = api.gql(query, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}}).json()
    assert body["data"]["fulfillmentCreate"]["userErrors"] == []
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (10 + 1 + 1, 10 + 1)
    refused = api.gql(query, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}}).json()
    assert refused["extensions"]["cost"]["actualQueryCost"] == 10 + 1  # one userError, no fulfillment


def test_a_plain_list_with_first_costs_per_item(api: Shopify) -> None:
    body = api.gql("{ orders(first: 1) { nodes { fulfillments(first: 5) { id } } } }").json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 1 * (1 + 5 * 1)
