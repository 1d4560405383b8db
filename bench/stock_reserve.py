"""Reservation throughput under contention: two worker processes reserve stock for N orders (default 20,000)
competing for the same 200 SKUs on real PostgreSQL, then the books are checked.

    .venv/bin/python bench/stock_reserve.py [--quick] [--orders N]

Stock is deliberately short (about 80% of the demand), so workers fight over the last units. Afterwards: no stock
level below zero, reserved never above on hand, every level equal to its ledger, reservations equal to reserved.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, use_fresh_database

DATABASE = "dropline_bench_reserve"
SKUS = 200
WORKERS = 2


def _child(args: tuple[str, str, list[list[tuple[str, int]]], multiprocessing.Queue]) -> None:
    organization_id, warehouse_id, orders, results = args
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from erp.actors import Actor
    from erp.ids import uuid7
    from erp.models import Organization
    from erp.tenancy import organization_scope
    from inventory.services import order_reserve

    actor = Actor.system("bench worker")
    won = lost = 0
    with organization_scope(Organization.objects.get(pk=organization_id)):
        started = time.monotonic()
        for demand in orders:
            result = order_reserve(order_id=uuid7(), demand=dict(demand), warehouse_ids=[warehouse_id], actor=actor)
            if result.warehouse_id is None:
                lost += 1
            else:
                won += 1
        results.put((won, lost, time.monotonic() - started))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="4,000 orders: well under a minute")
    parser.add_argument("--orders", type=int, default=None)
    args = parser.parse_args()
    count = args.orders or (4_000 if args.quick else 20_000)

    use_fresh_database(DATABASE)
    from django.db.models import F, Sum

    from erp import services as erp_services
    from erp.actors import Actor
    from erp.models import User
    from erp.tenancy import organization_scope
    from inventory.models import Reservation, Sku, StockLevel, Warehouse
    from inventory.selectors import ledger_mismatches
    from inventory.services import stock_receive

    rng = random.Random(20261125)
    owner = User.objects.create_user(email="bench@example.com", password="x")
    organization = erp_services.organization_create(name="Bench Org", owner=owner)
    orders = [[(rng.randrange(SKUS), rng.randint(1, 3)) for _ in range(rng.randint(1, 2))] for _ in range(count)]
    demand_units = sum(units for order in orders for _, units in order)
    with organization_scope(organization):
        warehouse = Warehouse.objects.create(name="Bench DC")
        skus = [Sku.objects.create(code=f"BENCH-{n:03d}", name=f"Bench item {n}") for n in range(SKUS)]
        supply_per_sku = int(demand_units * 0.8 / SKUS)
        for sku in skus:
            stock_receive(sku=sku, warehouse=warehouse, quantity=supply_per_sku, actor=Actor.system("bench"))
    resolved = [[(str(skus[index].pk), units) for index, units in order] for order in orders]

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shards = [resolved[worker::WORKERS] for worker in range(WORKERS)]
    started = time.monotonic()
    processes = [
        context.Process(target=_child, args=((str(organization.pk), str(warehouse.pk), shard, results),))
        for shard in shards
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    wall = time.monotonic() - started

    with organization_scope(organization):
        below_zero = StockLevel.objects.filter(on_hand__lt=0).count()
        over_reserved = StockLevel.objects.filter(reserved__gt=F("on_hand")).count()
        mismatches = len(ledger_mismatches())
        reserved_total = StockLevel.objects.aggregate(total=Sum("reserved"))["total"] or 0
        reservations_total = Reservation.objects.aggregate(total=Sum("quantity"))["total"] or 0
    won = sum(o[0] for o in outcomes)
    lost = sum(o[1] for o in outcomes)
    print(
        json.dumps(
            {
                "bench": "stock_reserve",
                "orders": count,
                "skus": SKUS,
                "workers": WORKERS,
                "demand_units": demand_units,
                "supply_units": supply_per_sku * SKUS,
                "reserved_orders": won,
                "refused_orders": lost,
                "wall_seconds": round(wall, 2),
                "reservations_per_s": round(count / wall),
                "levels_below_zero": below_zero,
                "levels_reserved_over_on_hand": over_reserved,
                "ledger_mismatches": mismatches,
                "reserved_equals_reservations": reserved_total == reservations_total,
                "consistent": below_zero == 0
                and over_reserved == 0
                and mismatches == 0
                and reserved_total == reservations_total,
            }
        )
    )


if __name__ == "__main__":
    main()
