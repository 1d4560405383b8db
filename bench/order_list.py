"""How fast the order list answers with a million orders in one organization.

    .venv/bin/python bench/order_list.py [--quick] [--orders N] [--samples 30] [--reuse]

Creates its own PostgreSQL database (`dropline_bench`, dropped and recreated; BENCH_DATABASE_URL to change), migrates
it, seeds one organization with N orders (default 1,000,000; --quick: 200,000) across 3 stores in a few set-based
INSERT ... SELECT generate_series statements (1-3 lines each from a pool of 2,000 seller SKUs, ~5% held with
OrderHold rows, tracking numbers on shipped orders), runs VACUUM ANALYZE, then times the real orders API through
Django's test Client with an API key (Redis as the cache, as production: REDIS_URL, default db 14), for a mix of
requests, and prints p50/p95/p99 and the SQL statements per request for each kind, and overall. Before timing, the
heap is frozen as a gunicorn worker freezes it (erp.wsgi.freeze_loaded_application). Targets (issue 17): every kind
p95 < 60 ms, p99 < 100 ms, <= 5 statements per request. The last line is one JSON object.

The indexes measured are the migrations' own (orders 0002, 0003); the planner runs with the settings every
Dropline connection uses (DATABASE_RANDOM_PAGE_COST). --reuse skips the seeding when the database already holds the
orders.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dropline_bench")
os.environ["DATABASE_URL"] = BENCH_URL
# The cache production runs (the API's rate-limit counters): without it Django falls back to files, a write and a
# rename per request that production never pays.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("DJANGO_ENV", "local")
os.environ["DJANGO_SETTINGS_MODULE"] = f"erp.settings.{os.environ['DJANGO_ENV']}"
os.environ["DEBUG"] = "False"  # no query log, no debug toolbar: what production runs
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ["API_THROTTLE_RATE"] = "1000000/min"
os.environ.setdefault("LOG_LEVEL", "WARNING")

TARGET_P95_MS = 60.0  # every kind (issue 17)
TARGET_P99_MS = 100.0
TARGET_QUERIES = 5  # per request, API key lookup included
SKU_POOL = 2000
FIRST_NAMES = [
    "Dana",
    "Lee",
    "Sam",
    "Alex",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Rowan",
    "Emery",
    "Harper",
    "Logan",
    "Maya",
    "Noah",
    "Ava",
    "Liam",
    "Emma",
    "Olivia",
    "Sofia",
    "Mateo",
    "Lucas",
    "Amara",
    "Kenji",
    "Priya",
    "Omar",
    "Fatima",
]
LAST_NAMES = [
    "Kim",
    "Park",
    "Ortiz",
    "Nguyen",
    "Smith",
    "Johnson",
    "Garcia",
    "Brown",
    "Davis",
    "Miller",
    "Wilson",
    "Moore",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Martinez",
    "Robinson",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Allen",
    "Wright",
    "Lopez",
    "Hill",
    "Scott",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Perez",
    "Roberts",
    "Okafor",
    "Haddad",
    "Kowalski",
    "Schmidt",
    "Rossi",
    "Silva",
    "Sato",
    "Tanaka",
    "Ivanova",
    "Novak",
    "Dubois",
]


def log(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------------------------ database
def recreate_database(reuse: bool) -> bool:
    """Drop and create the bench database (or keep it with --reuse). Returns whether it already existed."""
    import psycopg2

    url = urlparse(BENCH_URL)
    name = url.path.lstrip("/")
    admin = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and reuse:
            admin.close()
            return True
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return False


def setup_django() -> None:
    import django

    django.setup()


def order_columns() -> dict[str, str]:
    """SQL for every concrete column of orders_order: a default for the ones the seed does not set explicitly,
    so new NOT NULL columns the lead adds do not break the bench."""
    from django.db import models

    from orders.models import Order

    defaults = {}
    for f in Order._meta.concrete_fields:
        if f.null:
            sql = "NULL"
        elif isinstance(f, models.BooleanField):
            sql = "false"
        elif isinstance(f, models.IntegerField | models.DecimalField | models.FloatField):
            sql = "0"
        elif isinstance(f, models.DateTimeField):
            sql = "now()"
        elif isinstance(f, models.JSONField):
            sql = "'{}'::jsonb"
        else:
            sql = "''"
        defaults[f.column] = sql
    return defaults


def seed(n: int) -> dict[str, Any]:
    """One organization, 3 stores, n orders with lines and holds. Set-based SQL, no ORM row by row."""
    from django.db import connection

    from erp import services
    from erp.actors import Actor
    from erp.models import User
    from erp.roles import APIKeyScope
    from erp.tenancy import organization_scope
    from integrations.models import Platform, Store
    from orders.models import OPEN_STATUSES

    owner = User.objects.create_user("bench@dropline.local", "bench-password")
    organization = services.organization_create(name="Bench Seller", owner=owner)
    _, raw_key = services.api_key_create(
        organization=organization, actor=Actor.for_user(owner), name="bench", scope=APIKeyScope.READ
    )
    with organization_scope(organization):
        stores = [
            Store.objects.create(platform=Platform.TIKTOK, external_id=f"74940{i:014d}", name=f"Bench shop {i}")
            for i in range(3)
        ]
    store_ids = "ARRAY[" + ",".join(f"'{s.pk}'::uuid" for s in stores) + "]"
    open_statuses = ",".join(f"'{s}'" for s in OPEN_STATUSES)
    first = "ARRAY[" + ",".join(f"'{x}'" for x in FIRST_NAMES) + "]"
    last = "ARRAY[" + ",".join(f"'{x}'" for x in LAST_NAMES) + "]"

    columns = order_columns()
    columns.update(
        {
            "id": "gen_random_uuid()",
            "organization_id": f"'{organization.pk}'::uuid",
            "store_id": f"({store_ids})[1 + (i % 3)]",
            "external_id": "(576400000000000000 + i * 7)::text",
            "status": "s.status",
            "label_source": "CASE WHEN i % 200 = 0 THEN 'seller' ELSE 'platform' END",
            "fulfilled_by": "CASE WHEN i % 50 = 0 THEN 'platform' ELSE 'seller' END",
            "platform_warehouse_id": "'WH' || (i % 4)",
            "currency": "'USD'",
            "total": "round((5 + (i % 9000) / 100.0)::numeric, 2)",
            "placed_at": "s.placed_at",
            "paid_at": "s.placed_at + interval '2 minutes'",
            "platform_updated_at": "s.placed_at + interval '1 hour'",
            "ship_by": "s.ship_by",
            "has_address": "s.status <> 'ON_HOLD'",
            "address_masked": "true",
            "recipient_name": f"({first})[1 + (i % {len(FIRST_NAMES)})] || ' ' || "
            f"({last})[1 + ((i / {len(FIRST_NAMES)}) % {len(LAST_NAMES)})]",
            "city": "'Culver City'",
            "state": "'California'",
            "postal_code": "'90230'",
            "country_code": "'US'",
            "tracking_number": "CASE WHEN s.status IN ('AWAITING_COLLECTION','IN_TRANSIT','DELIVERED','COMPLETED') "
            "THEN '9400' || lpad(i::text, 18, '0') ELSE '' END",
            "carrier_name": "CASE WHEN s.status IN ('AWAITING_COLLECTION','IN_TRANSIT','DELIVERED','COMPLETED') "
            "THEN 'USPS' ELSE '' END",
            "line_count": "bench_lines(i)",
            "unit_count": "bench_lines(i)",
            "sku_summary": "(SELECT string_agg('1 x ' || bench_sku(i, k), ', ') "
            "FROM generate_series(1, bench_lines(i)) k)",
            "is_held": "s.held",
        }
    )
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(columns.values())
    # Status mix of a seller with history: ~15% still to ship. Open orders' deadlines spread over now ± 10 days;
    # closed orders were placed over the past year and had their deadline 1-3 days after.
    status_sql = f"""
        SELECT i, st AS status,
               CASE WHEN st IN ({open_statuses}) THEN now() - random() * interval '4 days'
                    ELSE now() - random() * interval '365 days' END AS placed_at,
               CASE WHEN i % 97 = 0 THEN NULL
                    WHEN st IN ({open_statuses}) THEN now() + (random() * 20 - 10) * interval '1 day'
                    ELSE NULL END AS ship_by_open,
               st IN ({open_statuses}) AND random() < 0.33 AS held
        FROM (
            SELECT i, CASE WHEN r < 0.02 THEN 'ON_HOLD' WHEN r < 0.13 THEN 'AWAITING_SHIPMENT'
                           WHEN r < 0.15 THEN 'PARTIALLY_SHIPPING' WHEN r < 0.20 THEN 'AWAITING_COLLECTION'
                           WHEN r < 0.28 THEN 'IN_TRANSIT' WHEN r < 0.40 THEN 'DELIVERED'
                           WHEN r < 0.93 THEN 'COMPLETED' WHEN r < 0.985 THEN 'CANCELLED' ELSE 'UNPAID' END AS st
            FROM (SELECT i, random() AS r FROM generate_series(1, {n}) i) g
        ) t
    """  # noqa: S608  (bench-made SQL, no outside input)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE OR REPLACE FUNCTION bench_lines(i bigint) RETURNS int IMMUTABLE LANGUAGE sql AS
              $$ SELECT CASE WHEN i % 10 < 6 THEN 1 WHEN i % 10 < 9 THEN 2 ELSE 3 END $$;
            CREATE OR REPLACE FUNCTION bench_sku(i bigint, k int) RETURNS text IMMUTABLE LANGUAGE sql AS
              $$ SELECT 'SKU-' || lpad(floor({SKU_POOL} * power((abs(hashint8(i * 3 + k)) % 1000000) / 1000000.0, 2))
                                       ::int::text, 4, '0') $$;
            SET synchronous_commit = off;
            """
        )
        cursor.execute(
            f"""
            INSERT INTO orders_order ({names})
            SELECT {values}
            FROM (SELECT i, status, placed_at, held,
                         COALESCE(ship_by_open, CASE WHEN i % 97 = 0 THEN NULL
                                  ELSE placed_at + (1 + random() * 2) * interval '1 day' END) AS ship_by
                  FROM ({status_sql}) raw) s
            """  # noqa: S608  (bench-made SQL, no outside input)
        )
        log(f"  orders: {time.perf_counter() - started:.1f} s")
        cursor.execute(
            f"""
            INSERT INTO orders_orderline (id, organization_id, order_id, external_id, sku_id, seller_sku, product_id,
                product_name, sku_name, image_url, unit_price, currency, package_id, package_status, tracking_number,
                is_gift, is_cancelled, placed_at)
            SELECT gen_random_uuid(), o.organization_id, o.id, o.external_id || '-' || k, 'P' || bench_sku(x.i, k),
                   bench_sku(x.i, k), '', 'Product ' || bench_sku(x.i, k), '', '', 9.90, 'USD', '', '',
                   o.tracking_number, false, false, o.placed_at
            FROM orders_order o
            CROSS JOIN LATERAL (SELECT ((o.external_id::bigint - 576400000000000000) / 7) AS i) x
            CROSS JOIN LATERAL generate_series(1, bench_lines(x.i)) k
            WHERE o.organization_id = '{organization.pk}'
            """  # noqa: S608  (bench-made SQL, no outside input)
        )
        log(f"  + lines: {time.perf_counter() - started:.1f} s")
        cursor.execute(
            f"""
            INSERT INTO orders_orderhold (id, organization_id, order_id, reason, detail, created_at, released_at)
            SELECT gen_random_uuid(), organization_id, id,
                   CASE WHEN status = 'ON_HOLD' THEN 'remorse_window'
                        ELSE (ARRAY['address_invalid','address_missing','cancel_requested','unmapped_sku',
                                    'out_of_stock'])[1 + (abs(hashtext(external_id)) % 5)] END,
                   '', placed_at, NULL
            FROM orders_order WHERE organization_id = '{organization.pk}' AND is_held
            """  # noqa: S608  (bench-made SQL, no outside input)
        )
        log(f"  + holds: {time.perf_counter() - started:.1f} s")
    return {"organization": organization, "api_key": raw_key, "owner": owner}


