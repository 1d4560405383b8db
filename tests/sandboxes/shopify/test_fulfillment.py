"""§4 and §10.2: fulfillment orders, fulfillmentCreate and its refusals (userErrors with HTTP 200)."""

from __future__ import annotations

from typing import Any

from .conftest import SHOP, Shopify

ORDER = """
query($id: ID!) {
  order(id: $id) {
    id updatedAt displayFulfillmentStatus
    fulfillmentOrders(first: 5) { nodes {
      id status requestStatus supportedActions { action }
      assignedLocation { location { id } }
      fulfillmentHolds { reason reasonNotes }
      lineItems(first: 10) { nodes { id totalQuantity remainingQuantity lineItem { id sku } } }
    } }
    fulfillments(first: 10) {
      id status createdAt
      trackingInfo { company number url }
      fulfillmentLineItems(first: 10) { nodes { quantity lineItem { sku } } }
    }
  }
}
"""

CREATE = """
mutation($f: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $f, message: "shipped") {
    fulfillment { id status trackingInfo { company number url } order { displayFulfillmentStatus } }
    userErrors { field message }
  }
}
"""


def read(api: Shopify, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = api.data(ORDER, {"id": order_id})["order"]
    return order


def fos(order: dict[str, Any]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = order["fulfillmentOrders"]["nodes"]
    return nodes


def create(api: Shopify, groups: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    r = api.gql(CREATE, {"f": {"lineItemsByFulfillmentOrder": groups, **extra}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["fulfillmentCreate"]
    return payload


def group(fo: dict[str, Any], *quantities: tuple[int, int]) -> dict[str, Any]:
    """The FulfillmentOrderLineItemsInput for `fo`: (line index, quantity) pairs, or all lines when none."""
    lines = fo["lineItems"]["nodes"]
    out: dict[str, Any] = {"fulfillmentOrderId": fo["id"]}
    if quantities:
        out["fulfillmentOrderLineItems"] = [{"id": lines[i]["id"], "quantity": q} for i, q in quantities]
    return out


def test_fulfillment_orders_carry_what_a_fulfiller_needs(api: Shopify) -> None:
    created = api.order([("WOMEN-RED-M", 2), ("LED-WHT", 1)])
    order = read(api, created["id"])
    (fo,) = fos(order)
    assert fo["status"] == "OPEN"
    assert fo["requestStatus"] == "UNSUBMITTED"
    assert [a["action"] for a in fo["supportedActions"]] == ["CREATE_FULFILLMENT", "HOLD", "MOVE"]
    assert fo["fulfillmentHolds"] == []
    assert fo["assignedLocation"]["location"]["id"].startswith("gid://shopify/Location/")
    lines = fo["lineItems"]["nodes"]
    assert [(li["lineItem"]["sku"], li["totalQuantity"], li["remainingQuantity"]) for li in lines] == [
        ("WOMEN-RED-M", 2, 2),
        ("LED-WHT", 1, 1),
    ]
    assert all(li["id"].startswith("gid://shopify/FulfillmentOrderLineItem/") for li in lines)
    assert all(li["lineItem"]["id"].startswith("gid://shopify/LineItem/") for li in lines)
    one = api.data("query($id: ID!) { fulfillmentOrder(id: $id) { id status orderId orderName } }", {"id": fo["id"]})
    assert one["fulfillmentOrder"] == {
        "id": fo["id"],
        "status": "OPEN",
        "orderId": created["id"],
        "orderName": created["name"],
    }
    listed = api.data("{ fulfillmentOrders(first: 250) { nodes { id status } } }")["fulfillmentOrders"]["nodes"]
    assert {"id": fo["id"], "status": "OPEN"} in listed
    assert all(n["status"] not in ("CLOSED", "CANCELLED") for n in listed)


def test_partial_then_complete_fulfillment(api: Shopify) -> None:
    created = api.order([("WOMEN-RED-M", 3)])
    before = api.level("WOMEN-RED-M")
    order = read(api, created["id"])
    (fo,) = fos(order)
    api.client.post("/sandbox/clock", json={"advance": 120})
    tracking = {
        "company": "UPS",
        "number": "1Z999AA10123456784",
        "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
    }
    result = create(api, [group(fo, (0, 2))], trackingInfo=tracking, notifyCustomer=True)
    assert result["userErrors"] == []
    assert result["fulfillment"]["status"] == "SUCCESS"
    assert result["fulfillment"]["trackingInfo"] == [tracking]
    assert result["fulfillment"]["order"]["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    after = read(api, created["id"])
    (fo_after,) = fos(after)
    assert fo_after["status"] == "IN_PROGRESS"
    assert fo_after["lineItems"]["nodes"][0]["remainingQuantity"] == 1
    assert after["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert after["updatedAt"] > order["updatedAt"]
    # Shipping takes the units out of committed, so on_hand drops and available stays.
    level = api.level("WOMEN-RED-M")
    assert (level["committed"], level["on_hand"], level["available"]) == (
        before["committed"] - 2,
        before["on_hand"] - 2,
        before["available"],
    )
    # No line items: everything left in the fulfillment order.
    rest = create(api, [{"fulfillmentOrderId": fo["id"]}], trackingInfo={"company": "USPS", "number": "9400"})
    assert rest["userErrors"] == []
    assert rest["fulfillment"]["trackingInfo"][0]["url"] == "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400"
    done = read(api, created["id"])
    (closed,) = fos(done)
    assert closed["status"] == "CLOSED"
    assert closed["supportedActions"] == []
    assert closed["lineItems"]["nodes"][0]["remainingQuantity"] == 0
    assert done["displayFulfillmentStatus"] == "FULFILLED"
    assert [f["trackingInfo"][0]["number"] for f in done["fulfillments"]] == ["1Z999AA10123456784", "9400"]
    assert [f["fulfillmentLineItems"]["nodes"][0]["quantity"] for f in done["fulfillments"]] == [2, 1]
    numeric = created["id"].rsplit("/", 1)[1]
    listed = api.client.get(
        f"/sandbox/orders/{numeric}/fulfillments", params={"tracking_number": "1Z999AA10123456784"}
    ).json()
    assert listed["count"] == 1
    assert listed["fulfillments"][0]["line_items"][0] == {
        "sku": "WOMEN-RED-M",
        "quantity": 2,
        "line_item_id": created["lines"][0]["line_item_id"],
        "fulfillment_order_line_item_id": fo["lineItems"]["nodes"][0]["id"],
    }
    assert listed["fulfillments"][0]["notify_customer"] is True
    again = create(api, [{"fulfillmentOrderId": fo["id"]}])
    assert again["fulfillment"] is None
    assert again["userErrors"] == [
        {
            "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderId"],
            "message": f"Fulfillment order {fo['id']} has an unfulfillable status= closed.",
        }
    ]


def test_quantity_above_remaining_is_refused_and_nothing_changes(api: Shopify) -> None:
    created = api.order([("LED-WHT", 2)])
    (fo,) = fos(read(api, created["id"]))
    result = create(api, [group(fo, (0, 3))])
    assert result == {
        "fulfillment": None,
        "userErrors": [
            {
                "field": [
                    "fulfillment",
                    "lineItemsByFulfillmentOrder",
                    "0",
                    "fulfillmentOrderLineItems",
                    "0",
                    "quantity",
                ],
                "message": "Invalid fulfillment order line item quantity requested.",
            }
        ],
    }
    zero = create(api, [group(fo, (0, 0))])
    assert zero["userErrors"][0]["message"] == "Invalid fulfillment order line item quantity requested."
    (after,) = fos(read(api, created["id"]))
    assert after["lineItems"]["nodes"][0]["remainingQuantity"] == 2
    assert read(api, created["id"])["fulfillments"] == []


def test_an_order_line_item_id_is_not_a_fulfillment_order_line_item_id(api: Shopify) -> None:
    created = api.order([("LED-WHT", 1)])
    (fo,) = fos(read(api, created["id"]))
    line_item_id = fo["lineItems"]["nodes"][0]["lineItem"]["id"]
    result = create(
        api, [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [{"id": line_item_id, "quantity": 1}]}]
    )
    assert result["fulfillment"] is None
    (err,) = result["userErrors"]
    assert err["field"] == ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", "0", "id"]
    assert err["message"].startswith("Fulfillment order line item does not exist.")
    assert "LineItem id" in err["message"]
    # The same number under the right type would have worked: the sandbox decides by the GID's type.
    other = api.order([("LED-WHT", 1)])
    (other_fo,) = fos(read(api, other["id"]))
    foreign = create(
        api,
        [
            {
                "fulfillmentOrderId": fo["id"],
                "fulfillmentOrderLineItems": [{"id": other_fo["lineItems"]["nodes"][0]["id"], "quantity": 1}],
            }
        ],
    )
    assert foreign["userErrors"] == [
        {
            "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", "0", "id"],
            "message": "Fulfillment order line item does not exist.",
        }
    ]


def test_on_hold_cancelled_and_scheduled_fulfillment_orders_are_refused(api: Shopify) -> None:
    held = api.order([("YOGA-PUR", 1)])
    fo_id = held["fulfillment_orders"][0]["id"]
    api.control("POST", f"fulfillment-orders/{fo_id.rsplit('/', 1)[1]}/hold", reason="INCORRECT_ADDRESS", notes="apt?")
    (fo,) = fos(read(api, held["id"]))
    assert fo["status"] == "ON_HOLD"
    assert [a["action"] for a in fo["supportedActions"]] == ["RELEASE_HOLD", "MOVE"]
    assert fo["fulfillmentHolds"] == [{"reason": "INCORRECT_ADDRESS", "reasonNotes": "apt?"}]
    assert read(api, held["id"])["displayFulfillmentStatus"] == "ON_HOLD"
    refused = create(api, [{"fulfillmentOrderId": fo_id}])
    assert refused["userErrors"][0]["message"] == f"Fulfillment order {fo_id} has an unfulfillable status= on_hold."
    api.control("POST", f"fulfillment-orders/{fo_id.rsplit('/', 1)[1]}/release")
    assert create(api, [{"fulfillmentOrderId": fo_id}])["userErrors"] == []

    cancelled = api.order([("YOGA-TEAL", 2)])
    api.control("POST", f"orders/{cancelled['id'].rsplit('/', 1)[1]}/cancel", reason="customer")
    cfo = cancelled["fulfillment_orders"][0]["id"]
    result = create(api, [{"fulfillmentOrderId": cfo}])
    assert result["userErrors"][0]["message"] == f"Fulfillment order {cfo} has an unfulfillable status= cancelled."

    scheduled = api.order([("CAST-12IN", 1)], state="scheduled")
    sfo = scheduled["fulfillment_orders"][0]
    assert sfo["status"] == "SCHEDULED"
    result = create(api, [{"fulfillmentOrderId": sfo["id"]}])
    assert (
        result["userErrors"][0]["message"] == f"Fulfillment order {sfo['id']} has an unfulfillable status= scheduled."
    )


def test_one_call_covers_one_order_at_one_location(api: Shopify) -> None:
    lines = [
        {"sku": "WOMEN-RED-M", "quantity": 1, "location": "Main Warehouse"},
        {"sku": "LED-WHT", "quantity": 1, "location": "West Coast DC"},
    ]
    split = api.client.post("/sandbox/orders", json={"shop": SHOP, "lines": lines}).json()
    a, b = fos(read(api, split["id"]))
    assert a["assignedLocation"] != b["assignedLocation"]
    result = create(api, [{"fulfillmentOrderId": a["id"]}, {"fulfillmentOrderId": b["id"]}])
    assert result == {
        "fulfillment": None,
        "userErrors": [
            {
                "field": ["fulfillment", "lineItemsByFulfillmentOrder"],
                "message": "All fulfillment orders must be assigned to a single location.",
            }
        ],
    }
    other = api.order([("WOMEN-RED-M", 1)])
    (c,) = fos(read(api, other["id"]))
    result = create(api, [{"fulfillmentOrderId": a["id"]}, {"fulfillmentOrderId": c["id"]}])
    assert result["userErrors"][0]["message"] == "All fulfillment orders must belong to the same order."
    # Each location on its own works, and the order is fulfilled only after both.
    assert create(api, [{"fulfillmentOrderId": a["id"]}])["fulfillment"]["order"]["displayFulfillmentStatus"] == (
        "PARTIALLY_FULFILLED"
    )
    assert create(api, [{"fulfillmentOrderId": b["id"]}])["fulfillment"]["order"]["displayFulfillmentStatus"] == (
        "FULFILLED"
    )


def test_unknown_or_wrongly_typed_fulfillment_order_ids(api: Shopify) -> None:
    created = api.order([("LED-WHT", 1)])
    for wrong in (created["id"], "gid://shopify/FulfillmentOrder/1", "nonsense"):
        result = create(api, [{"fulfillmentOrderId": wrong}])
        assert result["userErrors"] == [
            {
                "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderId"],
                "message": "Fulfillment order does not exist.",
            }
        ], wrong
    assert create(api, [])["userErrors"][0]["field"] == ["fulfillment", "lineItemsByFulfillmentOrder"]


def test_fulfillment_needs_the_merchant_managed_write_scope(shopify: Shopify) -> None:
    shopify.install("read_orders,read_merchant_managed_fulfillment_orders,write_fulfillments")
    created = shopify.order([("LED-WHT", 1)])
    r = shopify.gql(
        CREATE, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": created["fulfillment_orders"][0]["id"]}]}}
    )
    body = r.json()
    assert r.status_code == 200
    assert body["data"]["fulfillmentCreate"] is None
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_merchant_managed_fulfillment_orders" in body["errors"][0]["message"]
    numeric = created["id"].rsplit("/", 1)[1]
    assert shopify.client.get(f"/sandbox/orders/{numeric}/fulfillments").json()["count"] == 0


def test_seeded_orders_have_fulfillments_behind_their_shipped_units(api: Shopify) -> None:
    orders = api.client.get("/sandbox/orders", params={"shop": SHOP}).json()["orders"]
    for o in orders:
        order = read(api, o["id"]) if o["display_fulfillment_status"] != "UNFULFILLED" else None
        if order is None or o["cancelled_at"]:
            continue
        shipped = sum(li["fulfilled_quantity"] for li in o["lines"])
        assert sum(n["quantity"] for f in order["fulfillments"] for n in f["fulfillmentLineItems"]["nodes"]) == shipped
