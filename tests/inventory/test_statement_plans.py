"""The statements every reservation sends read what they need, not what the organization has: the rows PostgreSQL
handles for one order stay the same when the organization holds thousands of other reservations or listings
(docs/adr/0036).

The test database is never analysed unless a test says so, as a new table is not until autovacuum reaches it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from erp.ids import uuid7
from erp.tenancy import cross_tenant, organization_scope
from inventory import push, statements
from inventory.models import Listing, Reservation, StockLevel
from tests.factories import ListingFactory, SkuFactory, StoreFactory, WarehouseFactory
from tests.plans import rows_handled

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MANY = 3_000


def test_an_orders_reservation_lookup_reads_the_same_whatever_the_organization_holds(tenant: Any) -> None:
    """Before any statistics too: reservations pile up within seconds of a first import. The order looked up holds
    one (a re-allocation asks again), so no index lookup ends early on finding nothing."""
    with organization_scope(tenant.organization):
        sku = SkuFactory(organization=tenant.organization)
        warehouse = WarehouseFactory(organization=tenant.organization)
        held = Reservation.objects.create(order_id=uuid7(), sku=sku, warehouse=warehouse, quantity=1)

        def prelude() -> statements.Prelude:
            return statements.reservation_prelude(
                order_ids=[held.order_id], sku_ids=[sku.pk], warehouse_ids=[warehouse.pk]
            )

        alone = rows_handled(prelude)
        Reservation.objects.bulk_create(
            Reservation(organization=tenant.organization, order_id=uuid7(), sku=sku, warehouse=warehouse, quantity=1)
            for _ in range(MANY)
        )
        assert rows_handled(prelude) <= alone
        assert prelude().reserved_at == {held.order_id: warehouse.pk}


def test_marking_a_skus_listings_reads_the_same_whatever_the_catalog(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        sku = SkuFactory(organization=tenant.organization)
        listing = ListingFactory(organization=tenant.organization, sku=sku)
        later = iter(range(1, 10))

        def mark() -> object:  # a marker older than the coalescing window each time, so each call writes
            return push.listings_mark(sku_ids=[sku.pk], now=timezone.now() + timedelta(hours=next(later)))

        alone = rows_handled(mark)
        store = StoreFactory(organization=tenant.organization)
        Listing.objects.bulk_create(
            Listing(organization=tenant.organization, store=store, platform_sku_id=str(n), sku=None)
            for n in range(MANY)
        )
        with connection.cursor() as cursor:  # a catalog that has been there a while: autovacuum has analysed it
            cursor.execute("ANALYZE inventory_listing")
        assert rows_handled(mark) <= alone
        listing.refresh_from_db()
        assert listing.push_requested_at is not None


def test_the_push_sweep_reads_the_changed_stock_rows_not_every_stock_row(tenant: Any) -> None:
    """Beat runs it every five seconds for every organization: it must read the rows changed since the last sweep
    (a partial index holds only those), however many stock rows there are."""
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization)
        skus = SkuFactory.create_batch(2, organization=tenant.organization)
        StockLevel.objects.bulk_create(
            StockLevel(organization=tenant.organization, sku=sku, warehouse=warehouse, unpushed_since=timezone.now())
            for sku in skus
        )
        StockLevel.objects.bulk_create(  # stock that has not changed since it was last told
            StockLevel(organization=tenant.organization, sku=sku, warehouse=warehouse)
            for sku in SkuFactory.create_batch(MANY // 10, organization=tenant.organization)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inventory_stocklevel")
    with cross_tenant(reason="test: the sweep's own statement"):
        # One row taken by the call, the other by its replay under EXPLAIN ANALYZE.
        handled = rows_handled(lambda: statements.levels_unpushed_take(limit=1))
    assert handled <= 10
    assert not StockLevel.unscoped.filter(unpushed_since__isnull=False).exists()
