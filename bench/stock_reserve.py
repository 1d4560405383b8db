"""Reservation throughput under contention: worker processes (default 2) reserve stock for N orders (default 20,000)
competing for the same 200 SKUs on real PostgreSQL, then the books are checked.

    .venv/bin/python bench/stock_reserve.py [--quick] [--orders N] [--workers N] [--batch N] [--database NAME]

Stock is deliberately short (about 80% of the demand), so workers fight over the last units. Afterwards, beat's
stock-push sweep runs once (`push_sweep_ms`: it turns the changed stock rows into listing marks, docs/adr/0040) and
leaves no row unswept; the books are checked: no stock level below zero, reserved never above on hand, every level
equal to its ledger, reservations equal to reserved.

The clock measures running workers, as `bench/label_batch.py`'s does: each worker process imports Django and opens
its database connection, as a Celery worker has before its first task, then all start together; the rate is the
orders over the time from that start to the last worker's last reservation. The time with the processes' start
(about a second of Python imports, paid once per worker, not per reservation) is printed too.

Each order is reserved on its own (`order_reserve`, as a re-allocation or a reroute does); with `--batch N` the same
orders are then reserved again, in a second organization with the same stock, N at a time (`orders_reserve`, as a
page of imported orders is). Queries per reservation are counted in the workers (every statement Django sends, by
`connection.execute_wrapper`; BEGIN/COMMIT are not statements there): the figure does not depend on load.
The database (dropped and created) is `--database`, else $BENCH_RESERVE_DATABASE, else dropline_bench_reserve.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, use_fresh_database

DATABASE = os.environ.get("BENCH_RESERVE_DATABASE", "dropline_bench_reserve")
SKUS = 200
TARGET_PER_S = 1_000  # issue 17: reservations per second with 2 workers


def _child(args: tuple[str, str, str, list[list[tuple[str, int]]], int, multiprocessing.Queue, Any]) -> None:
    database, organization_id, warehouse_id, orders, batch, results, start = args
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from erp.actors import Actor
    from erp.ids import uuid7
    from erp.models import Organization
    from erp.tenancy import organization_scope
    from inventory.services import order_reserve

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    def database_cpu() -> float | None:
        """CPU seconds this connection's PostgreSQL backend has used, when the server runs on this machine."""
        try:
            fields = Path(f"/proc/{connection.connection.get_backend_pid()}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    actor = Actor.system("bench worker")
    won = lost = 0
    with organization_scope(Organization.objects.get(pk=organization_id)):
        connection.ensure_connection()
        start.wait()  # every worker ready: the clock starts
        started, cpu_started, db_started = time.monotonic(), time.process_time(), database_cpu()
        with connection.execute_wrapper(count):
            if batch:
                from inventory.services import ReservationRequest, orders_reserve

                for start in range(0, len(orders), batch):
                    page = [
                        ReservationRequest(order_id=uuid7(), demand=dict(demand), warehouse_ids=[warehouse_id])
                        for demand in orders[start : start + batch]
                    ]
                    for result in orders_reserve(requests=page, actor=actor):
                        won += result.warehouse_id is not None
                        lost += result.warehouse_id is None
            else:
                for demand in orders:
                    result = order_reserve(
                        order_id=uuid7(), demand=dict(demand), warehouse_ids=[warehouse_id], actor=actor
                    )
                    won += result.warehouse_id is not None
                    lost += result.warehouse_id is None
        db_ended = database_cpu()
        db_cpu = None if db_started is None or db_ended is None else db_ended - db_started
        results.put((won, lost, time.monotonic() - started, statements, time.process_time() - cpu_started, db_cpu))


def _phase(
    *, name: str, orders: list[list[tuple[int, int]]], workers: int, batch: int, database: str
) -> dict[str, object]:
    """Seed an organization with a warehouse, the SKUs and 80% of the demand in stock; reserve `orders` with
    `workers` processes; check the books."""
    from django.db.models import F, Sum

    from erp import services as erp_services
    from erp.actors import Actor
    from erp.models import User
    from erp.tenancy import organization_scope
    from inventory.models import Reservation, Sku, StockLevel, Warehouse
    from inventory.selectors import ledger_mismatches
    from inventory.services import stock_receive

    owner = User.objects.create_user(email=f"bench-{name}@example.com", password="x")
    organization = erp_services.organization_create(name=f"Bench {name}", owner=owner)
    demand_units = sum(units for order in orders for _, units in order)
    supply_per_sku = int(demand_units * 0.8 / SKUS)
    with organization_scope(organization):
        warehouse = Warehouse.objects.create(name="Bench DC")
        skus = [Sku.objects.create(code=f"BENCH-{n:03d}", name=f"Bench item {n}") for n in range(SKUS)]
        for sku in skus:
            stock_receive(sku=sku, warehouse=warehouse, quantity=supply_per_sku, actor=Actor.system("bench"))
    resolved = [[(str(skus[index].pk), units) for index, units in order] for order in orders]

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = context.Barrier(workers + 1)
    shards = [resolved[worker::workers] for worker in range(workers)]
    processes = [
        context.Process(
            target=_child, args=((database, str(organization.pk), str(warehouse.pk), shard, batch, results, start),)
        )
        for shard in shards
    ]
    launched = time.monotonic()
    for process in processes:
        process.start()
    start.wait(timeout=120)
    started = time.monotonic()
    outcomes = [results.get() for _ in processes]
    ended = time.monotonic()
    for process in processes:
        process.join()
    running = ended - started  # from the moment every worker was ready to the last worker's last reservation
    wall = ended - launched  # with the workers' start (Python imports, Django setup, the connection)
    busy = max(outcome[2] for outcome in outcomes)  # from each worker's first reservation to its last

    # What beat's stock-push sweep then does with these reservations (docs/adr/0040): one pass over the stock rows
    # they changed, instead of a listings UPDATE after every reservation's commit.
    from inventory.push import changed_stock_mark

    swept = time.monotonic()
    changed_stock_mark()
    sweep_seconds = time.monotonic() - swept
    with organization_scope(organization):
        left_unswept = StockLevel.objects.filter(unpushed_since__isnull=False).count()
        below_zero = StockLevel.objects.filter(on_hand__lt=0).count()
        over_reserved = StockLevel.objects.filter(reserved__gt=F("on_hand")).count()
        mismatches = len(ledger_mismatches())
        reserved_total = StockLevel.objects.aggregate(total=Sum("reserved"))["total"] or 0
        reservations_total = Reservation.objects.aggregate(total=Sum("quantity"))["total"] or 0
    count = len(orders)
    return {
        "demand_units": demand_units,
        "supply_units": supply_per_sku * SKUS,
        "reserved_orders": sum(o[0] for o in outcomes),
        "refused_orders": sum(o[1] for o in outcomes),
        "wall_seconds": round(wall, 2),
        "running_seconds": round(running, 2),
        "reserving_seconds": round(busy, 2),
        "reservations_per_s": round(count / running),
        "reservations_per_s_with_workers_start": round(count / wall),
        "queries_per_reservation": round(sum(o[3] for o in outcomes) / count, 2),
        # The workers' own CPU (Python and the driver, not PostgreSQL's): what a busy machine does not change much.
        "worker_cpu_ms_per_reservation": round(sum(o[4] for o in outcomes) * 1000 / count, 3),
        # Their PostgreSQL backends' CPU (read from /proc when the server is on this machine, else null).
        "database_cpu_ms_per_reservation": None
        if any(o[5] is None for o in outcomes)
        else round(sum(o[5] for o in outcomes) * 1000 / count, 3),
        "push_sweep_ms": round(sweep_seconds * 1000, 1),
        "levels_left_unswept": left_unswept,
        "levels_below_zero": below_zero,
        "levels_reserved_over_on_hand": over_reserved,
        "ledger_mismatches": mismatches,
        "reserved_equals_reservations": reserved_total == reservations_total,
        "consistent": left_unswept == 0
        and below_zero == 0
        and over_reserved == 0
        and mismatches == 0
        and reserved_total == reservations_total,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="4,000 orders: well under a minute")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--batch", type=int, default=0, help="also reserve the orders N at a time (orders_reserve)")
    parser.add_argument("--database", default=DATABASE, help="dropped and created (default %(default)s)")
    args = parser.parse_args()
    count = args.orders or (4_000 if args.quick else 20_000)

    use_fresh_database(args.database)
    rng = random.Random(20261125)
    orders = [[(rng.randrange(SKUS), rng.randint(1, 3)) for _ in range(rng.randint(1, 2))] for _ in range(count)]
    single = _phase(name="single", orders=orders, workers=args.workers, batch=0, database=args.database)
    figures: dict[str, object] = {
        "bench": "stock_reserve",
        "orders": count,
        "skus": SKUS,
        "workers": args.workers,
        **single,
    }
    consistent = bool(single["consistent"])
    rates = [int(single["reservations_per_s"])]  # type: ignore[call-overload]
    if args.batch:
        batched = _phase(name="batch", orders=orders, workers=args.workers, batch=args.batch, database=args.database)
        figures["batch_size"] = args.batch
        figures["batch"] = batched
        figures["batch_reservations_per_s"] = batched["reservations_per_s"]
        figures["batch_queries_per_reservation"] = batched["queries_per_reservation"]
        consistent = consistent and bool(batched["consistent"])
        rates.append(int(batched["reservations_per_s"]))  # type: ignore[call-overload]
    figures["target_reservations_per_s"] = TARGET_PER_S
    figures["all_consistent"] = consistent
    # The target is for 2 workers at full size, on both paths (an order on its own, and a page at once); --quick
    # only checks the books.
    figures["meets_targets"] = consistent and (
        args.quick or (args.workers == 2 and all(rate >= TARGET_PER_S for rate in rates))
    )
    figures["ok"] = consistent
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
