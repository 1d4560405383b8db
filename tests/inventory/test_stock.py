"""The stock ledger and reservations: never oversold, always explained."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from erp.actors import Actor
from erp.ids import uuid7
from erp.tenancy import organization_scope
from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement, WarehouseKind
from inventory.selectors import ledger_mismatches
from tests.factories import BundleComponentFactory, SkuFactory, SkuSupplierFactory, WarehouseFactory

ACTOR = Actor.system("test")


@pytest.fixture
def stock(tenant: Any) -> Any:
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization, name="Reno")
        sku = SkuFactory(organization=tenant.organization, code="MUG-RED")
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=10, actor=ACTOR, reference="PO-1")
        yield tenant, warehouse, sku


def level(sku: Any, warehouse: Any) -> StockLevel:
    return StockLevel.unscoped.get(sku=sku, warehouse=warehouse)


@pytest.mark.django_db
def test_reserve_release_and_ship_move_stock_and_write_the_ledger(stock: Any) -> None:
    tenant, warehouse, sku = stock
    with organization_scope(tenant.organization):
        shipped_order, cancelled_order = uuid7(), uuid7()
        for order in (shipped_order, cancelled_order):
            result = services.order_reserve(
                order_id=order, demand={sku.pk: 3}, warehouse_ids=[warehouse.pk], actor=ACTOR
            )
            assert result.warehouse_id == warehouse.pk
        assert (level(sku, warehouse).on_hand, level(sku, warehouse).reserved) == (10, 6)
        services.orders_release(order_ids=[cancelled_order], actor=ACTOR, reason="cancelled")
        services.orders_ship(order_ids=[shipped_order], actor=ACTOR)
        assert (level(sku, warehouse).on_hand, level(sku, warehouse).reserved) == (7, 0)
        kinds = list(StockMovement.objects.order_by("created_at").values_list("kind", flat=True))
        assert kinds == ["receipt", "reservation", "reservation", "release", "shipment"]
        assert ledger_mismatches() == []
    call_command("stock_check")


@pytest.mark.django_db
def test_reserving_twice_for_one_order_holds_units_once(stock: Any) -> None:
    tenant, warehouse, sku = stock
    with organization_scope(tenant.organization):
        order = uuid7()
        for _ in range(3):
            services.order_reserve(order_id=order, demand={sku.pk: 4}, warehouse_ids=[warehouse.pk], actor=ACTOR)
        assert level(sku, warehouse).reserved == 4
        assert Reservation.objects.filter(order_id=order).count() == 1


@pytest.mark.django_db
def test_an_order_that_cannot_ship_whole_anywhere_reserves_nothing(stock: Any) -> None:
    tenant, warehouse, sku = stock
    with organization_scope(tenant.organization):
        other = SkuFactory(organization=tenant.organization, code="MUG-BLUE")
        services.stock_receive(sku=other, warehouse=warehouse, quantity=1, actor=ACTOR)
        result = services.order_reserve(
            order_id=uuid7(), demand={sku.pk: 2, other.pk: 2}, warehouse_ids=[warehouse.pk], actor=ACTOR
        )
        assert result.warehouse_id is None
        assert result.short == {other.pk: 1}
        assert level(sku, warehouse).reserved == 0


@pytest.mark.django_db
def test_the_second_warehouse_takes_what_the_first_cannot_ship(stock: Any) -> None:
    tenant, reno, sku = stock
    with organization_scope(tenant.organization):
        dallas = WarehouseFactory(organization=tenant.organization, name="Dallas")
        services.stock_receive(sku=sku, warehouse=dallas, quantity=50, actor=ACTOR)
        result = services.order_reserve(
            order_id=uuid7(), demand={sku.pk: 20}, warehouse_ids=[reno.pk, dallas.pk], actor=ACTOR
        )
        assert result.warehouse_id == dallas.pk


@pytest.mark.django_db
def test_a_bundle_reserves_its_components(stock: Any) -> None:
    tenant, warehouse, sku = stock
    with organization_scope(tenant.organization):
        kit = BundleComponentFactory(organization=tenant.organization, component=sku, quantity=2).bundle
        services.order_reserve(order_id=uuid7(), demand={kit.pk: 3}, warehouse_ids=[warehouse.pk], actor=ACTOR)
        assert level(sku, warehouse).reserved == 6
        assert not StockLevel.objects.filter(sku=kit).exists()


@pytest.mark.django_db
def test_a_make_to_order_supplier_takes_only_orders_of_skus_it_supplies(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        supplier = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.SUPPLIER, tracks_stock=False)
        supplied, other = SkuFactory(organization=tenant.organization), SkuFactory(organization=tenant.organization)
        SkuSupplierFactory(organization=tenant.organization, sku=supplied, warehouse=supplier)

        result = services.order_reserve(
            order_id=uuid7(), demand={supplied.pk: 5}, warehouse_ids=[supplier.pk], actor=ACTOR
        )
        assert result.warehouse_id == supplier.pk
        assert not Reservation.objects.exists()

        refused = services.order_reserve(
            order_id=uuid7(), demand={supplied.pk: 1, other.pk: 1}, warehouse_ids=[supplier.pk], actor=ACTOR
        )
        assert refused.warehouse_id is None


@pytest.mark.django_db
def test_a_supplier_of_every_component_supplies_the_bundle(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        supplier = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.SUPPLIER, tracks_stock=False)
        kit = BundleComponentFactory(organization=tenant.organization).bundle
        second = BundleComponentFactory(organization=tenant.organization, bundle=kit).component
        first = kit.components.exclude(component=second).get().component
        SkuSupplierFactory(organization=tenant.organization, sku=first, warehouse=supplier)
        assert services.supplied_by(sku_ids=[kit.pk], warehouse_ids=[supplier.pk]) == {supplier.pk: set()}
        SkuSupplierFactory(organization=tenant.organization, sku=second, warehouse=supplier)
        assert services.supplied_by(sku_ids=[kit.pk], warehouse_ids=[supplier.pk]) == {supplier.pk: {kit.pk}}


@pytest.mark.django_db
def test_bad_changes_are_refused_with_a_reason_and_change_nothing(stock: Any) -> None:
    tenant, warehouse, sku = stock
    with organization_scope(tenant.organization):
        services.order_reserve(order_id=uuid7(), demand={sku.pk: 8}, warehouse_ids=[warehouse.pk], actor=ACTOR)
        with pytest.raises(ValidationError, match="reserved for orders"):
            services.stock_count(sku=sku, warehouse=warehouse, counted=5, actor=ACTOR)
        with pytest.raises(ValidationError, match="reserved for orders"):
            services.stock_adjust(sku=sku, warehouse=warehouse, delta=-5, actor=ACTOR, reason="damaged")
        with pytest.raises(ValidationError, match="Say why"):
            services.stock_adjust(sku=sku, warehouse=warehouse, delta=1, actor=ACTOR, reason=" ")
        fbt = WarehouseFactory(
            organization=tenant.organization, kind=WarehouseKind.PLATFORM, platform="tiktok", name="TikTok FBT"
        )
        with pytest.raises(ValidationError, match="FBT"):
            services.stock_receive(sku=sku, warehouse=fbt, quantity=1, actor=ACTOR)
        assert (level(sku, warehouse).on_hand, level(sku, warehouse).reserved) == (10, 8)
        assert ledger_mismatches() == []


@pytest.mark.django_db
def test_the_check_command_catches_a_level_changed_behind_the_ledgers_back(stock: Any) -> None:
    _, warehouse, sku = stock
    StockLevel.unscoped.filter(sku=sku, warehouse=warehouse).update(on_hand=11)
    with pytest.raises(Exception, match="disagree with the ledger"):
        call_command("stock_check")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_workers_racing_for_the_last_units_never_oversell(tenant: Any) -> None:
    """20 concurrent reservations of 1 unit each for the last 7 units: exactly 7 win, on real PostgreSQL."""
    organization = tenant.organization
    with organization_scope(organization):
        warehouse = WarehouseFactory(organization=organization)
        sku = SkuFactory(organization=organization)
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=7, actor=ACTOR)
    start = threading.Barrier(20)
    wins: list[bool] = []

    def worker() -> None:
        try:
            with organization_scope(organization):
                start.wait()
                result = services.order_reserve(
                    order_id=uuid7(), demand={sku.pk: 1}, warehouse_ids=[warehouse.pk], actor=ACTOR
                )
                wins.append(result.warehouse_id is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 7
    assert wins.count(False) == 13
    stock_level = StockLevel.unscoped.get(sku=sku, warehouse=warehouse)
    assert (stock_level.on_hand, stock_level.reserved) == (7, 7)
    assert Reservation.unscoped.filter(sku=sku).count() == 7
    with organization_scope(organization):
        assert ledger_mismatches() == []
