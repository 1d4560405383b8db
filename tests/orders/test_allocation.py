"""Allocation a seller can predict: without a rule an order ships from a warehouse that has all of it in stock (the
store's ranking, then the warehouse linked to the order's TikTok warehouse, then the others); a make-to-order
supplier takes only the SKUs it supplies, and only when no stock can ship the order; an order whose SKUs come from
different places is held with that reason; orders waiting at a supplier move to stock when it arrives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from erp.actors import Actor
from erp.models import Organization
from erp.tenancy import organization_scope
from inventory import services as inventory
from inventory.models import Reservation, WarehouseKind
from orders.models import HoldReason, Order, OrderHold, OrderLine
from orders.stock import Demand, DemandLine, allocate
from tests.factories import (
    LabelPurchaseFactory,
    ListingFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
    SkuSupplierFactory,
    StockLevelFactory,
    StoreFactory,
    StoreWarehouseFactory,
    WarehouseFactory,
    WarehouseLinkFactory,
)

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


@pytest.fixture
def org(tenant: Any) -> Iterator[Organization]:
    with organization_scope(tenant.organization):
        yield tenant.organization


@pytest.fixture
def shop(org: Organization) -> dict[str, Any]:
    """The seller of the issue: an own warehouse with 40 candles in stock, and a make-to-order supplier whose name
    sorts first (the old fallback order was by name, so it took every order)."""
    store = StoreFactory(organization=org, name="GlowCraft US")
    cast = SkuFactory(organization=org, code="CAST-12IN")
    wick = SkuFactory(organization=org, code="WICK-50")
    own = WarehouseFactory(organization=org, name="GlowCraft Reno", kind=WarehouseKind.OWN)
    supplier = WarehouseFactory(
        organization=org, name="Candle Supply Co", kind=WarehouseKind.SUPPLIER, tracks_stock=False
    )
    StockLevelFactory(organization=org, sku=cast, warehouse=own, on_hand=40, bin_location="A-01-1")
    SkuSupplierFactory(organization=org, sku=wick, warehouse=supplier)
    return {"store": store, "cast": cast, "wick": wick, "own": own, "supplier": supplier}


def order_of(shop: dict[str, Any], *codes: str, ship_in_hours: int = 24, platform_warehouse_id: str = "") -> Order:
    store = shop["store"]
    order = OrderFactory(
        organization=store.organization,
        store=store,
        ship_by=timezone.now() + timedelta(hours=ship_in_hours),
        platform_warehouse_id=platform_warehouse_id,
    )
    for code in codes:
        line = OrderLineFactory(organization=store.organization, order=order, seller_sku=code)
        ListingFactory(
            organization=store.organization,
            store=store,
            platform_sku_id=line.sku_id,
            seller_sku=code,
            sku=shop["cast"] if code == "CAST-12IN" else shop["wick"],
        )
    return order


def allocate_orders(shop: dict[str, Any], *orders: Order) -> dict[Any, dict[str, str]]:
    """What an import does once it has written the orders."""
    demands = [
        Demand(
            order.pk,
            order.status,
            False,
            order.platform_warehouse_id,
            tuple(
                DemandLine(line.sku_id, line.seller_sku, line.product_id, line.product_name, False, line.quantity)
                for line in OrderLine.objects.filter(order=order)
            ),
        )
        for order in orders
    ]
    holds = allocate(store=shop["store"], demands=demands)
    for order in orders:
        order.refresh_from_db()
    return holds


def test_without_a_rule_an_order_ships_from_the_warehouse_that_has_the_stock(shop: dict[str, Any]) -> None:
    order = order_of(shop, "CAST-12IN", "CAST-12IN")
    assert allocate_orders(shop, order) == {}
    assert order.warehouse == shop["own"]
    assert order.warehouse_chosen_by == "allocation"
    assert "GlowCraft Reno has all of it in stock" in order.warehouse_reason
    assert Reservation.objects.get(order_id=order.pk).quantity == 2


def test_a_make_to_order_supplier_takes_only_what_it_supplies_and_says_why(shop: dict[str, Any]) -> None:
    wick = order_of(shop, "WICK-50")
    cast = order_of(shop, "CAST-12IN")
    assert allocate_orders(shop, wick, cast) == {}
    assert wick.warehouse == shop["supplier"]
    assert "Candle Supply Co supplies every SKU in it (make to order)" in wick.warehouse_reason
    assert cast.warehouse == shop["own"]


def test_a_supplier_of_the_sku_takes_it_only_when_no_stock_can_ship_it(shop: dict[str, Any]) -> None:
    SkuSupplierFactory(organization=shop["store"].organization, sku=shop["cast"], warehouse=shop["supplier"])
    in_stock = order_of(shop, *["CAST-12IN"] * 40)
    beyond_stock = order_of(shop, "CAST-12IN")
    allocate_orders(shop, in_stock, beyond_stock)
    assert in_stock.warehouse == shop["own"]
    assert beyond_stock.warehouse == shop["supplier"]


def test_an_order_whose_skus_come_from_different_places_is_held_with_that_reason(shop: dict[str, Any]) -> None:
    order = order_of(shop, "CAST-12IN", "WICK-50")
    holds = allocate_orders(shop, order)
    assert holds == {
        order.pk: {
            HoldReason.MIXED_SOURCES: "Its SKUs ship from different places: CAST-12IN from GlowCraft Reno; "
            "WICK-50 from Candle Supply Co."
        }
    }
    assert order.warehouse is None
    assert not Reservation.objects.filter(order_id=order.pk).exists()


def test_the_store_ranking_comes_before_the_linked_tiktok_warehouse(shop: dict[str, Any]) -> None:
    org = shop["store"].organization
    linked = WarehouseFactory(organization=org, name="Austin", kind=WarehouseKind.OWN)
    StockLevelFactory(organization=org, sku=shop["cast"], warehouse=linked, on_hand=5)
    WarehouseLinkFactory(organization=org, store=shop["store"], warehouse=linked, platform_warehouse_id="TT-1")
    by_link = order_of(shop, "CAST-12IN", platform_warehouse_id="TT-1")
    allocate_orders(shop, by_link)
    assert by_link.warehouse == linked
    assert "linked to the order's TikTok warehouse" in by_link.warehouse_reason

    StoreWarehouseFactory(organization=org, store=shop["store"], warehouse=shop["own"], rank=1)
    by_rank = order_of(shop, "CAST-12IN", platform_warehouse_id="TT-1")
    allocate_orders(shop, by_rank)
    assert by_rank.warehouse == shop["own"]
    assert "comes first in GlowCraft US's warehouse ranking" in by_rank.warehouse_reason


def test_a_re_import_leaves_an_order_at_its_supplier(shop: dict[str, Any]) -> None:
    order = order_of(shop, "WICK-50")
    allocate_orders(shop, order)
    inventory.stock_receive(sku=shop["wick"], warehouse=shop["own"], quantity=10, actor=ACTOR)  # no event run
    allocate_orders(shop, order)
    assert order.warehouse == shop["supplier"]
    assert not Reservation.objects.filter(order_id=order.pk).exists()


def test_stock_arriving_moves_orders_waiting_at_the_supplier_soonest_ship_by_first(
    shop: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    later = order_of(shop, "WICK-50", ship_in_hours=30)
    sooner = order_of(shop, "WICK-50", ship_in_hours=5)
    bought = order_of(shop, "WICK-50", ship_in_hours=1)
    allocate_orders(shop, later, sooner, bought)
    LabelPurchaseFactory(organization=bought.organization, order=bought, store=shop["store"])

    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_receive(sku=shop["wick"], warehouse=shop["own"], quantity=1, actor=ACTOR, reason="PO 7")
    for order in (later, sooner, bought):
        order.refresh_from_db()
    assert sooner.warehouse == shop["own"]
    assert sooner.warehouse_reason.startswith("Stock arrived: GlowCraft Reno has all of it in stock")
    assert "It was waiting at Candle Supply Co." in sooner.warehouse_reason
    assert Reservation.objects.get(order_id=sooner.pk).warehouse == shop["own"]
    assert later.warehouse == shop["supplier"]  # one unit arrived: the sooner deadline got it
    assert bought.warehouse == shop["supplier"]  # its label is bought: it stays where the label says


def test_a_rules_choice_of_supplier_stands_when_stock_arrives(
    shop: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = order_of(shop, "WICK-50")
    allocate_orders(shop, order)
    Order.objects.filter(pk=order.pk).update(warehouse_chosen_by="rule")
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_receive(sku=shop["wick"], warehouse=shop["own"], quantity=5, actor=ACTOR)
    order.refresh_from_db()
    assert order.warehouse == shop["supplier"]


def test_stock_arriving_releases_a_mixed_sources_hold(
    shop: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = order_of(shop, "CAST-12IN", "WICK-50")
    holds = allocate_orders(shop, order)
    OrderHold.objects.create(organization=order.organization, order=order, reason=HoldReason.MIXED_SOURCES, detail="x")
    Order.objects.filter(pk=order.pk).update(is_held=True)
    assert HoldReason.MIXED_SOURCES in holds[order.pk]
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_receive(sku=shop["wick"], warehouse=shop["own"], quantity=3, actor=ACTOR)
    order.refresh_from_db()
    assert not order.is_held
    assert order.warehouse == shop["own"]
    assert not OrderHold.objects.filter(order=order, released_at=None).exists()
