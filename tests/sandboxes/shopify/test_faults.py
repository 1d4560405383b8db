"""Faults on demand (as the TikTok sandbox does them) and the per-shop counters a benchmark reads."""

from __future__ import annotations

import time

import httpx
import pytest

from .conftest import SHOP, Shopify
from .test_fulfillment import CREATE, fos, read
from .test_inventory import SET, set_input, target

ORDERS = "{ orders(first: 50) { nodes { id lineItems(first: 5) { nodes { sku } } } } }"


def test_next_n_calls_fail_with_5xx(api: Shopify) -> None:
    api.client.put(
        "/sandbox/faults",
        json={"errors": [{"api": "orders", "http_status": 503, "next": 2, "retry_after": 1}]},
    )
    first, second, third = (api.gql(ORDERS) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json() == {"errors": "Service Unavailable"}
    assert first.headers["retry-after"] == "1"
    assert "data" in third.json()
    assert api.gql("{ shop { id } }").status_code == 200  # the rule names `orders` only
    api.client.put("/sandbox/faults", json={"errors": [{"api": "mutation", "http_status": 500, "next": 1}]})
    created = api.order([("LED-WHT", 1)])
    r = api.gql(
        CREATE, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": created["fulfillment_orders"][0]["id"]}]}}
    )
    assert r.status_code == 500
    assert r.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert read(api, created["id"])["fulfillments"] == []  # nothing was done
    stats = api.client.get("/sandbox/stats").json()["shops"][SHOP]
    assert stats["injected_errors"] == 3


def test_a_lost_fulfillment_answer_is_found_by_reading_the_order(api: Shopify) -> None:
    """ADR 0020: the answer is lost after the fulfillment was made; the client reads the order's fulfillments for
    its tracking number instead of repeating, and a blind repeat is refused rather than shipped twice."""
    created = api.order([("WOMEN-BLK-M", 2)])
    (fo,) = fos(read(api, created["id"]))
    api.client.put("/sandbox/faults", json={"drop_response_after_commit": [{"api": "fulfillmentCreate", "next": 1}]})
    variables = {
        "f": {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
            "trackingInfo": {"company": "UPS", "number": "1ZLOST"},
        }
    }
    with pytest.raises(httpx.RemoteProtocolError):
        api.gql(CREATE, variables)
    order = read(api, created["id"])
    assert [f["trackingInfo"][0]["number"] for f in order["fulfillments"]] == ["1ZLOST"]
    assert order["displayFulfillmentStatus"] == "FULFILLED"
    repeat = api.gql(CREATE, variables).json()["data"]["fulfillmentCreate"]
    assert repeat["fulfillment"] is None
    assert "unfulfillable status= closed" in repeat["userErrors"][0]["message"]
    numeric = created["id"].rsplit("/", 1)[1]
    assert api.client.get(f"/sandbox/orders/{numeric}/fulfillments").json()["count"] == 1
    assert api.client.get("/sandbox/stats").json()["shops"][SHOP]["dropped"] == 1


def test_a_lost_inventory_answer_is_safe_to_repeat_with_the_same_key(api: Shopify) -> None:
    item, location, level = target(api, "ORGANIC-36M")
    inp = set_input(
        [
            {
                "inventoryItemId": item,
                "locationId": location,
                "quantity": level["available"] + 10,
                "changeFromQuantity": level["available"],
            }
        ]
    )
    api.sb.faults.drop_after_commit("inventorySetQuantities", next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.gql(SET, {"input": inp, "key": "lost-1"})
    assert target(api, "ORGANIC-36M")[2]["available"] == level["available"] + 10
    retry = api.gql(SET, {"input": inp, "key": "lost-1"}).json()["data"]["inventorySetQuantities"]
    assert retry["userErrors"] == []  # the first result again, not a stale compare-and-swap
    assert {c["name"]: c["delta"] for c in retry["inventoryAdjustmentGroup"]["changes"]} == {
        "available": 10,
        "on_hand": 10,
    }
    assert target(api, "ORGANIC-36M")[2]["available"] == level["available"] + 10


def test_a_drained_bucket_throttles_until_it_refills(api: Shopify) -> None:
    api.client.post("/sandbox/rate-limit", json={"restore_rate": 2000})  # a Plus-like rate keeps the wait short
    assert "errors" not in api.gql(ORDERS).json()
    drained = api.control("POST", "rate-limit/drain", shop=SHOP)
    assert drained["throttleStatus"]["currentlyAvailable"] == 0.0
    r = api.gql(ORDERS)
    assert r.status_code == 200
    body = r.json()
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    cost = body["extensions"]["cost"]
    assert cost["actualQueryCost"] is None
    wait = (cost["requestedQueryCost"] - cost["throttleStatus"]["currentlyAvailable"]) / cost["throttleStatus"][
        "restoreRate"
    ]
    time.sleep(wait + 0.05)  # the notes' back-off (§6)
    assert "errors" not in api.gql(ORDERS).json()
    stats = api.client.get("/sandbox/stats").json()
    assert stats["shops"][SHOP]["calls"] == 3
    assert stats["shops"][SHOP]["throttled"] == 1
    assert stats["shops"][SHOP]["ok"] == 2
    assert stats["fields"]["orders"] == 3
    api.client.post("/sandbox/stats/reset")
    assert api.client.get("/sandbox/stats").json()["totals"]["calls"] == 0


def test_latency_and_held_requests(api: Shopify) -> None:
    api.sb.faults.add_latency("shop", ms=150)
    started = time.monotonic()
    assert api.gql("{ shop { id } }").status_code == 200
    assert time.monotonic() - started >= 0.15
    created = api.order([("LED-WHT", 1)])
    api.client.put("/sandbox/faults", json={"timeouts": [{"api": "fulfillmentCreate", "hold_ms": 400, "next": 1}]})
    variables = {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": created["fulfillment_orders"][0]["id"]}]}}
    with pytest.raises(httpx.ReadTimeout):
        api.client.post(
            f"/{SHOP}/admin/api/2026-10/graphql.json",
            json={"query": CREATE, "variables": variables},
            headers={"X-Shopify-Access-Token": api.token or ""},
            timeout=0.15,
        )
    # The held request is still served: the work happens although the client gave up.
    deadline = time.monotonic() + 5
    while read(api, created["id"])["displayFulfillmentStatus"] != "FULFILLED":
        assert time.monotonic() < deadline, "the held fulfillmentCreate never ran"
        time.sleep(0.05)
