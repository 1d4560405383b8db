"""Order lines carry a quantity: the units of one SKU in one state are one row that keeps every unit's platform line
id; a re-import that splits or merges units never counts a unit twice; the migration merges stored unit rows and
splits them back."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, migrations

from erp.models import Organization
from erp.tenancy import organization_scope
from integrations.interface import FulfilledBy, LabelSource, OrderStatus, PlatformOrder, PlatformOrderLine
from integrations.models import Store
from orders.models import Order, OrderLine
from orders.services import orders_upsert
from tests.factories import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db
merge_units = importlib.import_module("orders.migrations.0010_orderline_merge_units")
PLACED = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def org(tenant: Any) -> Iterator[Organization]:
    with organization_scope(tenant.organization):
        yield tenant.organization


def line(*line_ids: str, package_id: str = "", package_status: str = "TO_FULFILL") -> PlatformOrderLine:
    return PlatformOrderLine(
        line_ids=line_ids,
        quantity=len(line_ids),
        sku_id="2729",
        product_id="1729",
        seller_sku="RED-TEE-L",
        product_name="Crew tee",
        package_id=package_id,
        package_status=package_status,
    )


def import_order(store: Store, *lines: PlatformOrderLine, minutes: int) -> Order:
    order = PlatformOrder(
        platform="tiktok",
        order_id="576461413038785752",
        status=OrderStatus.AWAITING_SHIPMENT,
        label_source=LabelSource.PLATFORM,
        fulfilled_by=FulfilledBy.SELLER,
        lines=lines,
        address=None,
        created_at=PLACED,
        updated_at=PLACED + timedelta(minutes=minutes),
    )
    orders_upsert(store=store, orders=[order])
    return Order.objects.get(store=store, external_id=order.order_id)


def rows(order: Order) -> list[tuple[str, int, list[str], str]]:
    return list(
        OrderLine.objects.filter(order=order)
        .order_by("external_id")
        .values_list("external_id", "quantity", "platform_line_ids", "package_id")
    )


def test_units_split_by_a_package_and_merged_again_are_never_counted_twice(org: Organization) -> None:
    store = StoreFactory(organization=org)

    order = import_order(store, line("L2", "L1", "L3"), minutes=1)
    assert rows(order) == [("L1", 3, ["L1", "L2", "L3"], "")]
    assert (order.unit_count, order.sku_summary) == (3, "3 × RED-TEE-L")

    order = import_order(store, line("L1", package_id="P1"), line("L2", "L3"), minutes=2)
    assert rows(order) == [("L1", 1, ["L1"], "P1"), ("L2", 2, ["L2", "L3"], "")]

    order = import_order(store, line("L1", "L2", "L3", package_id="P1"), minutes=3)
    assert rows(order) == [("L1", 3, ["L1", "L2", "L3"], "P1")]
    assert order.unit_count == 3


def test_the_migration_merges_unit_rows_alike_and_splits_them_back(org: Organization) -> None:
    order = OrderFactory(organization=org)
    for external_id, package_id in (("L3", ""), ("L1", ""), ("L2", "P1")):
        OrderLineFactory(organization=org, order=order, external_id=external_id, sku_id="2729", package_id=package_id)
    OrderLine.objects.filter(order=order).update(platform_line_ids=[])  # as the schema migration leaves them

    merge_units.forwards(apps, None)
    assert rows(order) == [("L1", 2, ["L1", "L3"], ""), ("L2", 1, ["L2"], "P1")]

    merge_units.backwards(apps, None)
    assert rows(order) == [("L1", 1, ["L1"], ""), ("L2", 1, ["L2"], "P1"), ("L3", 1, ["L3"], "")]


def test_every_line_carries_its_orders_placement_time(org: Organization) -> None:
    """The SKU list reads a line's `placed_at` as its order's (docs/adr/0039): the import writes both, and the
    migration that added the column gave every stored line its order's."""
    store = StoreFactory(organization=org)
    order = import_order(store, line("L1", package_id="P1"), line("L2", "L3"), minutes=1)
    assert order.placed_at == PLACED
    assert set(OrderLine.objects.filter(order=order).values_list("placed_at", flat=True)) == {PLACED}

    unplaced = OrderFactory(organization=org, store=store, placed_at=None)
    OrderLineFactory(organization=org, order=unplaced)
    OrderLine.objects.update(placed_at=datetime(2020, 1, 1, tzinfo=UTC))  # as stored before the column existed
    migration = importlib.import_module("orders.migrations.0018_orderline_placed_at").Migration
    (backfill,) = [op for op in migration.operations if isinstance(op, migrations.RunSQL)]
    with connection.cursor() as cursor:
        cursor.execute(backfill.sql)
    assert set(OrderLine.objects.filter(order=order).values_list("placed_at", flat=True)) == {PLACED}
    assert list(OrderLine.objects.filter(order=unplaced).values_list("placed_at", flat=True)) == [None]