def analyze() -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("orders_order", "orders_orderline", "orders_orderhold"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(f"  VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")


def existing_state() -> dict[str, Any]:
    """--reuse: the organization, a fresh API key and the owner of a database seeded earlier."""
    from erp import services
    from erp.actors import Actor
    from erp.models import Organization, User
    from erp.roles import APIKeyScope

    owner = User.objects.get(email="bench@dropline.local")
    organization = Organization.objects.get(name="Bench Seller")
    _, raw_key = services.api_key_create(
        organization=organization, actor=Actor.for_user(owner), name="bench", scope=APIKeyScope.READ
    )
    return {"organization": organization, "api_key": raw_key, "owner": owner}


# ------------------------------------------------------------------------------------------------------- measure
def request_kinds(state: dict[str, Any], rng: random.Random) -> dict[str, Callable[[], tuple[str, dict[str, Any]]]]:
    """Each kind returns (path, query) for one sample; values vary from sample to sample."""
    from django.db import connection

    org = state["organization"].pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM integrations_store WHERE organization_id = %s", [org])
        stores = [str(row[0]) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT external_id, tracking_number FROM orders_order WHERE organization_id = %s "
            "ORDER BY random() LIMIT 200",
            [org],
        )
        sample = cursor.fetchall()
    order_ids = [row[0] for row in sample]
    tracking = [row[1] for row in sample if row[1]] or ["9400000000000000000000"]
    reasons = ["address_invalid", "address_missing", "cancel_requested", "unmapped_sku", "out_of_stock"]
    api = "/api/v1/orders/"
    return {
        "default_list": lambda: (api, {}),
        "to_ship_by_deadline": lambda: (api, {"status": "to_ship", "ordering": "ship_by"}),
        "held_by_reason": lambda: (api, {"status": "held", "hold": rng.choice(reasons)}),
        "store": lambda: (api, {"store": rng.choice(stores), "status": rng.choice(["to_ship", "all"])}),
        "search_order_id": lambda: (api, {"q": rng.choice(order_ids)}),
        "search_order_id_prefix": lambda: (api, {"q": rng.choice(order_ids)[:14]}),
        "search_buyer_name": lambda: (api, {"q": rng.choice(LAST_NAMES)}),
        "search_tracking": lambda: (api, {"q": rng.choice(tracking)}),
        "sku": lambda: (api, {"sku": f"SKU-{rng.randrange(SKU_POOL):04d}"}),
        "ship_within_24h": lambda: (api, {"status": "to_ship", "ship_within": 24}),
        "counts": lambda: (api + "counts/", {}),
        "counts_store": lambda: (api + "counts/", {"store": rng.choice(stores)}),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(state: dict[str, Any], samples: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds per request, and the most SQL statements any request of each kind ran."""
    from django.db import connection
    from django.test import Client

    statements = 0

    def count_statement(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    counting = connection.execute_wrapper(count_statement)  # for the whole run: counting costs next to nothing
    counting.__enter__()
    queries: dict[str, int] = {}
    rng = random.Random(7)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {state['api_key']}"}
    kinds = request_kinds(state, rng)
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for make in kinds.values():  # warm up every code path once (imports, plan caches)
        path, query = make()
        client.get(path, query, **headers)
    # As a gunicorn worker does once the application is loaded (gunicorn.conf.py): a full collection then walks
    # only what requests made, not the ~100k objects of the loaded application (docs/adr/0031).
    from erp.wsgi import freeze_loaded_application

    freeze_loaded_application()
    order = [kind for kind in kinds for _ in range(samples)]
    rng.shuffle(order)  # interleave, so no kind enjoys a cache warmed by its own previous request
    for kind in order:
        path, query = kinds[kind]()
        before = statements
        started = time.perf_counter()
        response = client.get(path, query, **headers)
        elapsed = (time.perf_counter() - started) * 1000
        queries[kind] = max(queries.get(kind, 0), statements - before)
        if response.status_code != 200:
            raise SystemExit(f"{kind}: {path} {query} -> {response.status_code} {response.content[:300]!r}")
        timings[kind].append(elapsed)
    # The next page of "to ship", through the cursor the first page returned.
    timings["to_ship_next_page"] = []
    first = client.get("/api/v1/orders/", {"status": "to_ship"}, **headers).json()
    for _ in range(samples):
        before = statements
        started = time.perf_counter()
        response = client.get(first["next"], **headers)
        timings["to_ship_next_page"].append((time.perf_counter() - started) * 1000)
        queries["to_ship_next_page"] = max(queries.get("to_ship_next_page", 0), statements - before)
        assert response.status_code == 200
    counting.__exit__(None, None, None)
    return timings, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200,000 orders (the whole run stays under a minute)")
    parser.add_argument("--orders", type=int, help="number of orders (default 1,000,000)")
    parser.add_argument("--samples", type=int, default=30, help="samples per request kind")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    args = parser.parse_args()
    n = args.orders or (200_000 if args.quick else 1_000_000)

    run_started = time.perf_counter()
    reused = recreate_database(args.reuse)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    if reused:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order")
            n = cursor.fetchone()[0]
        log(f"Reusing {BENCH_URL}: {n:,} orders")
        state = existing_state()
    else:
        log(f"Creating {BENCH_URL} and seeding {n:,} orders")
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        log(f"  migrate: {time.perf_counter() - started:.1f} s")
        state = seed(n)
        analyze()

    from erp.tenancy import organization_scope

    with organization_scope(None):
        timings, queries = measure(state, args.samples)

    log(f"\n{'request':<26}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'queries':>9}")
    per_kind = {}
    for kind, values in timings.items():
        p50, p95, p99 = statistics.median(values), percentile(values, 95), percentile(values, 99)
        per_kind[kind] = {
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "p99_ms": round(p99, 1),
            "queries": queries[kind],
            "n": len(values),
        }
        flag = "  <-- over target" if p95 > TARGET_P95_MS or queries[kind] > TARGET_QUERIES else ""
        log(f"{kind:<26}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{max(values):>9.1f}{queries[kind]:>9}{flag}")
    everything = [v for values in timings.values() for v in values]
    overall = {
        "p50_ms": round(statistics.median(everything), 1),
        "p95_ms": round(percentile(everything, 95), 1),
        "p99_ms": round(percentile(everything, 99), 1),
    }
    log(f"{'overall':<26}{overall['p50_ms']:>9.1f}{overall['p95_ms']:>9.1f}{overall['p99_ms']:>9.1f}")
    log(f"total run: {time.perf_counter() - run_started:.1f} s")
    worst_p95 = max(k["p95_ms"] for k in per_kind.values())
    most_queries = max(k["queries"] for k in per_kind.values())
    print(
        json.dumps(
            {
                "bench": "order_list",
                "orders": n,
                "p50_ms": overall["p50_ms"],
                "p95_ms": overall["p95_ms"],
                "p99_ms": overall["p99_ms"],
                "worst_kind_p95_ms": worst_p95,
                "most_queries_per_request": most_queries,
                "per_kind": per_kind,
                "target_every_kind_p95_ms": TARGET_P95_MS,
                "target_p99_ms": TARGET_P99_MS,
                "target_queries_per_request": TARGET_QUERIES,
                "ok": worst_p95 < TARGET_P95_MS
                and overall["p99_ms"] < TARGET_P99_MS
                and most_queries <= TARGET_QUERIES,
            }
        )
    )


if __name__ == "__main__":
    main()
