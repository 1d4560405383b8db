"""A worker SIGKILLed while it holds a page's row locks — its UPDATE and INSERTs sent, its COMMIT not — on real
PostgreSQL: nothing of the page stays, the locks go with the dead connection, and the next reservation takes the
units. The books agree throughout (docs/adr/0006, docs/adr/0029). And one SIGKILLed just after its COMMIT: the
change it committed still reaches the stock push (docs/adr/0040)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from erp.actors import Actor
from erp.ids import uuid7
from erp.models import Organization
from erp.tenancy import organization_scope
from inventory import push, services
from inventory.models import Listing, Reservation, Sku, StockLevel, StockMovement, Warehouse
from inventory.selectors import ledger_mismatches
from tests.factories import ListingFactory, SkuFactory, WarehouseFactory
from tests.workers import database_env, wait_for

# The doomed worker: reserves a page of two orders, and hangs once the page is written but not committed.
WORKER = """
import sys, time
import django

django.setup()
from erp.actors import Actor
from erp.ids import uuid7
from erp.models import Organization
from erp.tenancy import organization_scope
from inventory import services, statements

organization_id, sku_id, warehouse_id, marker = sys.argv[1:]
write = statements.stock_write


def write_then_hang(**rows):
    write(**rows)
    open(marker, "w").close()
    time.sleep(120)


statements.stock_write = write_then_hang
with organization_scope(Organization.objects.get(pk=organization_id)):
    services.orders_reserve(
        requests=[
            services.ReservationRequest(order_id=uuid7(), demand={sku_id: 3}, warehouse_ids=[warehouse_id])
            for _ in range(2)
        ],
        actor=Actor.system("doomed worker"),
    )
"""


@pytest.fixture
def seven_units(tenant: Any) -> tuple[Organization, Warehouse, Sku]:
    """An organization with one SKU, 7 units of it received at one warehouse."""
    organization = tenant.organization
    with organization_scope(organization):
        warehouse = WarehouseFactory(organization=organization)
        sku = SkuFactory(organization=organization)
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=7, actor=Actor.system("test"))
    return organization, warehouse, sku


@contextmanager
def _worker_killed_when(script: str, arguments: list[object], marker: Path, what: str) -> Iterator[None]:
    """Run `script` in a Python process of its own on the test's database, with `arguments` and then `marker` on its
    command line, until it creates `marker` and hangs; the block runs meanwhile, then the process is SIGKILLed."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "erp.settings.local",
        **database_env(),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", script, *map(str, arguments), str(marker)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(marker.parent / "worker.log").open("w"),
        start_new_session=True,
    )
    try:
        wait_for(marker.exists, 60, f"the worker: {what}")
        yield
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@pytest.mark.postgres
@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_holding_a_pages_locks_leaves_nothing_and_blocks_no_one(
    seven_units: tuple[Organization, Warehouse, Sku], tmp_path: Path
) -> None:
    organization, warehouse, sku = seven_units
    with _worker_killed_when(
        WORKER, [organization.pk, sku.pk, warehouse.pk], tmp_path / "page-written", "its page written (uncommitted)"
    ):
        stock_level = StockLevel.unscoped.get(sku=sku, warehouse=warehouse)
        assert (stock_level.on_hand, stock_level.reserved) == (7, 0)  # nothing of it is visible yet

    won: list[object] = []

    def reserve() -> None:
        try:
            with organization_scope(organization):
                result = services.order_reserve(
                    order_id=uuid7(), demand={sku.pk: 7}, warehouse_ids=[warehouse.pk], actor=Actor.system("test")
                )
                won.append(result.warehouse_id)
        finally:
            connection.close()

    survivor = threading.Thread(target=reserve)
    survivor.start()
    survivor.join(timeout=30)  # the dead worker's row locks went with its connection: no wait
    assert not survivor.is_alive(), "the reservation waited on the killed worker's locks"
    assert won == [warehouse.pk]
    stock_level = StockLevel.unscoped.get(sku=sku, warehouse=warehouse)
    assert (stock_level.on_hand, stock_level.reserved) == (7, 7)
    assert not StockMovement.unscoped.filter(actor_label="doomed worker").exists()
    assert Reservation.unscoped.filter(sku=sku).count() == 1
    with organization_scope(organization):
        assert ledger_mismatches() == []


# The worker stopped after its commit: reserves one order and hangs as the first thing that runs once its
# transaction committed (what used to mark the listings for the stock push ran there too).
COMMITTED_WORKER = """
import sys, time
import django

django.setup()
from django.db import transaction
from erp.actors import Actor
from erp.ids import uuid7
from erp.models import Organization
from erp.tenancy import organization_scope
from inventory import services

organization_id, sku_id, warehouse_id, marker = sys.argv[1:]


def hang_after_commit(sku_ids, *, freed):
    def hang():
        open(marker, "w").close()
        time.sleep(120)

    transaction.on_commit(hang)


services._announce = hang_after_commit
with organization_scope(Organization.objects.get(pk=organization_id)):
    services.order_reserve(
        order_id=uuid7(), demand={sku_id: 2}, warehouse_ids=[warehouse_id], actor=Actor.system("stopped worker")
    )
"""


@pytest.mark.postgres
@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_right_after_its_commit_still_has_its_change_pushed(
    seven_units: tuple[Organization, Warehouse, Sku], tmp_path: Path
) -> None:
    organization, warehouse, sku = seven_units
    listing = ListingFactory(organization=organization, sku=sku)
    push.changed_stock_mark()
    Listing.unscoped.filter(pk=listing.pk).update(push_requested_at=None)  # the receipt has been pushed
    arguments = [organization.pk, listing.sku_id, warehouse.pk]
    with _worker_killed_when(COMMITTED_WORKER, arguments, tmp_path / "committed", "its reservation committed"):
        pass

    stock_level = StockLevel.unscoped.get(sku=listing.sku, warehouse=warehouse)
    assert (stock_level.on_hand, stock_level.reserved) == (7, 2)  # committed
    assert Listing.unscoped.get(pk=listing.pk).push_requested_at is None  # nothing ran after the commit
    assert push.changed_stock_mark() == 1  # beat's sweep
    assert Listing.unscoped.get(pk=listing.pk).push_requested_at == stock_level.unpushed_since
    with organization_scope(organization):
        assert ledger_mismatches() == []
