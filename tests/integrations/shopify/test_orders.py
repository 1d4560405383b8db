"""Orders in (notes §3): paging by update time with cursors, and every state the sandbox seeds translated, checked
against the sandbox's own view of each order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from integrations.interface import FulfilledBy, LabelSource, OrderStatus, PlatformOrder
from integrations.shopify import translate
from integrations.shopify.client import ORDERS_PAGE_SIZE
from tests.integrations.shopify.conftest import SHOP, Sandbox

EXPECTED_STATUS = {
    "UNFULFILLED": OrderStatus.AWAITING_SHIPMENT,
    "PARTIALLY_FULFILLED": OrderStatus.PARTIALLY_SHIPPING,
    "FULFILLED": OrderStatus.IN_TRANSIT,
    "ON_HOLD": OrderStatus.ON_HOLD,  # not to ship until Shopify releases it
    "SCHEDULED": OrderStatus.ON_HOLD,
}


def _numeric(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def _all_orders(sandbox: Sandbox, channel: Any, since: datetime) -> tuple[list[PlatformOrder], int]:
    orders: list[PlatformOrder] = []
    cursor = None
    pages = 0
    while True:
        page = channel.list_changed_orders(since=since, cursor=cursor)
        orders += page.orders()
        pages += 1
        if page.next_cursor is None:
            return orders, pages
        cursor = page.next_cursor


def test_paging_by_update_time_reaches_every_order_once(sandbox: Sandbox, tokens: Any) -> None:
    since = datetime.now(tz=UTC) - timedelta(days=100)
    orders, pages = _all_orders(sandbox, sandbox.channel(tokens), since)

    seeded = sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"]
    assert sorted(o.order_id for o in orders) == sorted(_numeric(o["id"]) for o in seeded)
    assert pages == -(-len(seeded) // ORDERS_PAGE_SIZE) > 1
    updated = [o.updated_at for o in orders]
    assert updated == sorted(updated)  # oldest update first

    sent = sandbox.recorder.graphql("DroplineOrders")
    assert len(sent) == pages
    assert "sortKey: UPDATED_AT" in sent[0]["query"]
    assert [b["variables"]["first"] for b in sent] == [ORDERS_PAGE_SIZE] * pages
    assert {b["variables"]["query"] for b in sent} == {f"updated_at:>='{since:%Y-%m-%dT%H:%M:%S}Z'"}
    answers = [a.json()["data"]["orders"]["pageInfo"] for a in sandbox.recorder.answers("DroplineOrders")]
    # Each page asks after the previous page's endCursor; the last page says there is no next one.
    assert [b["variables"]["after"] for b in sent] == [None, *[a["endCursor"] for a in answers[:-1]]]
    assert not answers[-1]["hasNextPage"]


def test_since_leaves_out_what_did_not_change(sandbox: Sandbox, tokens: Any) -> None:
    newest = max(o["updated_at"] for o in sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"])
    since = translate.parse_time(newest)
    assert since is not None
    page = sandbox.channel(tokens).list_changed_orders(since=since)
    assert page.listed
    assert all(o.updated_at is not None and o.updated_at >= since for o in page.orders())
    assert page.next_cursor is None


def test_until_leaves_out_what_changed_at_or_after_it(sandbox: Sandbox, tokens: Any) -> None:
    seeded = sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"]
    times = sorted({translate.parse_time(o["updated_at"]) for o in seeded} - {None})
    assert len(times) > 2
    until = times[len(times) // 2]
    since = datetime.now(tz=UTC) - timedelta(days=100)
    orders: list[PlatformOrder] = []
    cursor = None
    while True:
        page = sandbox.channel(tokens).list_changed_orders(since=since, until=until, cursor=cursor)
        orders += page.orders()
        if (cursor := page.next_cursor) is None:
            break
    before = [o for o in seeded if (t := translate.parse_time(o["updated_at"])) is not None and t < until]
    assert sorted(o.order_id for o in orders) == sorted(_numeric(o["id"]) for o in before)
    sent = sandbox.recorder.graphql("DroplineOrders")[-1]["variables"]["query"]
    assert sent == f"updated_at:>='{since:%Y-%m-%dT%H:%M:%S}Z' updated_at:<'{until:%Y-%m-%dT%H:%M:%S}Z'"


def _expected_lines(summary: dict[str, Any]) -> list[tuple[str, int, str, str, str]]:
    """(line id, quantity, package status, package id, tracking) from the sandbox's own view of an order."""
    cancelled = summary["cancelled_at"] is not None
    shipped: dict[str, list[tuple[str, int, str]]] = {}
    for f in summary["fulfillments"]:
        if f["status"] != "SUCCESS":
            continue
        number = f["tracking"][0]["number"] if f["tracking"] else ""
        for item in f["line_items"]:
            shipped.setdefault(_numeric(item["line_item_id"]), []).append((_numeric(f["id"]), item["quantity"], number))
    rows = []
    for line in summary["lines"]:
        line_id = _numeric(line["line_item_id"])
        count = line["current_quantity"] or (line["quantity"] if cancelled else 0)
        if count <= 0:
            continue
        for fulfillment_id, quantity, number in shipped.get(line_id, []):
            rows.append((line_id, quantity, "COMPLETED", fulfillment_id, number))
            count -= quantity
        if count > 0:
            rows.append((line_id, count, "CANCELLED" if cancelled else "", "", ""))
    return sorted(rows)


