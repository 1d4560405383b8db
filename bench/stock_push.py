"""Stock push: N listings changed at once, pushed to the TikTok sandbox over HTTP from PostgreSQL.

    .venv/bin/python bench/stock_push.py [--quick] [--listings N] [--workers W] [--qps Q]

The sandbox seeds 8 products (13 SKUs, one product SELLER_DEACTIVATED) per shop and its control API cannot add
more, so N listings are spread over ceil(N / 13) shops of one seller, each with two TikTok warehouses linked to two
Dropline warehouses (the Inventory Search + per-warehouse split path). Every listing maps to its own SKU.

The change: every SKU's stock goes up in one bulk UPDATE that also sets the rows' `unpushed_since`, as every stock
change does (docs/adr/0040), and beat's sweep marks the listings (`changed_stock_mark`). Then beat's due query runs
and W threads play W Celery workers running `store_push` per store. A second round changes nothing that shows and
must send no Update Inventory at all.
Printed: platform calls (one per product, not per listing), time, and the sandbox's rate-limit `violations`
(must be 0). `--qps 5` runs the sandbox and the client at 5 QPS per shop so the shared limiter actually has to wait.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _setup import SandboxProcess, use_fresh_database

SKUS_PER_SHOP = 13
UPDATE = "POST /product/202309/products/{product_id}/inventory/update"
SEARCH = "POST /product/202309/inventory/search"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 listings: a run under a minute")
    parser.add_argument("--listings", type=int, default=None)
    parser.add_argument("--workers", type=int, default=4, help="threads standing in for Celery workers")
    parser.add_argument("--qps", type=int, default=50, help="the platform's limit per API per shop")
    args = parser.parse_args()
    count = args.listings or (2_000 if args.quick else 10_000)

    os.environ["TIKTOK_SANDBOX_RATE_LIMIT_QPS"] = str(args.qps)  # the sandbox process reads it at start
    sandbox = SandboxProcess()
    try:
        use_fresh_database("dropline_bench_push")
        result = run(sandbox, count, args.workers, args.qps)
    finally:
        sandbox.stop()
    print(json.dumps(result))


def run(sandbox: SandboxProcess, count: int, workers: int, qps: int) -> dict[str, Any]:
    from django.conf import settings

    settings.TIKTOK_API_BASE_URL = settings.TIKTOK_AUTH_BASE_URL = sandbox.base_url
    settings.TIKTOK_RATE_LIMIT_QPS = qps
    settings.STOCK_PUSH_DEBOUNCE_SECONDS = 0  # the bench measures the push, not the five-second wait
    # One line per store and per refused product is right for a worker's log, noise for a bench's output.
    for name in ("inventory.push", "integrations.tiktok.client"):
        logging.getLogger(name).setLevel(logging.ERROR)

    from django.db import connection
    from django.utils import timezone

    from erp.tenancy import organization_scope
    from integrations.models import Store
    from inventory import push
    from inventory.models import Listing, StockLevel

    started = time.monotonic()
    organization, listing_count = _world(sandbox, count)
    setup_seconds = time.monotonic() - started
    print(f"set up {listing_count} listings in {setup_seconds:.1f} s")

    def push_round() -> tuple[float, dict[str, int], dict[str, Any]]:
        sandbox.control("POST", "stats/reset")
        began = time.monotonic()
        due = push.stores_due()  # beat's query
        stores = list(Store.unscoped.select_related("authorization").filter(pk__in=[s for s, _ in due]))

        def work(store: Store) -> push.PushResult:
            try:
                with organization_scope(organization):
                    return push.store_push(store=store)
            finally:
                connection.close()  # each thread has its own connection, as each worker would

        totals: dict[str, int] = {"stores": len(stores)}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(work, stores):
                for name in ("calls", "searches", "pushed", "unchanged", "rejected", "failed", "skipped"):
                    totals[name] = totals.get(name, 0) + getattr(result, name)
                totals["busy"] = totals.get("busy", 0) + int(result.busy)
        return time.monotonic() - began, totals, sandbox.control("GET", "stats")["apis"]

    with organization_scope(organization):
        sku_ids = list(Listing.objects.values_list("sku_id", flat=True))
        began = time.monotonic()
        StockLevel.objects.filter(sku_id__in=sku_ids).update(on_hand=_bump(), unpushed_since=timezone.now())
    push.changed_stock_mark()  # beat's sweep
    mark_seconds = time.monotonic() - began
    with organization_scope(organization):
        marked = Listing.objects.filter(push_requested_at__isnull=False).count()
    print(f"changed {len(sku_ids)} SKUs, {marked} listings marked in {mark_seconds:.2f} s")

    first_seconds, first, first_stats = push_round()
    print(
        f"pushed {first['pushed']} listings of {first['stores']} stores in {first_seconds:.1f} s: "
        f"{first_stats.get(UPDATE, {}).get('requests', 0)} Update Inventory + "
        f"{first_stats.get(SEARCH, {}).get('requests', 0)} Inventory Search calls; {first}"
    )
    with organization_scope(organization):
        left = Listing.objects.filter(push_requested_at__lte=_now()).count()
        # The same stock said to have changed again: nothing new to tell the platform.
        StockLevel.objects.filter(sku_id__in=sku_ids).update(unpushed_since=timezone.now())
    push.changed_stock_mark()
    again_seconds, again, again_stats = push_round()
    print(f"unchanged round in {again_seconds:.1f} s: {again}")

    violations = sum(api["violations"] for api in first_stats.values()) + sum(
        api["violations"] for api in again_stats.values()
    )
    updates = first_stats.get(UPDATE, {})
    products = math.ceil(listing_count / SKUS_PER_SHOP) * 8
    return {
        "bench": "stock_push",
        "listings": listing_count,
        "stores": first["stores"],
        "products": products,
        "workers": workers,
        "qps_per_shop": qps,
        "setup_seconds": round(setup_seconds, 1),
        "mark_seconds": round(mark_seconds, 2),
        "push_seconds": round(first_seconds, 2),
        "listings_per_s": round(first["pushed"] / first_seconds) if first_seconds else None,
        "update_inventory_calls": updates.get("requests", 0),
        "inventory_search_calls": first_stats.get(SEARCH, {}).get("requests", 0),
        "listings_pushed": first["pushed"],
        "listings_refused": first["failed"] + first["rejected"],  # the deactivated product of every shop
        "left_marked_before_retry": left,
        "max_update_calls_in_1s_per_shop": updates.get("max_in_1s", 0),
        "unchanged_round_seconds": round(again_seconds, 2),
        "unchanged_round_update_calls": again_stats.get(UPDATE, {}).get("requests", 0),
        "violations": violations,
        "ok": violations == 0
        and updates.get("requests", 0) <= products
        and again_stats.get(UPDATE, {}).get("requests", 0) == 0,
    }


def _bump() -> Any:
    from django.db.models import F

    return F("on_hand") + 7


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _world(sandbox: SandboxProcess, count: int) -> tuple[Any, int]:
    """A seller with enough shops in the sandbox; in Dropline its stores, warehouses, links, SKUs, listings, stock."""
    from datetime import timedelta

    from django.utils import timezone

    from erp import services as erp_services
    from erp.models import User
    from erp.tenancy import organization_scope
    from integrations.models import Platform, SellerAuthorization, Store, TikTokShopSettings
    from integrations.tiktok.client import TikTokShopClient, shared_http_client
    from integrations.tiktok.config import TikTokConfig
    from integrations.tiktok.oauth import TikTokAuth
    from inventory.models import Listing, Sku, StockLevel, Warehouse, WarehouseLink

    shops = math.ceil(count / SKUS_PER_SHOP)
    seller = sandbox.control(
        "POST", "sellers", name="Bench Push", region="US", shops=shops, warehouses=2, orders_per_shop=0, seed=7
    )
    code = sandbox.control("POST", "authorize", seller_id=seller["id"])["code"]
    config = TikTokConfig.from_settings()
    tokens = TikTokAuth(config, shared_http_client(config)).exchange_code(code)
    ciphers = {
        shop.shop_id: shop.settings["cipher"]
        for shop in TikTokShopClient(config=config, tokens=tokens).get_authorized_shops()
    }

    owner = User.objects.create_user(email="bench@example.com", password="x")
    organization = erp_services.organization_create(name="Bench Org", owner=owner)
    rng = random.Random(7)
    org_id = organization.pk
    with organization_scope(organization):
        authorization = SellerAuthorization.objects.create(
            platform=Platform.TIKTOK,
            seller_id=tokens.open_id,
            seller_name=tokens.seller_name,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            access_token_expires_at=tokens.access_token_expires_at,
            refresh_token_expires_at=tokens.refresh_token_expires_at or timezone.now() + timedelta(days=300),
        )
        east = Warehouse.objects.create(name="East")
        west = Warehouse.objects.create(name="West")
        stores, tiktok_settings, links, skus, listings, levels = [], [], [], [], [], []
        for view in seller["shops"]:
            store = Store(
                organization_id=org_id,
                platform=Platform.TIKTOK,
                authorization=authorization,
                external_id=view["id"],
                name=view["name"],
                region="US",
            )
            stores.append(store)
            tiktok_settings.append(TikTokShopSettings(organization_id=org_id, store=store, cipher=ciphers[view["id"]]))
            for platform_warehouse, ours in zip(view["warehouses"], (east, west), strict=True):
                links.append(
                    WarehouseLink(
                        organization_id=org_id, store=store, warehouse=ours, platform_warehouse_id=platform_warehouse
                    )
                )
            for product in view["products"]:
                for sku_id in product["skus"]:
                    if len(listings) >= count:
                        break
                    sku = Sku(organization_id=org_id, code=f"{view['code']}-{sku_id[-6:]}", name=f"SKU {sku_id}")
                    skus.append(sku)
                    listings.append(
                        Listing(
                            organization_id=org_id,
                            store=store,
                            platform_sku_id=sku_id,
                            platform_product_id=product["id"],
                            seller_sku=sku.code,
                            sku=sku,
                        )
                    )
                    for warehouse in (east, west):
                        levels.append(
                            StockLevel(organization_id=org_id, sku=sku, warehouse=warehouse, on_hand=rng.randrange(200))
                        )
        Store.objects.bulk_create(stores, batch_size=1000)
        TikTokShopSettings.objects.bulk_create(tiktok_settings, batch_size=1000)
        WarehouseLink.objects.bulk_create(links, batch_size=1000)
        Sku.objects.bulk_create(skus, batch_size=1000)
        Listing.objects.bulk_create(listings, batch_size=1000)
        StockLevel.objects.bulk_create(levels, batch_size=1000)
    return organization, len(listings)


if __name__ == "__main__":
    main()
