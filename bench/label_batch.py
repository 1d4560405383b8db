"""A 1,000-order label batch against the sandbox with realistic latency (150 ± 50 ms) and the 50 QPS per-API limit.

    .venv/bin/python bench/label_batch.py [--quick] [--orders N] [--workers W]

Every order goes through the money path as a label worker runs it (claim, quote, buy, then fetch and keep the label
PDF), W at a time. Prints wall time, calls per API, and the ratio to the physical floor: the least time the rate
limit allows for the calls made (the busiest API's calls / its QPS) plus one chain of round trips. Target ≤ 1.25.
Needs PostgreSQL and Redis (the shared rate limiter). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import SandboxProcess, use_fresh_database

QPS = 50
LATENCY_MS, JITTER_MS = 150, 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 orders: well under a minute")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--workers", type=int, default=32, help="label purchases in flight at once")
    args = parser.parse_args()
    count = args.orders or (200 if args.quick else 1000)

    sandbox = SandboxProcess()
    try:
        use_fresh_database("dropline_bench_labels")
        print(json.dumps(run(sandbox, count, args.workers)))
    finally:
        sandbox.stop()


def run(sandbox: SandboxProcess, count: int, workers: int) -> dict:
    from django.conf import settings
    from django.db import connection

    settings.TIKTOK_API_BASE_URL = settings.TIKTOK_AUTH_BASE_URL = sandbox.base_url
    settings.TIKTOK_AUTHORIZE_URL = f"{sandbox.base_url}/open/authorize"
    settings.ORDER_SYNC_TIME_BUDGET_SECONDS = 3600
    from erp import services as erp_services
    from erp.actors import Actor
    from erp.models import User
    from erp.tenancy import organization_scope
    from integrations import services
    from integrations.models import Store
    from orders.models import Order
    from orders.services import orders_imported, store_sync
    from shipping import labels
    from shipping.models import LabelPurchase, PurchaseState

    seller = sandbox.control("POST", "sellers", name="Bench Seller", region="US", shops=1, orders_per_shop=0, seed=3)
    shop_id = seller["shops"][0]["id"]
    sandbox.control(
        "POST",
        f"shops/{shop_id}/orders",
        count=count,
        seed=3,
        status_mix={"AWAITING_SHIPMENT": 1.0},
        shipping_mix={"TIKTOK": 1.0},
    )
    owner = User.objects.create_user(email="bench@example.com", password="x")
    organization = erp_services.organization_create(name="Bench Org", owner=owner)
    session: dict = {}
    url = services.store_connect_start(session=session, organization=organization)
    code = sandbox.control("POST", "authorize", seller_id=seller["id"])["code"]
    with services.store_sync_requested.muted():
        services.store_connect_complete(
            session=session,
            organization=organization,
            actor=Actor.system(),
            code=code,
            state=parse_qs(urlparse(url).query)["state"][0],
        )
    store = Store.unscoped.select_related("authorization").get(external_id=shop_id)
    with organization_scope(organization):
        with orders_imported.muted():  # the bench buys every order itself; no routing or auto-buy on the side
            store_sync(store=store)
        orders = list(Order.objects.filter(store=store, status="AWAITING_SHIPMENT", shipping_type="TIKTOK"))
        purchases = [labels.label_purchase_request(order=order).pk for order in orders]

    sandbox.control("PUT", "faults", latency=[{"api": "*", "ms": LATENCY_MS, "jitter_ms": JITTER_MS}])
    sandbox.control("POST", "stats/reset")

    def buy(purchase_id: object) -> str:
        try:
            with organization_scope(organization):
                outcome = labels.label_purchase_execute(purchase_id=purchase_id)
                if outcome == labels.PurchaseOutcome.BOUGHT:
                    labels.label_document_fetch(purchase_id=purchase_id)
                return outcome
        finally:
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(buy, purchases))
    wall = time.monotonic() - started

    stats = sandbox.control("GET", "stats")["apis"]
    calls = {api: figures["requests"] for api, figures in stats.items() if figures["requests"]}
    violations = sum(figures["violations"] for figures in stats.values())
    busiest = max(calls.values())
    chain = 3 * LATENCY_MS / 1000  # quote → buy → document: one order's round trips, in sequence
    floor = busiest / QPS + chain
    ledger = sandbox.control("GET", "labels")["labels"]
    bought = LabelPurchase.unscoped.filter(state=PurchaseState.PURCHASED).count()
    return {
        "bench": "label_batch",
        "orders": len(purchases),
        "workers": workers,
        "latency_ms": f"{LATENCY_MS}±{JITTER_MS}",
        "qps_limit_per_api": QPS,
        "wall_seconds": round(wall, 2),
        "calls_per_api": calls,
        "floor_seconds": round(floor, 2),
        "ratio_to_floor": round(wall / floor, 3),
        "target_ratio": 1.25,
        "bought": bought,
        "failed": outcomes.count(labels.PurchaseOutcome.FAILED),
        "labels_in_platform_ledger": len(ledger),
        "double_purchases": len(ledger) - len({label["order_id"] for label in ledger}),
        "rate_limit_violations": violations,
        "labels_stored": LabelPurchase.unscoped.exclude(label_pdf="").count(),
    }


if __name__ == "__main__":
    main()
