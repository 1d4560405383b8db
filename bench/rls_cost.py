"""What row-level security costs: the same requests with the second tenancy wall off and on.

    .venv/bin/python bench/rls_cost.py [--quick] [--orders N] [--samples N]

Creates its own PostgreSQL database (`dropline_bench_rls`, dropped and recreated; BENCH_DATABASE_URL to change, as a
superuser), migrates it, runs `rls_setup` for an application role, and seeds 4 organizations with N orders each
(default 50,000; --quick: 2,000) plus a warehouse of stocked SKUs. Then it times, in alternating rounds:

* off: connected as the superuser (row-level security never binds it) and without the backend's scope copy, i.e. the
  application before ADR 0023;
* on: connected as the application role (bound by the FORCEd policies), the organization copied onto the connection.

Kinds: the order list page (GET /api/v1/orders/ with an API key), an order's detail (GET /api/v1/orders/<id>/),
a stock reservation (inventory.services.order_reserve in the organization's scope: row locks and writes), and the
raw count of the organization's orders (the policy on every row of an index scan, no HTTP around it). p50/p95 per kind
and mode, and the p50 overhead in percent. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dropline_bench_rls")
os.environ["DATABASE_URL"] = BENCH_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "erp.settings.local"
os.environ["DEBUG"] = "False"  # no query log: what production runs
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ["API_THROTTLE_RATE"] = "1000000/min"
os.environ.setdefault("LOG_LEVEL", "WARNING")

APP_ROLE = "dropline_bench_app"
APP_PASSWORD = "dropline-bench-app-only"  # a throwaway role for this benchmark's database
ORGANIZATIONS = 4
SKUS = 50


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recreate_database() -> None:
    import psycopg2

    url = urlparse(BENCH_URL)
    admin = psycopg2.connect(BENCH_URL.replace(url.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{url.path.lstrip("/")}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{url.path.lstrip("/")}"')
    admin.close()


def seed(orders_per_organization: int) -> list[dict[str, Any]]:
    """Each organization: a store, N orders bulk-inserted, a warehouse with SKUs in stock, a read API key."""
    from erp import services
    from erp.actors import Actor
    from erp.models import User
    from erp.roles import APIKeyScope
    from erp.tenancy import organization_scope
    from inventory.models import Sku, Warehouse
    from inventory.services import stock_receive
    from orders.models import Order
    from tests.factories import OrderFactory, StoreFactory

    tenants = []
    for n in range(ORGANIZATIONS):
        owner = User.objects.create_user(email=f"bench{n}@example.com", password="x")
        organization = services.organization_create(name=f"Bench Org {n}", owner=owner)
        _, api_key = services.api_key_create(
            organization=organization, actor=Actor.for_user(owner), name="bench", scope=APIKeyScope.WRITE
        )
        with organization_scope(organization):
            store = StoreFactory(organization=organization)
            template = OrderFactory.build(organization=organization, store=store)
            rows = []
            for i in range(orders_per_organization):
                order = Order(**{f.attname: getattr(template, f.attname) for f in Order._meta.concrete_fields})
                order.id = None
                order.external_id = f"{n}{i:017d}"
                rows.append(order)
            for order in rows:
                order.id = Order._meta.pk.get_default()
            Order.objects.bulk_create(rows, batch_size=2000)
            warehouse = Warehouse.objects.create(name="Bench DC")
            skus = [Sku.objects.create(code=f"BENCH-{k:03d}", name=f"Bench item {k}") for k in range(SKUS)]
            for sku in skus:
                stock_receive(sku=sku, warehouse=warehouse, quantity=1_000_000, actor=Actor.system("bench"))
        tenants.append(
            {
                "organization": organization,
                "api_key": api_key,
                "order_ids": [str(row.id) for row in random.Random(n).sample(rows, 200)],
                "warehouse_id": str(warehouse.pk),
                "sku_ids": [str(sku.pk) for sku in skus],
            }
        )
    return tenants


def use_mode(mode: str) -> None:
    """off: the superuser and no scope copy (before ADR 0023); on: the application role and the scope copy."""
    from django.db import connection

    connection.close()
    if mode == "on":
        connection.settings_dict.update(USER=APP_ROLE, PASSWORD=APP_PASSWORD)
        if connection._copy_scope not in connection.execute_wrappers:
            connection.execute_wrappers.insert(0, connection._copy_scope)
    else:
        url = urlparse(BENCH_URL)
        connection.settings_dict.update(USER=url.username, PASSWORD=url.password or "")
        if connection._copy_scope in connection.execute_wrappers:
            connection.execute_wrappers.remove(connection._copy_scope)
    connection._scope_on_connection = None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        (exempt,) = cursor.fetchone()
    if exempt != (mode == "off"):
        raise SystemExit(f"mode {mode}: the connected role is {'' if exempt else 'not '}exempt from RLS")


def kinds(tenants: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from erp.actors import Actor
    from erp.ids import uuid7
    from erp.tenancy import organization_scope
    from inventory.services import order_reserve

    client = Client()
    actor = Actor.system("bench")

    def order_list() -> None:
        tenant = rng.choice(tenants)
        response = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Api-Key {tenant['api_key']}")
        assert response.status_code == 200, response.content[:300]
        assert len(response.json()["results"]) > 0

    def order_detail() -> None:
        tenant = rng.choice(tenants)
        url = f"/api/v1/orders/{rng.choice(tenant['order_ids'])}/"
        response = client.get(url, HTTP_AUTHORIZATION=f"Api-Key {tenant['api_key']}")
        assert response.status_code == 200, response.content[:300]

    def stock_reservation() -> None:
        tenant = rng.choice(tenants)
        demand = {sku: rng.randint(1, 3) for sku in rng.sample(tenant["sku_ids"], 2)}
        with organization_scope(tenant["organization"]):
            result = order_reserve(order_id=uuid7(), demand=demand, warehouse_ids=[tenant["warehouse_id"]], actor=actor)
        assert result.warehouse_id is not None

    def order_count_sql() -> None:
        tenant = rng.choice(tenants)
        with organization_scope(tenant["organization"]), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order WHERE organization_id = %s", [tenant["organization"].pk])
            assert cursor.fetchone()[0] > 0

    return {
        "order_list": order_list,
        "order_detail": order_detail,
        "stock_reservation": stock_reservation,
        "order_count_sql": order_count_sql,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(tenants: list[dict[str, Any]], samples: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """`rounds` alternating off/on blocks (the machine's load drifts; alternating spreads it over both modes), each
    running every kind samples/rounds times, shuffled."""
    rng = random.Random(16)
    work = kinds(tenants, rng)
    timings: dict[str, dict[str, list[float]]] = {mode: {kind: [] for kind in work} for mode in ("off", "on")}
    per_round = max(1, samples // rounds)
    for round_ in range(rounds):
        for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            use_mode(mode)
            for run in work.values():  # warm this connection: plan caches, the first set_config
                run()
            order = [kind for kind in work for _ in range(per_round)]
            rng.shuffle(order)
            for kind in order:
                started = time.perf_counter()
                work[kind]()
                timings[mode][kind].append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 orders per organization, fewer samples: < 60 s")
    parser.add_argument("--orders", type=int, default=None, help="orders per organization")
    parser.add_argument("--samples", type=int, default=None, help="samples per kind and mode")
    args = parser.parse_args()
    orders = args.orders or (2_000 if args.quick else 50_000)
    samples = args.samples or (60 if args.quick else 600)

    started = time.monotonic()
    recreate_database()
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    os.environ["DATABASE_APP_PASSWORD"] = APP_PASSWORD
    call_command("rls_setup", role=APP_ROLE, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    log(f"migrated in {time.monotonic() - started:.1f} s; seeding {ORGANIZATIONS} x {orders} orders")
    tenants = seed(orders)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(f"seeded at {time.monotonic() - started:.1f} s; measuring {samples} samples per kind and mode")
    timings = measure(tenants, samples, rounds=6 if args.quick else 10)

    result: dict[str, Any] = {"bench": "rls_cost", "organizations": ORGANIZATIONS, "orders_per_organization": orders}
    for kind in timings["off"]:
        off, on = timings["off"][kind], timings["on"][kind]
        row = {
            "samples": len(on),
            "off_p50_ms": round(percentile(off, 50), 2),
            "off_p95_ms": round(percentile(off, 95), 2),
            "on_p50_ms": round(percentile(on, 50), 2),
            "on_p95_ms": round(percentile(on, 95), 2),
        }
        row["p50_overhead_pct"] = round(100 * (row["on_p50_ms"] / row["off_p50_ms"] - 1), 1)
        result[kind] = row
        log(
            f"{kind:18} off p50 {row['off_p50_ms']:7.2f} p95 {row['off_p95_ms']:7.2f} | "
            f"on p50 {row['on_p50_ms']:7.2f} p95 {row['on_p95_ms']:7.2f} ms | p50 {row['p50_overhead_pct']:+.1f}%"
        )
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