def test_every_seeded_state_is_translated(sandbox: Sandbox, tokens: Any) -> None:
    orders, _ = _all_orders(sandbox, sandbox.channel(tokens), datetime.now(tz=UTC) - timedelta(days=100))
    by_id = {o.order_id: o for o in orders}
    states_seen = set()
    for brief in sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"]:
        summary = sandbox.control("GET", f"/sandbox/orders/{_numeric(brief['id'])}")
        order = by_id[_numeric(summary["id"])]
        status = summary["display_fulfillment_status"]
        expected = OrderStatus.CANCELLED if summary["cancelled_at"] else EXPECTED_STATUS[status]
        states_seen.add("cancelled" if summary["cancelled_at"] else "edited" if summary["edited"] else status)
        assert order.status == expected, summary["name"]
        got = sorted(
            (
                translate.line_item_id(line.line_ids[0]),
                line.quantity,
                line.package_status,
                line.package_id,
                line.tracking_number,
            )
            for line in order.lines
        )
        assert got == _expected_lines(summary), summary["name"]
        keys = [min(line.line_ids) for line in order.lines]  # how the core keys an order's lines
        assert len(set(keys)) == len(keys), summary["name"]
        assert (order.label_source, order.fulfilled_by, order.is_on_hold_order) == (
            LabelSource.SELLER,
            FulfilledBy.SELLER,
            False,
        )
        assert order.created_at == translate.parse_time(summary["created_at"])
        assert order.updated_at == translate.parse_time(summary["updated_at"])
        assert order.cancelled_at == translate.parse_time(summary["cancelled_at"])
        assert order.address is not None
        assert not order.address.is_masked
        assert order.totals is not None
        assert order.totals.currency == "USD"
        assert order.deadlines.ship_by is None  # Shopify sets no ship-by
        live = [_numeric(f["id"]) for f in summary["fulfillments"] if f["status"] == "SUCCESS"]
        assert sorted(order.package_ids) == sorted(live)
    assert {"UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED", "cancelled", "edited", "ON_HOLD"} <= states_seen


