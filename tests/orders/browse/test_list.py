"""The order list's filters, search, sort, keyset pages and tab counts (through the API, which shares the FilterSet
and the selectors with the dashboard)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from erp.db import PlannerStatistics
from erp.tenancy import organization_scope
from orders import selectors
from orders.models import HoldReason, Order, OrderStatus
from orders.services import IMPORTED_TABLES
from tests.factories import OrderHoldFactory, OrderLineFactory, StoreFactory
from tests.plans import rows_handled

pytestmark = pytest.mark.django_db


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["external_id"] for row in response.json()["results"]]


def test_status_tabs_list_what_they_name(make_order: Any, api: Any) -> None:
    make_order(external_id="A1", status=OrderStatus.AWAITING_SHIPMENT)
    make_order(external_id="A2", status=OrderStatus.PARTIALLY_SHIPPING)
    make_order(external_id="H1", status=OrderStatus.ON_HOLD)
    make_order(external_id="D1", status=OrderStatus.DELIVERED)
    make_order(external_id="D2", status=OrderStatus.COMPLETED)
    make_order(external_id="C1", status=OrderStatus.CANCELLED)
    make_order(external_id="X1", status=OrderStatus.AWAITING_SHIPMENT, is_held=True)

    assert sorted(ids(api(status="to_ship"))) == ["A1", "A2", "X1"]
    assert ids(api(status="on_hold")) == ["H1"]
    assert ids(api(status="held")) == ["X1"]
    assert sorted(ids(api(status="delivered"))) == ["D1", "D2"]
    assert ids(api(status="CANCELLED")) == ["C1"]  # a platform status works too
    assert len(ids(api(status="all"))) == len(ids(api())) == 7


def test_counts_respect_every_filter_but_the_status(tenant: Any, make_order: Any, api: Any) -> None:
    other = StoreFactory(organization=tenant.organization, name="Second shop")
    make_order(status=OrderStatus.AWAITING_SHIPMENT)
    make_order(status=OrderStatus.AWAITING_SHIPMENT, is_held=True)
    make_order(status=OrderStatus.ON_HOLD)
    make_order(status=OrderStatus.DELIVERED)
    make_order(status=OrderStatus.COMPLETED)
    make_order(status=OrderStatus.AWAITING_SHIPMENT, store=other)

    counts = api("counts/", status="cancelled").json()  # the status is ignored: each tab shows what it would list
    assert counts["to_ship"] == 3
    assert counts["held"] == 1
    assert counts["on_hold"] == 1
    assert counts["delivered"] == 2
    assert counts["cancelled"] == 0
    assert counts["all"] == 6
    assert counts["at_least"] == []

    only_other = api("counts/", store=str(other.pk)).json()
    assert only_other["to_ship"] == 1
    assert only_other["all"] == 1


def test_big_tabs_are_counted_up_to_a_cap(tenant: Any, make_order: Any) -> None:
    for _ in range(3):
        make_order(status=OrderStatus.COMPLETED)
    make_order(status=OrderStatus.AWAITING_SHIPMENT)

    with organization_scope(tenant.organization):
        counts = selectors.status_counts(Order.objects.all(), cap=2)

    assert counts.tabs["delivered"] == 2
    assert counts.tabs["to_ship"] == 1
    assert counts.capped == {"delivered", "all"}
    assert counts.label("delivered") == "2+"
    assert counts.label("to_ship") == "1"


def test_search_by_order_id_buyer_tracking_and_sku(make_order: Any, api: Any) -> None:
    by_id = make_order(external_id="576461413038785752", recipient_name="Dana Kim")
    make_order(external_id="576461499999999999", recipient_name="Lee Park", tracking_number="9400111899223")
    skus = make_order(external_id="111", recipient_name="Sam Ortiz")
    OrderLineFactory(organization=by_id.organization, order=skus, seller_sku="BLUE-MUG")

    assert ids(api(q="576461413038785752")) == ["576461413038785752"]  # exact
    assert sorted(ids(api(q="5764614"))) == ["576461413038785752", "576461499999999999"]  # prefix
    assert ids(api(q="dana k")) == ["576461413038785752"]  # name, any case, contains
    assert ids(api(q="9400111899223")) == ["576461499999999999"]  # tracking number, exact
    assert ids(api(q="940011")) == []  # tracking numbers are not searched by prefix
    assert ids(api(q="BLUE-MUG")) == ["111"]  # seller SKU, exact
    assert ids(api(q="nobody")) == []


def test_filters(tenant: Any, make_order: Any, api: Any) -> None:
    now = timezone.now()
    other = StoreFactory(organization=tenant.organization)
    soon = make_order(external_id="SOON", ship_by=now + timedelta(hours=3), platform_warehouse_id="WH1")
    make_order(external_id="LATE", ship_by=now - timedelta(hours=2))
    make_order(external_id="LATER", ship_by=now + timedelta(days=3), store=other)
    held = make_order(external_id="HELD", is_held=True, ship_by=now + timedelta(days=2))
    OrderHoldFactory(organization=tenant.organization, order=held, reason=HoldReason.ADDRESS_INVALID)
    OrderHoldFactory(
        organization=tenant.organization, order=soon, reason=HoldReason.OUT_OF_STOCK, released_at=now
    )  # released: no longer counts
    OrderLineFactory(organization=tenant.organization, order=held, seller_sku="RED-TEE-L")
    old = make_order(external_id="OLD", placed_at=now - timedelta(days=40), ship_by=None)

    assert ids(api(store=str(other.pk))) == ["LATER"]
    assert ids(api(hold=HoldReason.ADDRESS_INVALID)) == ["HELD"]
    assert ids(api(hold=HoldReason.OUT_OF_STOCK)) == []
    assert ids(api(warehouse="WH1")) == ["SOON"]
    assert ids(api(sku="RED-TEE-L")) == ["HELD"]
    assert ids(api(sku="RED-TEE")) == []  # exact
    assert ids(api(ship_within=24, ordering="ship_by")) == ["LATE", "SOON"]  # overdue included
    placed_day = timezone.localtime(old.placed_at, ZoneInfo(tenant.organization.time_zone)).date()  # local days
    assert ids(api(placed_to=(placed_day - timedelta(days=1)).isoformat())) == []
    assert ids(api(placed_from=placed_day.isoformat(), placed_to=placed_day.isoformat())) == ["OLD"]
    assert "OLD" not in ids(api(placed_from=(placed_day + timedelta(days=1)).isoformat()))


def test_invalid_filters_are_400_with_the_error_body(api: Any) -> None:
    response = api(status="nonsense", ship_within="soon")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"status", "ship_within"}
    assert api(cursor="garbage").status_code == 404


def test_sort_by_ship_by_puts_orders_without_a_deadline_last(make_order: Any, api: Any) -> None:
    now = timezone.now()
    make_order(external_id="NONE", ship_by=None, placed_at=now - timedelta(days=3))
    make_order(external_id="LATER", ship_by=now + timedelta(days=2), placed_at=now - timedelta(days=1))
    make_order(external_id="SOON", ship_by=now + timedelta(hours=2), placed_at=now - timedelta(days=2))

    assert ids(api(status="to_ship")) == ["SOON", "LATER", "NONE"]  # open orders: soonest deadline by default
    assert ids(api(ordering="ship_by")) == ["SOON", "LATER", "NONE"]
    assert ids(api(ordering="-placed_at")) == ["LATER", "SOON", "NONE"]
    assert ids(api(status="all")) == ["LATER", "SOON", "NONE"]  # closed or all: newest first by default
    assert ids(api(ordering="placed_at")) == ["NONE", "SOON", "LATER"]


@pytest.mark.parametrize("ordering", ["ship_by", "-placed_at", "placed_at"])
def test_keyset_pages_walk_every_order_once_forward_and_back(make_order: Any, api: Any, ordering: str) -> None:
    now = timezone.now()
    deadlines = [now + timedelta(hours=1), now + timedelta(hours=1), None, now - timedelta(hours=5), None]
    for n in range(11):  # ties and NULLs on purpose
        make_order(external_id=f"O{n:02}", ship_by=deadlines[n % 5], placed_at=deadlines[(n + 2) % 5] or now)
    expected = ids(api(ordering=ordering, page_size=100))
    assert len(expected) == 11

    seen, pages, response = [], [], api(ordering=ordering, page_size=3)
    while True:
        pages.append(ids(response))
        seen += pages[-1]
        if not response.json()["next"]:
            break
        response = api(response.json()["next"])
    assert seen == expected
    assert [len(p) for p in pages] == [3, 3, 3, 2]

    back = []
    while response.json()["previous"]:
        response = api(response.json()["previous"])
        back.insert(0, ids(response))
    assert back == pages[:-1]


def test_one_list_holds_every_channels_orders_and_filters_by_channel(tenant: Any, make_order: Any, api: Any) -> None:
    shopify = StoreFactory(organization=tenant.organization, platform="shopify", name="Glow Shopify")
    make_order(external_id="T1")
    make_order(external_id="S1", store=shopify)
    assert sorted(ids(api())) == ["S1", "T1"]
    assert ids(api(channel="shopify")) == ["S1"]
    assert ids(api(channel="tiktok")) == ["T1"]
    assert api(channel="etsy").status_code == 400
    page = tenant.client.get("/orders/", {"status": "all"})
    assert "Shopify · Glow Shopify" in page.content.decode()


@pytest.mark.parametrize("ordering", ["-placed_at", "ship_by"])
def test_search_pages_walk_every_match_once_in_order_with_the_other_filters(
    tenant: Any, make_order: Any, api: Any, ordering: str
) -> None:
    """The search runs inside the keyset page (each branch cut to the page, then the whole orders fetched): page
    after page it must list exactly what the search as a plain condition lists, in the same order."""
    now = timezone.now()
    expected = []
    for i in range(23):
        order = make_order(
            external_id=f"7700{i:03d}",
            recipient_name="Dana Kim" if i % 3 else "Lee Park",
            placed_at=now - timedelta(hours=i % 7),  # ties on the sort key: the id breaks them
            ship_by=None if i % 5 == 0 else now + timedelta(hours=i % 4),
            status=OrderStatus.AWAITING_SHIPMENT if i % 4 else OrderStatus.DELIVERED,
        )
        if i % 2:  # matched by two branches (name and SKU "kim"): listed once
            OrderLineFactory(organization=tenant.organization, order=order, seller_sku="kim")
        if i % 3 or i % 2:
            expected.append(order)
    with organization_scope(tenant.organization):
        plain = [
            o.external_id
            for o in Order.objects.filter(selectors.search_condition("kim")).order_by(
                *selectors.ORDERINGS[ordering].order_by()
            )
        ]
    assert sorted(plain) == sorted(o.external_id for o in expected)

    listed, response = [], api(q="kim", ordering=ordering, page_size=4)
    while True:
        listed += ids(response)
        if not response.json()["next"]:
            break
        response = api(response.json()["next"])
    assert listed == plain

    to_ship = ids(api(q="kim", ordering=ordering, status="to_ship", page_size=100))
    assert to_ship == [e for e in plain if Order.unscoped.get(external_id=e).status == OrderStatus.AWAITING_SHIPMENT]

    back = api(q="kim", ordering=ordering, page_size=4)
    forward = api(back.json()["next"])
    assert ids(api(forward.json()["previous"])) == ids(back)  # "previous" from page 2 is page 1


@pytest.mark.parametrize("ordering", ["-placed_at", "placed_at", "ship_by"])
def test_sku_pages_walk_every_order_with_the_sku_once_in_order(
    tenant: Any, make_tenant: Any, make_order: Any, api: Any, ordering: str
) -> None:
    """By placement time the SKU's page is read through its lines (docs/adr/0039): page after page, forward and
    back, in the API and the dashboard, it lists exactly what the SKU as a plain condition lists: once per order
    when the SKU is on two of its lines, with NULL and tied placement times, never another SKU's or tenant's."""
    now = timezone.now()
    stranger = make_tenant("Other seller")
    for i in range(19):
        order = make_order(
            external_id=f"8800{i:03d}",
            placed_at=None if i % 6 == 0 else now - timedelta(hours=i % 5),
            ship_by=None if i % 4 == 0 else now + timedelta(hours=i % 3),
            status=OrderStatus.AWAITING_SHIPMENT if i % 3 else OrderStatus.DELIVERED,
        )
        if i % 7 != 3:
            OrderLineFactory(organization=tenant.organization, order=order, seller_sku="MUG")
        if i % 2 and i % 7 != 3:  # a second line of the same SKU (another package)
            OrderLineFactory(organization=tenant.organization, order=order, seller_sku="MUG")
        OrderLineFactory(organization=tenant.organization, order=order, seller_sku="TEE")
    OrderLineFactory(organization=stranger.organization, seller_sku="MUG", order__placed_at=now)
    with organization_scope(tenant.organization):
        plain = [
            o.external_id
            for o in Order.objects.filter(selectors.sku_condition("MUG")).order_by(
                *selectors.ORDERINGS[ordering].order_by()
            )
        ]
    assert len(plain) == 16

    pages, response = [], api(sku="MUG", ordering=ordering, page_size=4)
    while True:
        pages.append(ids(response))
        if not response.json()["next"]:
            break
        response = api(response.json()["next"])
    assert [e for page in pages for e in page] == plain
    back = []
    while response.json()["previous"]:
        response = api(response.json()["previous"])
        back.insert(0, ids(response))
    assert back == pages[:-1]

    to_ship = ids(api(sku=" MUG ", ordering=ordering, status="to_ship", page_size=100))
    assert to_ship == [e for e in plain if Order.unscoped.get(external_id=e).status == OrderStatus.AWAITING_SHIPMENT]
    page = tenant.client.get("/orders/", {"sku": "MUG", "status": "all", "ordering": ordering})
    assert page.status_code == 200
    positions = [page.content.decode().find(e) for e in plain]  # every order with the SKU, in the same order
    assert -1 not in positions
    assert positions == sorted(positions)


@pytest.mark.postgres
def test_a_page_of_a_popular_sku_reads_its_page_not_every_order_with_it(tenant: Any, make_order: Any) -> None:
    """The newest page of a SKU on a thousand orders, behind a thousand newer orders of another SKU, handles about a
    page of rows, in the index's order: it used to fetch every order of the SKU to sort them, or walk the newer
    orders to reach them. The statistics are the ones an import of these orders leaves (erp.db.PlannerStatistics)."""
    now = timezone.now()
    with organization_scope(tenant.organization):
        for i in range(2_000):
            order = make_order(external_id=f"9900{i:04d}", placed_at=now - timedelta(minutes=i))
            OrderLineFactory(organization=tenant.organization, order=order, seller_sku="MUG" if i >= 1_000 else "TEE")
        PlannerStatistics(IMPORTED_TABLES).written(2_000)

        def first_page() -> list[Order]:
            return selectors.orders_page(Order.objects.all(), ordering="-placed_at", size=50, sku="MUG").orders

        assert [o.external_id for o in first_page()] == [f"9900{i:04d}" for i in range(1_000, 1_050)]
        assert rows_handled(first_page) < 300
