"""A worker SIGKILLed while it holds a page's row locks — its UPDATE and INSERTs sent, its COMMIT not — on real
PostgreSQL: nothing of the page stays, the locks go with the dead connection, and the next reservation takes the
units. The books agree throughout (docs/adr/0006, docs/adr/0029)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from erp.actors import Actor
from erp.ids import uuid7
from erp.tenancy import organization_scope
from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.selectors import ledger_mismatches
from tests.factories import SkuFactory, WarehouseFactory
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


@pytest.mark.postgres
@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_holding_a_pages_locks_leaves_nothing_and_blocks_no_one(tenant: Any, tmp_path: Path) -> None:
    organization = tenant.organization
    with organization_scope(organization):
        warehouse = WarehouseFactory(organization=organization)
        sku = SkuFactory(organization=organization)
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=7, actor=Actor.system("test"))
    marker = tmp_path / "page-written"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "erp.settings.local",
        **database_env(),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(organization.pk), str(sku.pk), str(warehouse.pk), str(marker)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("w"),
        start_new_session=True,
    )
    try:
        wait_for(marker.exists, 60, "the worker to write its page (uncommitted)")
        stock_level = StockLevel.unscoped.get(sku=sku, warehouse=warehouse)
        assert (stock_level.on_hand, stock_level.reserved) == (7, 0)  # nothing of it is visible yet
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()

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