def test_a_partially_fulfilled_line_is_split_in_two(sandbox: Sandbox, tokens: Any) -> None:
    placed = sandbox.control(
        "POST", "/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "YOGA-PUR", "quantity": 3}]}
    )
    order_id = _numeric(placed["id"])
    sandbox.control(
        "POST",
        f"/sandbox/orders/{order_id}",
        json={"fulfill": {"YOGA-PUR": 2}, "tracking": {"company": "UPS", "number": "1Z999AA10123456784"}},
    )

    (order,) = sandbox.channel(tokens).get_orders([order_id])

    line_id = _numeric(placed["lines"][0]["line_item_id"])
    shipped, left = order.lines
    package = order.package_ids[0]
    # One line item, two parts: the units to ship keep its bare id, the parcel's carry "<line item>:<fulfillment>".
    assert (shipped.line_ids, shipped.quantity, shipped.package_status) == ((f"{line_id}:{package}",), 2, "COMPLETED")
    assert (shipped.tracking_number, shipped.carrier_name) == ("1Z999AA10123456784", "UPS")
    assert shipped.package_id == package
    assert (left.line_ids, left.quantity, left.package_status, left.package_id) == ((line_id,), 1, "", "")
    assert order.status == OrderStatus.PARTIALLY_SHIPPING
    assert shipped.seller_sku == "YOGA-PUR"
    assert shipped.sku_name == "Purple"
    assert shipped.product_name == "Yoga Mat Non-Slip 6mm"
    assert shipped.sale_price is not None
    assert shipped.sale_price.amount == Decimal("29.99")
    assert shipped.sale_price.currency == "USD"


def test_units_removed_by_an_edit_no_longer_count(sandbox: Sandbox, tokens: Any) -> None:
    placed = sandbox.control(
        "POST",
        "/sandbox/orders",
        json={"shop": SHOP, "lines": [{"sku": "CAST-12IN", "quantity": 3}, {"sku": "LED-WHT", "quantity": 1}]},
    )
    order_id = _numeric(placed["id"])
    sandbox.control("POST", f"/sandbox/orders/{order_id}", json={"remove": {"CAST-12IN": 1, "LED-WHT": 1}})

    (order,) = sandbox.channel(tokens).get_orders([order_id])

    assert [(line.seller_sku, line.quantity) for line in order.lines] == [("CAST-12IN", 2)]


