"""The stock ledger and reservations: never oversold, always explained."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, models
from django.test.utils import CaptureQueriesContext

from erp.actors import Actor
from erp.ids import uuid7
from erp.tenancy import organization_scope
from inventory import services, statements
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


@pytest.mark.django_db
def test_the_statements_send_ids_as_the_field_would() -> None:
    """The reservation statements prepare ids without asking the connection each time: the same value and type as
    `UUIDField.get_db_prep_value` (a UUID on PostgreSQL, its hex on SQLite), from a UUID, its text, its hex or None."""
    field, uuid = models.UUIDField(), uuid7()
    for value in (uuid, str(uuid), uuid.hex, None):
        expected = field.get_db_prep_value(value, connection)
        assert (statements._db(value), type(statements._db(value))) == (expected, type(expected)), value


@pytest.mark.django_db
def test_a_page_of_orders_takes_the_same_few_statements_as_one_order(stock: Any) -> None:
    """One read of the orders' reservations, bundles and warehouses, one locked read of the levels, one UPDATE, one
    ledger INSERT, one reservations INSERT, the three writes sent together on PostgreSQL: however many orders and
    SKUs (docs/adr/0029)."""
    tenant, warehouse, sku = stock
    with organization_scope(tenant.organization):
        other = SkuFactory(organization=tenant.organization)
        services.stock_receive(sku=other, warehouse=warehouse, quantity=100, actor=ACTOR)
        with CaptureQueriesContext(connection) as one:
            services.order_reserve(
                order_id=uuid7(), demand={sku.pk: 1, other.pk: 1}, warehouse_ids=[warehouse.pk], actor=ACTOR
            )
        page = [
            services.ReservationRequest(order_id=uuid7(), demand={sku.pk: 1, other.pk: 2}, warehouse_ids=[warehouse.pk])
            for _ in range(9)
        ]
        with CaptureQueriesContext(connection) as many:
            results = services.orders_reserve(requests=page, actor=ACTOR)
        assert all(result.warehouse_id == warehouse.pk for result in results)
        statements = [q["sql"] for q in one.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        if connection.vendor == "postgresql":  # the writes in one round trip
            assert len(statements) == 3, statements
            assert [part.split(" ", 1)[0] for part in statements[-1].split("; ")] == ["UPDATE", "INSERT", "INSERT"]
        else:
            assert len(statements) == 5, statements
        assert len(many.captured_queries) == len(one.captured_queries)
        assert (level(sku, warehouse).reserved, level(other, warehouse).reserved) == (10, 19)
        assert StockMovement.objects.filter(kind="reservation").count() == 20
        assert ledger_mismatches() == []


@pytest.mark.django_db
def test_a_page_decides_its_orders_in_turn_and_reserves_an_order_listed_twice_once(stock: Any) -> None:
    tenant, warehouse, sku = stock  # 10 units
    with organization_scope(tenant.organization):
        first, second, third = uuid7(), uuid7(), uuid7()
        results = services.orders_reserve(
            requests=[
                services.ReservationRequest(order_id=order, demand={sku.pk: units}, warehouse_ids=[warehouse.pk])
                for order, units in ((first, 6), (second, 5), (first, 6), (third, 4))
            ],
            actor=ACTOR,
        )
        assert [r.warehouse_id for r in results] == [warehouse.pk, None, warehouse.pk, warehouse.pk]
        assert results[1].short == {sku.pk: 1}  # after the first order's 6, 4 are left
        assert level(sku, warehouse).reserved == 10
        assert Reservation.objects.filter(order_id=first).get().quantity == 6
        assert ledger_mismatches() == []
        services.orders_release(order_ids=[first, third], actor=ACTOR, reason="cancelled")
        # An order refused, then listed again with less: tried again with its new demand, as one by one.
        retried = uuid7()
        results = services.orders_reserve(
            requests=[
                services.ReservationRequest(order_id=retried, demand={sku.pk: units}, warehouse_ids=[warehouse.pk])
                for units in (11, 2)
            ],
            actor=ACTOR,
        )
        assert [r.warehouse_id for r in results] == [None, warehouse.pk]
        assert Reservation.objects.get(order_id=retried).quantity == 2


@pytest.mark.django_db
def test_a_page_that_fails_half_way_changes_nothing(stock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Levels, ledger and reservations are written in one transaction: the database refusing the reservations
    INSERT, after the UPDATE of the levels and the ledger INSERT ran, leaves the books as they were."""
    tenant, warehouse, sku = stock
    insert = services.statements._insert

    def refused(model: Any, rows: Any) -> Any:
        sql, params = insert(model, rows)
        return (sql.replace('"quantity"', '"no_such_column"') if model is Reservation else sql), params

    monkeypatch.setattr(services.statements, "_insert", refused)
    with organization_scope(tenant.organization):
        with pytest.raises(DatabaseError, match="no_such_column"):
            services.orders_reserve(
                requests=[
                    services.ReservationRequest(order_id=uuid7(), demand={sku.pk: 2}, warehouse_ids=[warehouse.pk])
                ]
                * 3,
                actor=ACTOR,
            )
        assert (level(sku, warehouse).on_hand, level(sku, warehouse).reserved) == (10, 0)
        assert not StockMovement.objects.filter(kind="reservation").exists()
        assert ledger_mismatches() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pages_and_single_orders_racing_for_the_last_units_never_oversell(tenant: Any) -> None:
    """Pages of orders (one set of locks each) and single orders race for the last 7 units of two SKUs, on real
    PostgreSQL: exactly 7 orders win, no worker deadlocks, and the books agree."""
    organization = tenant.organization
    with organization_scope(organization):
        warehouse = WarehouseFactory(organization=organization)
        mug, lid = SkuFactory(organization=organization), SkuFactory(organization=organization)
        for sku in (mug, lid):
            services.stock_receive(sku=sku, warehouse=warehouse, quantity=7, actor=ACTOR)
    start = threading.Barrier(12)
    wins: list[bool] = []
    errors: list[BaseException] = []

    def demand(n: int) -> dict[object, int]:  # both key orders: the locks are taken in one order anyway
        return {mug.pk: 1, lid.pk: 1} if n % 2 else {lid.pk: 1, mug.pk: 1}

    def page_worker(n: int) -> None:
        try:
            with organization_scope(organization):
                start.wait()
                page = [
                    services.ReservationRequest(order_id=uuid7(), demand=demand(n + i), warehouse_ids=[warehouse.pk])
                    for i in range(3)
                ]
                wins.extend(r.warehouse_id is not None for r in services.orders_reserve(requests=page, actor=ACTOR))
        except BaseException as error:  # a deadlock or a constraint violation fails the test below
            errors.append(error)
        finally:
            connection.close()

    def single_worker(n: int) -> None:
        try:
            with organization_scope(organization):
                start.wait()
                result = services.order_reserve(
                    order_id=uuid7(), demand=demand(n), warehouse_ids=[warehouse.pk], actor=ACTOR
                )
                wins.append(result.warehouse_id is not None)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=page_worker, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=single_worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (wins.count(True), wins.count(False)) == (7, 13)
    for sku in (mug, lid):
        stock_level = StockLevel.unscoped.get(sku=sku, warehouse=warehouse)
        assert (stock_level.on_hand, stock_level.reserved) == (7, 7)
    with organization_scope(organization):
        assert Reservation.objects.count() == 14
        assert ledger_mismatches() == []
