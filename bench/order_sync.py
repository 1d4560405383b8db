"""Order import speed and memory: N orders from the TikTok sandbox over HTTP into PostgreSQL.

    .venv/bin/python bench/order_sync.py [--quick] [--orders N]

First import (every order new), then an unchanged re-sync (cursor reset, so every order is read again and none is
written). Targets on a 2-core machine: >= 1,000 orders/s first, >= 3,000 orders/s unchanged, peak RSS < 300 MB for
any N. The platform's own ceiling is 5,000 orders/s per shop (50 QPS x 100 orders a page). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from urllib.parse import parse_qs, urlparse

from _setup import SandboxProcess, use_fresh_database

PLATFORM_CEILING = 50 * 100  # orders/s: 50 QPS x 100 orders per Search Orders page


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 orders: a run under a minute")
    parser.add_argument("--orders", type=int, default=None)
    args = parser.parse_args()
    count = args.orders or (10_000 if args.quick else 50_000)

    sandbox = SandboxProcess()
    try:
        use_fresh_database("dropline_bench_sync")
        result = run(sandbox, count)
    finally:
        sandbox.stop()
    print(json.dumps(result))


def run(sandbox: SandboxProcess, count: int) -> dict:
    from django.conf import settings

    settings.TIKTOK_API_BASE_URL = settings.TIKTOK_AUTH_BASE_URL = sandbox.base_url
    settings.TIKTOK_AUTHORIZE_URL = f"{sandbox.base_url}/open/authorize"
    settings.ORDER_SYNC_TIME_BUDGET_SECONDS = 3600
    from erp import services as erp_services
    from erp.actors import Actor
    from erp.models import User
    from erp.tenancy import organization_scope
    from integrations import services
    from integrations.models import Platform, Store
    from orders.models import Order
    from orders.services import orders_imported, store_sync

    seller = sandbox.control("POST", "sellers", name="Bench Seller", region="US", shops=1, orders_per_shop=0, seed=7)
    shop_id = seller["shops"][0]["id"]
    created = time.monotonic()
    sandbox.control(
        "POST",
        f"shops/{shop_id}/orders",
        count=count,
        seed=7,
        status_mix={"AWAITING_SHIPMENT": 0.7, "AWAITING_COLLECTION": 0.2, "IN_TRANSIT": 0.1},
    )
    seed_seconds = time.monotonic() - created

    owner = User.objects.create_user(email="bench@example.com", password="x")
    organization = erp_services.organization_create(name="Bench Org", owner=owner)
    session: dict = {}
    url = services.store_connect_start(session=session, organization=organization, platform=Platform.TIKTOK)
    state = parse_qs(urlparse(url).query)["state"][0]
    code = sandbox.control("POST", "authorize", seller_id=seller["id"])["code"]
    with services.store_sync_requested.muted():  # the bench imports in this process, not through Celery
        services.store_connect_complete(
            session=session,
            organization=organization,
            platform=Platform.TIKTOK,
            actor=Actor.system(),
            code=code,
            state=state,
        )
    store = Store.unscoped.select_related("authorization").get(external_id=shop_id)

    # Routing is its own worker job after each page commits; this measures the import alone.
    with organization_scope(organization), orders_imported.muted():
        started = time.monotonic()
        first = store_sync(store=store)
        first_seconds = time.monotonic() - started
        imported = Order.objects.count()

        Store.unscoped.filter(pk=store.pk).update(sync_cursor=None)  # read everything again
        store.refresh_from_db()
        started = time.monotonic()
        again = store_sync(store=store)
        again_seconds = time.monotonic() - started

    stats = sandbox.control("GET", "stats")["apis"]
    search = next(v for k, v in stats.items() if "orders/search" in k)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first_rate = imported / first_seconds
    again_rate = (again.unchanged + again.updated + again.created) / again_seconds
    return {
        "bench": "order_sync",
        "orders": count,
        "imported": imported,
        "sandbox_seed_seconds": round(seed_seconds, 2),
        "first_import_seconds": round(first_seconds, 2),
        "first_import_orders_per_s": round(first_rate),
        "first_import_pages": first.pages,
        "resync_seconds": round(again_seconds, 2),
        "resync_orders_per_s": round(again_rate),
        "resync_writes": again.created + again.updated,
        "peak_rss_mb": round(peak_mb, 1),
        "rate_limit_violations": search["violations"],
        "platform_ceiling_orders_per_s": PLATFORM_CEILING,
        "targets": {"first_import_orders_per_s": 1000, "resync_orders_per_s": 3000, "peak_rss_mb": 300},
        "meets_targets": first_rate >= 1000 and again_rate >= 3000 and peak_mb < 300 and imported == count,
    }


if __name__ == "__main__":
    main()