def test_unpaid_and_authorized_orders(sandbox: Sandbox, tokens: Any) -> None:
    placed = sandbox.control("POST", "/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "LED-WHT"}]})
    order_id = _numeric(placed["id"])
    channel = sandbox.channel(tokens)
    for financial, expected in [
        ("PENDING", OrderStatus.UNPAID),
        ("PARTIALLY_PAID", OrderStatus.UNPAID),
        ("AUTHORIZED", OrderStatus.AWAITING_SHIPMENT),
        ("PAID", OrderStatus.AWAITING_SHIPMENT),
    ]:
        sandbox.control("POST", f"/sandbox/orders/{order_id}", json={"financial_status": financial})
        assert channel.get_orders([order_id])[0].status == expected, financial


def test_get_orders_keeps_the_order_asked_and_leaves_out_unknown_ids(sandbox: Sandbox, tokens: Any) -> None:
    ids = [_numeric(o["id"]) for o in sandbox.control("GET", "/sandbox/orders", params={"shop": SHOP})["orders"][:3]]
    wanted = [ids[2], "999", "not-an-id", ids[0], ids[2]]

    found = sandbox.channel(tokens).get_orders(wanted)

    assert [o.order_id for o in found] == [ids[2], ids[0]]
    sent = sandbox.recorder.graphql("DroplineOrder")
    assert [b["variables"] for b in sent] == [
        {"id": f"gid://shopify/Order/{ids[2]}"},
        {"id": "gid://shopify/Order/999"},
        {"id": f"gid://shopify/Order/{ids[0]}"},
    ]


def test_long_orders_are_completed_one_by_one(sandbox: Sandbox, tokens: Any) -> None:
    """More line items and fulfillments than a page reads: the rest is read for that order."""
    skus = sandbox.control("GET", "/sandbox/state")["shops"][0]["skus"][:12]
    placed = sandbox.control(
        "POST",
        "/sandbox/orders",
        json={"shop": SHOP, "location": "Main Warehouse", "lines": [{"sku": s} for s in skus]},
    )
    order_id = _numeric(placed["id"])
    for n, sku in enumerate(skus[:4]):
        tracking = {"company": "USPS", "number": f"9400100000000000000{n}"}
        sandbox.control("POST", f"/sandbox/orders/{order_id}", json={"fulfill": {sku: 1}, "tracking": tracking})

    (order,) = sandbox.channel(tokens).get_orders([order_id])

    assert sorted(line.seller_sku for line in order.lines) == sorted(skus)
    assert len(order.package_ids) == 4
    assert {line.tracking_number for line in order.lines if line.package_status == "COMPLETED"} == {
        f"9400100000000000000{n}" for n in range(4)
    }
    (more_lines,) = sandbox.recorder.graphql("DroplineOrderLines")
    assert more_lines["variables"]["id"] == f"gid://shopify/Order/{order_id}"
    assert more_lines["variables"]["after"]
    assert len(sandbox.recorder.graphql("DroplineOrderFulfillments")) == 1


def test_a_redacted_address_reads_as_masked() -> None:
    """Without protected customer data access Shopify nulls the buyer's name, street and phone (§2.6); the sandbox
    does not redact yet, so this one is the translation alone."""
    redacted = {
        "name": None,
        "company": None,
        "address1": None,
        "address2": None,
        "city": "Ottawa",
        "provinceCode": "ON",
        "zip": "K1A 0B1",
        "countryCodeV2": "CA",
        "phone": None,
    }
    address = translate.address_from_json(redacted)
    assert address is not None
    assert address.is_masked
    assert (address.city, address.state, address.postal_code, address.region_code) == ("Ottawa", "ON", "K1A 0B1", "CA")
    assert (address.name, address.line1, address.phone) == ("", "", "")
    assert translate.address_from_json(None) is None


@pytest.mark.parametrize(
    ("fulfillment", "financial", "cancelled", "expected"),
    [
        ("UNFULFILLED", "PAID", None, OrderStatus.AWAITING_SHIPMENT),
        ("RESTOCKED", "REFUNDED", None, OrderStatus.CANCELLED),
        ("FULFILLED", "PENDING", None, OrderStatus.IN_TRANSIT),
        ("UNFULFILLED", "PAID", "2026-01-01T00:00:00Z", OrderStatus.CANCELLED),
        ("SOMETHING_NEW", "PAID", None, OrderStatus.UNKNOWN),
        ("UNFULFILLED", "SOMETHING_NEW", None, OrderStatus.UNKNOWN),
        ("UNFULFILLED", "EXPIRED", None, OrderStatus.UNPAID),
    ],
)
def test_status_table(fulfillment: str, financial: str, cancelled: str | None, expected: OrderStatus) -> None:
    node = {
        "id": "gid://shopify/Order/1",
        "displayFulfillmentStatus": fulfillment,
        "displayFinancialStatus": financial,
        "cancelledAt": cancelled,
    }
    assert translate.order_status(node) == expected


def test_a_line_shipped_in_two_parcels_keeps_its_row_keys(sandbox: Sandbox, tokens: Any) -> None:
    """The core keys lines by their smallest id: the part that was "to ship" becomes the newest parcel's under the
    same bare id, the first parcel's part keeps its own."""
    placed = sandbox.control(
        "POST", "/sandbox/orders", json={"shop": SHOP, "lines": [{"sku": "YOGA-PUR", "quantity": 3}]}
    )
    order_id = _numeric(placed["id"])
    line_id = _numeric(placed["lines"][0]["line_item_id"])
    channel = sandbox.channel(tokens)
    keys = []
    for n, quantity in enumerate((0, 1, 2)):
        if quantity:
            tracking = {"company": "UPS", "number": f"1Z00000000000000{n}"}
            sandbox.control(
                "POST", f"/sandbox/orders/{order_id}", json={"fulfill": {"YOGA-PUR": quantity}, "tracking": tracking}
            )
        (order,) = channel.get_orders([order_id])
        keys.append({min(line.line_ids): (line.quantity, line.package_status) for line in order.lines})
    first = order.package_ids[0]
    assert keys == [
        {line_id: (3, "")},
        {f"{line_id}:{first}": (1, "COMPLETED"), line_id: (2, "")},
        {f"{line_id}:{first}": (1, "COMPLETED"), line_id: (2, "COMPLETED")},
    ]
