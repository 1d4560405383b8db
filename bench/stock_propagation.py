"""Stock propagation across channels: a sale on one channel, the time until every other channel shows the new quantity.

    .venv/bin/python bench/stock_propagation.py [--quick] [--sales N] [--interval S] [--timeout S] [--keep-logs]

Everything is real and in its own process: the TikTok Shop and Shopify sandboxes, PostgreSQL (a fresh database),
Redis (a private database: broker and cache), Dropline's web server (gunicorn, the platforms' webhooks arrive there),
a Celery worker as `make run` starts it and Celery beat. Settings are production's defaults
(STOCK_PUSH_DEBOUNCE_SECONDS 5, ORDER_SYNC_INTERVAL_SECONDS 60; reported in the JSON).

Setup, through Dropline's services as a person's clicks would do it: an organization; TikTok seller "Dropline Demo
US" connected on the sandbox's consent page (which brings both of its shops, Dropline Home US and Dropline Outlet US)
and the Shopify shop dropline-demo.myshopify.com; one own warehouse, linked to every platform warehouse / location
(both sandboxes stock most variants in two places, and without links neither can be told one quantity per SKU);
orders imported, catalogues read, SKUs made from the seller SKUs (the seeds share 13 seller SKUs, so each is one SKU
on all three stores), stock received, both channels pushed until every sandbox advertises Dropline's available
quantity; the starting quantities are checked before anything is measured. BLUETOOTH-BK is shared but its TikTok
product is SELLER_DEACTIVATED (TikTok refuses its stock updates): it is left out of the sales and reported.

The run: N sales alternating channels, one every `--interval` seconds (default 1: a stream; `--interval 12` sells
one at a time). A SKU is sold again only once its previous sale has been seen everywhere, so every expected quantity
is unambiguous. A TikTok sale pays an order of one unit of a shared SKU: the TikTok control API cannot create an
order for a chosen SKU, so unpaid orders are created in bulk before the import and those of a single unit of one
shared SKU are paid, one per sale (paying sends the ORDER_STATUS_CHANGE webhook). A Shopify sale is POST
/sandbox/orders (one unit). Then every OTHER store's sandbox is polled until it shows the expected quantity
(Dropline's available after the reservation, under that store's push policy): Shopify and Outlet US after a sale on
Home US, both TikTok shops after a Shopify sale. The latency runs from the sale to the first poll that shows it
(poll period 0.1 s); a sale not seen everywhere within `--timeout` (120 s) is a miss. The way there: the sandbox's
webhook -> Dropline's web records it -> the worker fetches the order and reserves -> beat (every 5 s) marks the
listings of the changed stock with the change's time and queues a store's push once a marker is older than the
debounce (5 s) -> the push tells the platform.

Printed: per direction and overall p50/p95/max, misses, the calls each sandbox served during the run (their stats
endpoints), Shopify THROTTLED answers and TikTok rate-limit violations (both must be 0), the final books (Dropline's
available vs every sandbox, for every shared SKU), the settings used and the floor (`floor_seconds`: debounce + beat
interval + webhook poll, with its derivation). Exit status 1 on a miss, a violation, a throttled call, a disagreement
or books that do not add up. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlparse

import httpx
from _setup import ROOT, SandboxProcess, ShopifySandboxProcess, WorkerProcess, free_port, use_fresh_database

DATABASE = "dropline_bench_propagation"
REDIS_URL = "redis://127.0.0.1:6379/13"  # this bench's own: nothing else in the repository uses database 13
TIKTOK_SELLER = "Dropline Demo US"
TIKTOK_SHOP = "Dropline Home US"
SHOPIFY_SHOP = "dropline-demo.myshopify.com"
OPENING_STOCK = 1000  # units received per SKU: far more than the seeded open orders and the sales take
POLL_SECONDS = 0.1
WEBHOOK_POLL_SECONDS = 0.5  # both sandboxes' webhook senders wake this often (docs/platforms/*-sandbox.md)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 sales: a run under a minute")
    parser.add_argument("--sales", type=int, default=None, help="default 40 (--quick: 10)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two sales (default 1)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a sale may take to show everywhere")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs after a good run too")
    args = parser.parse_args()
    count = args.sales or (10 if args.quick else 40)

    logs = Path(tempfile.mkdtemp(prefix="bench-propagation-"))
    web_port = free_port()
    os.environ.setdefault("REDIS_URL", REDIS_URL)
    os.environ["DROPLINE_PUBLIC_URL"] = f"http://127.0.0.1:{web_port}"  # webhooks are registered under it
    started = time.monotonic()
    background: list[Any] = []
    result: dict[str, Any] = {"bench": "stock_propagation", "ok": False}
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = round(time.monotonic() - started - sum(phases.values()), 1)

    try:
        # The sandboxes boot while the database is migrated. Every variable use_fresh_database sets is set first, so
        # the sandboxes' threads copy an environment that no longer changes size.
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
        os.environ["DEBUG"] = "False"
        with ThreadPoolExecutor(max_workers=2) as pool:
            booting = [pool.submit(SandboxProcess), pool.submit(ShopifySandboxProcess)]
            try:
                use_fresh_database(DATABASE)  # web, worker and beat inherit this process's environment
            finally:
                background += [future.result() for future in booting if future.exception() is None]
        tiktok, shopify = (future.result() for future in booting)  # raises if one did not start
        _point_at(tiktok, shopify)
        _purge_broker()
        phase("sandboxes_and_database")
        # The web server boots during the setup: it is needed from the first webhook the setup may cause on.
        background.append(Background("web", _web_command(web_port), logs))
        world = _world(tiktok, shopify, count)
        phase("dropline_setup")
        print(f"set up in {time.monotonic() - started:.1f} s: {world.describe()}")

        background.append(Background("beat", _beat_command(logs), logs))
        background.append(WorkerProcess(logs / "worker.log"))
        _wait_http(f"http://127.0.0.1:{web_port}/healthz", "the web server")
        phase("background_start")
        _settle(world)
        phase("settle")
        print(f"web, worker and beat up; starting quantities agree ({time.monotonic() - started:.1f} s)")

        result = _run(world, count, args.interval, args.timeout)
        phase("run")
    except Exception as error:
        traceback.print_exc(file=sys.stdout)
        result["error"] = f"{type(error).__name__}: {error}"
        print(f"FAILED: {result['error']}")
    finally:
        for process in background:  # all told at once, then waited for: worker, beat, web, then the sandboxes
            if process.process.poll() is None:
                process.process.terminate()
        for process in reversed(background):
            try:
                process.stop()
            except Exception as error:  # the others are stopped all the same
                print(f"stopping {type(process).__name__} failed: {error}")
        phase("stop")
        result["total_seconds"] = round(time.monotonic() - started, 1)
        result["phase_seconds"] = phases
        if result.get("ok") and not args.keep_logs:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            result["logs"] = str(logs)
            print(f"logs of web, worker and beat: {logs}")
        print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


# ---------------------------------------------------------------------------------------------------- processes
class Background:
    """A long-running command of this bench (web, beat) in its own process, its output in `logs/<name>.log`."""

    def __init__(self, name: str, command: list[str], logs: Path) -> None:
        self.name = name
        self.log = (logs / f"{name}.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=dict(os.environ), stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _web_command(port: int) -> list[str]:
    """Production's web (docker-compose.yml: gunicorn on the WSGI app), one process of 8 threads."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "erp.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "8",
        "--timeout",
        "60",
    ]


def _beat_command(logs: Path) -> list[str]:
    """`make run`'s beat (devstack.beat_command) with a schedule file of its own, not var/'s."""
    from erp.management.commands.devstack import beat_command

    command = beat_command(sys.executable)
    command[command.index("--schedule") + 1] = str(logs / "celerybeat-schedule")
    return command


def _point_at(tiktok: SandboxProcess, shopify: ShopifySandboxProcess) -> None:
    """Dropline's platform addresses: this process's settings, and the environment web, worker and beat inherit."""
    from django.conf import settings

    os.environ["TIKTOK_API_BASE_URL"] = os.environ["TIKTOK_AUTH_BASE_URL"] = tiktok.base_url
    os.environ["TIKTOK_AUTHORIZE_URL"] = f"{tiktok.base_url}/open/authorize"
    os.environ["SHOPIFY_SHOP_URL"] = shopify.shop_url
    settings.TIKTOK_API_BASE_URL = settings.TIKTOK_AUTH_BASE_URL = tiktok.base_url
    settings.TIKTOK_AUTHORIZE_URL = os.environ["TIKTOK_AUTHORIZE_URL"]
    settings.SHOPIFY_SHOP_URL = shopify.shop_url


def _purge_broker() -> None:
    """Messages an interrupted earlier run left in this bench's own Redis database name organizations that are gone.
    A broker given through REDIS_URL may be someone else's: it is left alone."""
    from erp.celery import app

    if os.environ["REDIS_URL"] == REDIS_URL:
        app.control.purge()


def _beat_seconds(entry: str) -> float:
    """How often beat runs `entry` (erp/celery.py)."""
    from erp.celery import app

    return float(app.conf.beat_schedule[entry]["schedule"])


def _wait_http(url: str, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


# --------------------------------------------------------------------------------------------------- the world
@dataclass
class StoreView:
    """One connected store and how its sandbox shows quantities."""

    key: str  # "tiktok_home", "tiktok_outlet", "shopify"
    platform: str
    store: Any
    sandbox: SandboxProcess
    shop: str  # TikTok shop id or Shopify domain

    def advertised(self) -> dict[str, int]:
        """Seller SKU -> the quantity this store's sandbox advertises (summed over its warehouses / locations)."""
        if self.platform == "tiktok":
            rows = self.sandbox.control("GET", f"inventory/{self.shop}")["skus"]
            return {row["seller_sku"]: sum(row["inventory"].values()) for row in rows}
        response = self.sandbox.http.get("/sandbox/inventory", params={"shop": self.shop})
        response.raise_for_status()
        return {item["sku"]: sum(level["available"] for level in item["levels"]) for item in response.json()["items"]}


@dataclass
class World:
    organization: Any
    warehouse: Any
    stores: dict[str, StoreView]
    tiktok: SandboxProcess
    shopify: SandboxProcess
    shared: list[str]  # seller SKUs every store lists, mapped to one SKU of ours
    measured: list[str]  # shared SKUs every store can be told a quantity for
    left_out: dict[str, dict[str, str]]  # shared SKU -> store -> why it cannot be told a quantity (not sold)
    tiktok_orders: dict[str, list[str]]  # seller SKU -> unpaid TikTok orders of one unit of it
    setup: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        orders = sum(len(ids) for ids in self.tiktok_orders.values())
        return (
            f"{len(self.stores)} stores, {len(self.shared)} shared SKUs ({len(self.measured)} sold in the run; "
            f"left out: {self.left_out or 'none'}), {orders} unpaid one-unit TikTok orders ready; {self.setup}"
        )


def _world(tiktok: SandboxProcess, shopify: ShopifySandboxProcess, count: int) -> World:
    from django.conf import settings

    # One line per push and per refused product is right for a worker's log, noise for a bench's output.
    for name in ("inventory.push", "integrations.tiktok.client", "integrations.shopify.client"):
        logging.getLogger(name).setLevel(logging.ERROR)

    from erp import services as erp_services
    from erp.actors import Actor
    from erp.models import User
    from erp.tenancy import organization_scope
    from integrations import services
    from integrations.models import Platform, Store
    from inventory import push
    from inventory.catalog import store_catalog_sync
    from inventory.models import Listing, Sku, WarehouseKind
    from inventory.services import skus_create_from_listings, stock_receive, warehouse_link_add, warehouse_save
    from orders.models import HoldReason, Order
    from orders.services import store_sync
    from orders.stock import orders_reallocate

    if tiktok.base_url != settings.TIKTOK_API_BASE_URL or not settings.SHOPIFY_SHOP_URL.startswith(shopify.base_url):
        raise RuntimeError("Dropline does not point at this bench's sandboxes")
    person = Actor.system("Bench")
    seller = next(s for s in tiktok.control("GET", "sellers")["sellers"] if s["name"] == TIKTOK_SELLER)
    shop_ids = {shop["name"]: shop["id"] for shop in seller["shops"]}
    home = shop_ids[TIKTOK_SHOP]
    # Orders to pay during the run, made before the import so that they are in Dropline already (as UNPAID).
    made = tiktok.control(
        "POST",
        f"shops/{home}/orders",
        count=40 + 10 * count,
        seed=17,
        status_mix={"UNPAID": 1},
        shipping_mix={"TIKTOK": 1},
        return_ids=True,
    )

    owner = User.objects.create_user(email="bench@example.com", password="x")
    organization = erp_services.organization_create(name="Bench Propagation", owner=owner)
    timings: dict[str, float] = {}

    def timed(name: str, began: float) -> None:
        timings[name] = round(time.monotonic() - began, 2)

    with organization_scope(organization):
        began = time.monotonic()
        _connect_tiktok(organization, person)
        _connect_shopify(organization, person)
        stores = list(Store.objects.select_related("authorization").order_by("platform", "name"))
        for store in stores:  # what the register_webhooks task queued by the connect does, done now
            services.store_webhooks_register(store=store)
        timed("connect", began)

        warehouse = warehouse_save(
            actor=person,
            fields={
                "name": "Bench Warehouse",
                "kind": WarehouseKind.OWN,
                "code": "BNC",
                "sender_name": "Bench Warehouse",
                "address_line1": "1200 Glendale Ave",
                "city": "Sparks",
                "state": "NV",
                "postal_code": "89431",
                "country_code": "US",
                "phone": "775-555-0100",
                "time_zone": "America/Los_Angeles",
            },
        )
        for store in stores:  # the warehouse page's "link a platform warehouse", for each of them
            for platform_warehouse in services.store_platform_warehouses(store):
                warehouse_link_add(
                    actor=person,
                    warehouse=warehouse,
                    store=store,
                    platform_warehouse_id=platform_warehouse.warehouse_id,
                    platform_name=platform_warehouse.name,
                    platform_address=services.platform_address_line(platform_warehouse.address),
                )

        began = time.monotonic()
        imported = 0
        for store in stores:
            while True:
                synced = store_sync(store=store, time_budget=600)
                imported += synced.created
                if synced.finished:
                    break
        timed("orders_import", began)
        began = time.monotonic()
        for store in stores:
            cursor = None
            while True:
                page = store_catalog_sync(store=store, cursor=cursor)
                cursor = page.next_cursor
                if not cursor:
                    break
        created, mapped = skus_create_from_listings(actor=person)
        timed("catalogue_and_skus", began)
        for sku in Sku.objects.order_by("code"):
            stock_receive(sku=sku, warehouse=warehouse, quantity=OPENING_STOCK, actor=person, reason="bench stock")
        held = Order.objects.filter(
            holds__reason__in=[HoldReason.UNMAPPED_SKU, HoldReason.OUT_OF_STOCK], holds__released_at__isnull=True
        )
        reallocated = orders_reallocate(order_ids=list(held.values_list("pk", flat=True).distinct()))

        push.changed_stock_mark()  # what beat's sweep would do with the receipts
        began = time.monotonic()
        pushes = []
        for _ in range(3):  # each store until nothing it can be told is left marked
            for store in stores:
                pushes.append(push.store_push(store=store))
            if not Listing.objects.filter(push_requested_at__lte=_now()).exists():
                break
        timed("push", began)

        views = {}
        for store in stores:
            if store.platform == Platform.SHOPIFY:
                views["shopify"] = StoreView("shopify", "shopify", store, shopify, store.external_id)
            else:
                key = "tiktok_home" if store.external_id == home else "tiktok_outlet"
                views[key] = StoreView(key, "tiktok", store, tiktok, store.external_id)

        codes_by_store = {
            key: set(Listing.objects.filter(store=view.store, sku__isnull=False).values_list("sku__code", flat=True))
            for key, view in views.items()
        }
        shared = sorted(set.intersection(*codes_by_store.values()))
        refused: dict[str, dict[str, str]] = {}  # SKU -> store -> why its channel cannot be told a quantity
        for key, view in views.items():
            for code, error in (
                Listing.objects.filter(store=view.store, sku__code__in=shared)
                .exclude(push_error="")
                .values_list("sku__code", "push_error")
            ):
                refused.setdefault(code, {})[key] = error
        measured = [code for code in shared if code not in refused]

    tiktok_orders: dict[str, list[str]] = {}
    for order_id in made["order_ids"]:
        lines = tiktok.control("GET", f"orders/{order_id}")["line_items"]
        if len(lines) == 1 and lines[0]["seller_sku"] in measured:
            tiktok_orders.setdefault(lines[0]["seller_sku"], []).append(order_id)

    world = World(
        organization=organization,
        warehouse=warehouse,
        stores=views,
        tiktok=tiktok,
        shopify=shopify,
        shared=shared,
        measured=measured,
        left_out=refused,
        tiktok_orders=tiktok_orders,
    )
    world.setup = {
        "orders_imported": imported,
        "skus_created": created,
        "listings_mapped": mapped,
        "orders_reallocated": reallocated,
        "pushed": sum(p.pushed for p in pushes),
        "seconds": timings,
    }
    return world


def _connect_tiktok(organization: Any, person: Any) -> None:
    """Connect TikTok Shop: the consent page is read and "Authorize" is pressed for the seller, the redirect back to
    Dropline is not followed; its query goes to the callback's service."""
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    from integrations import services
    from integrations.models import Platform

    session = SessionStore()
    consent = services.store_connect_start(session=session, organization=organization, platform=Platform.TIKTOK)
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        page = browser.get(consent)
        page.raise_for_status()
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
        seller = re.search(rf'name="seller_id" value="(\w+)"[^>]*>\s*<b>{re.escape(TIKTOK_SELLER)}</b>', page.text)
        if seller is None:
            raise RuntimeError(f"the TikTok consent page offers no seller {TIKTOK_SELLER}")
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        answer = browser.post(
            urljoin(str(page.url), action.group(1) if action else "/open/authorize/decision"),
            data={**form, "seller_id": seller.group(1), "action": "authorize"},
        )
    _complete(session, organization, person, Platform.TIKTOK, answer)


def _connect_shopify(organization: Any, person: Any) -> None:
    """Connect Shopify with the shop's address: the sandbox's consent approves at once and redirects back."""
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    from integrations import services
    from integrations.models import Platform

    session = SessionStore()
    consent = services.store_connect_start(
        session=session, organization=organization, platform=Platform.SHOPIFY, shop=SHOPIFY_SHOP
    )
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        answer = browser.get(consent)
    _complete(session, organization, person, Platform.SHOPIFY, answer)


def _complete(session: Any, organization: Any, person: Any, platform: str, answer: httpx.Response) -> None:
    from integrations import services

    if answer.status_code not in (302, 303) or "location" not in answer.headers:
        raise RuntimeError(f"{platform} consent did not redirect: {answer.status_code} {answer.text[:200]}")
    callback = dict(parse_qsl(urlparse(answer.headers["location"]).query, keep_blank_values=True))
    with services.store_sync_requested.muted():  # the first import is done by the bench, in line
        result = services.store_connect_complete(
            session=session,
            organization=organization,
            actor=person,
            platform=platform,
            code=callback.get("code", ""),
            state=callback.get("state", ""),
            callback=callback,
        )
    if result.refused or not result.connected:
        raise RuntimeError(f"{platform}: nothing connected ({result})")


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


# ------------------------------------------------------------------------------------------------- the books
def _available(world: World) -> dict[str, int]:
    """Seller SKU (= our SKU code) -> Dropline's available units (every warehouse that counts, as the push sums)."""
    from erp.tenancy import organization_scope
    from inventory.models import StockLevel, WarehouseKind

    totals: Counter = Counter()
    with organization_scope(world.organization):
        rows = StockLevel.objects.filter(sku__code__in=world.shared).exclude(warehouse__kind=WarehouseKind.PLATFORM)
        for code, on_hand, reserved, safety in rows.values_list("sku__code", "on_hand", "reserved", "safety_buffer"):
            totals[code] += max(0, on_hand - reserved - safety)
    return {code: totals[code] for code in world.shared}


def _policy_quantity(view: StoreView, available: int) -> int:
    from inventory.push import PushPolicy, policy_quantity

    return policy_quantity(available, PushPolicy.of(view.store))


def _disagreements(world: World, codes: list[str]) -> list[dict[str, Any]]:
    """Every (SKU, store) whose sandbox does not advertise what Dropline's books say it should; `refused` when the
    platform refused that store's updates of that SKU at setup already (a deactivated TikTok product)."""
    available = _available(world)
    found = []
    for key, view in world.stores.items():
        shown = view.advertised()
        for code in codes:
            wanted = _policy_quantity(view, available[code])
            if shown.get(code) != wanted:
                refused = key in world.left_out.get(code, {})
                found.append(
                    {"sku": code, "store": key, "dropline": wanted, "sandbox": shown.get(code), "refused": refused}
                )
    return found


def _settle(world: World, timeout: float = 30.0) -> None:
    """After the background started (it runs what the connect queued): wait until every store advertises Dropline's
    quantity for every measured SKU and nothing is left to push; the starting quantities must agree."""
    from erp.tenancy import organization_scope
    from inventory.models import Listing

    deadline = time.monotonic() + timeout
    while True:
        with organization_scope(world.organization):
            marked = Listing.objects.filter(sku__code__in=world.measured, push_requested_at__lte=_now()).count()
        wrong = _disagreements(world, world.measured)
        if not wrong and not marked:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the starting quantities do not agree: {wrong[:5]} ({marked} listings still marked)")
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------------------- the run
@dataclass
class Sale:
    index: int
    channel: str  # "tiktok" | "shopify"
    source: str  # the store sold on
    code: str
    units: int
    order: str
    started: float
    expected: dict[str, int]  # other store -> the quantity its sandbox should show
    seen: dict[str, float] = field(default_factory=dict)  # other store -> seconds after the sale

    @property
    def done(self) -> bool:
        return len(self.seen) == len(self.expected)

    @property
    def latency(self) -> float:
        return max(self.seen.values())


def _run(world: World, count: int, interval: float, timeout: float) -> dict[str, Any]:
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    books = _available(world)
    opening = dict(books)
    shown = {key: view.advertised() for key, view in world.stores.items()}
    print("starting quantities (Dropline / " + " / ".join(world.stores) + "):")
    for code in world.shared:
        note = "  (not sold: refused by " + ", ".join(world.left_out[code]) + ")" if code in world.left_out else ""
        print(f"  {code:<14} {opening[code]:>5} / " + " / ".join(str(shown[k].get(code)) for k in world.stores) + note)
    setup_stats = (world.tiktok.control("GET", "stats"), world.shopify.control("GET", "stats"))
    run_began = timezone.now()
    world.tiktok.control("POST", "stats/reset")
    world.shopify.control("POST", "stats/reset")
    sources = {"tiktok": "tiktok_home", "shopify": "shopify"}
    pending: list[Sale] = []
    finished: list[Sale] = []
    missed: list[Sale] = []
    busy: set[str] = set()
    turn = Counter()  # sales per SKU so far: the least sold free SKU goes next
    began = time.monotonic()
    next_at = began
    index = 0
    while index < count or pending:
        now = time.monotonic()
        if index < count and now >= next_at:
            channel = "tiktok" if index % 2 == 0 else "shopify"
            sale = _sell(world, index, channel, sources[channel], books, busy, turn)
            if sale is not None:
                pending.append(sale)
                busy.add(sale.code)
                turn[sale.code] += 1
                index += 1
                next_at = sale.started + interval
        if pending:
            targets = {key for sale in pending for key in sale.expected if key not in sale.seen}
            for key in sorted(targets):
                asked = time.monotonic()
                shown = world.stores[key].advertised()
                for sale in pending:
                    if key in sale.expected and key not in sale.seen and shown.get(sale.code) == sale.expected[key]:
                        sale.seen[key] = asked - sale.started
            for sale in list(pending):
                if sale.done or time.monotonic() - sale.started > timeout:
                    pending.remove(sale)
                    busy.discard(sale.code)
                    (finished if sale.done else missed).append(sale)
                    print(_sale_line(sale))
        time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - now)))
    run_seconds = time.monotonic() - began

    books_after, disagreeing = _final_books(world)  # the sold-on stores are told too
    wrong = [row for row in disagreeing if not row["refused"]]
    tiktok_stats = world.tiktok.control("GET", "stats")
    shopify_stats = world.shopify.control("GET", "stats")
    from erp.tenancy import organization_scope
    from integrations.models import WebhookDelivery
    from inventory.selectors import ledger_mismatches

    with organization_scope(world.organization):
        mismatches = len(ledger_mismatches())
        webhooks = {
            f"{platform} {topic} {state}": n
            for platform, topic, state, n in WebhookDelivery.objects.filter(received_at__gte=run_began)
            .values_list("platform", "topic", "state")
            .annotate(n=Count("pk"))
            .order_by("platform", "topic", "state")
        }
    sold = Counter()
    for sale in finished + missed:
        sold[sale.code] += sale.units
    expected_books = {code: opening[code] - sold[code] for code in world.shared}

    violations = sum(api.get("violations", 0) for api in tiktok_stats["apis"].values())
    throttled = shopify_stats["totals"]["throttled"]
    tiktok_calls = {name: api["requests"] for name, api in sorted(tiktok_stats["apis"].items())}
    shopify_calls = dict(sorted(shopify_stats["fields"].items()))
    directions = {
        "tiktok_to_shopify": _stats(
            [s.seen["shopify"] for s in finished + missed if "shopify" in s.seen and s.channel == "tiktok"]
        ),
        "shopify_to_tiktok": _stats(
            [s.seen["tiktok_home"] for s in finished + missed if "tiktok_home" in s.seen and s.channel == "shopify"]
        ),
    }
    by_store: dict[str, Any] = {}
    for source in ("tiktok_home", "shopify"):
        for target in world.stores:
            values = [s.seen[target] for s in finished + missed if s.source == source and target in s.seen]
            if values:
                by_store[f"{source}->{target}"] = _stats(values)
    every_other = {
        "from_tiktok": _stats([s.latency for s in finished if s.channel == "tiktok"]),
        "from_shopify": _stats([s.latency for s in finished if s.channel == "shopify"]),
        "all": _stats([s.latency for s in finished]),
    }
    debounce = float(settings.STOCK_PUSH_DEBOUNCE_SECONDS)
    beat_push = _beat_seconds("inventory-push-due-listings")
    beat_sync = _beat_seconds("orders-sync-due-stores")
    floor = debounce + beat_push + WEBHOOK_POLL_SECONDS
    isolated_mean = debounce + beat_push / 2 + WEBHOOK_POLL_SECONDS / 2
    lost_webhook = settings.ORDER_SYNC_INTERVAL_SECONDS + beat_sync + floor
    result = {
        "bench": "stock_propagation",
        "sales": count,
        "sales_by_channel": dict(Counter(s.channel for s in finished + missed)),
        "interval_seconds": interval,
        "run_seconds": round(run_seconds, 1),
        "latency_seconds": {"directions": directions, "every_other_store": every_other, "by_store": by_store},
        "misses": len(missed),
        "missed": [
            {
                "sale": s.index,
                "channel": s.channel,
                "sku": s.code,
                "order": s.order,
                "not_seen_on": sorted(set(s.expected) - set(s.seen)),
            }
            for s in missed
        ],
        "calls": {
            "tiktok": {"total": sum(tiktok_calls.values()), "by_api": tiktok_calls},
            "shopify": {
                "total": shopify_stats["totals"]["calls"],
                "queries": shopify_stats["totals"]["queries"],
                "mutations": shopify_stats["totals"]["mutations"],
                "by_root_field": shopify_calls,
            },
        },
        "calls_per_sale": round(
            (sum(tiktok_calls.values()) + shopify_stats["totals"]["calls"]) / max(1, len(finished) + len(missed)), 2
        ),
        "webhooks_received": webhooks,
        "tiktok_rate_limit_violations": violations,
        "shopify_throttled": throttled,
        "setup_tiktok_rate_limit_violations": sum(api.get("violations", 0) for api in setup_stats[0]["apis"].values()),
        "setup_shopify_throttled": setup_stats[1]["totals"]["throttled"],
        "opening_available": {code: opening[code] for code in world.measured},
        "final_books": {
            "skus_checked": len(world.shared),
            "stores_checked": len(world.stores),
            "disagreements": wrong,
            "refused_by_platform": [row for row in disagreeing if row["refused"]],
            "dropline_available": books_after,
            "dropline_matches_sales": all(books_after[c] == expected_books[c] for c in world.measured),
            "ledger_mismatches": mismatches,
        },
        "shared_skus": world.shared,
        "left_out": world.left_out,
        "stores": {key: view.store.name for key, view in world.stores.items()},
        "settings": {
            "STOCK_PUSH_DEBOUNCE_SECONDS": settings.STOCK_PUSH_DEBOUNCE_SECONDS,
            "ORDER_SYNC_INTERVAL_SECONDS": settings.ORDER_SYNC_INTERVAL_SECONDS,
            "beat_push_due_listings_seconds": beat_push,
            "beat_orders_sync_due_stores_seconds": beat_sync,
            "sandbox_webhook_poll_seconds": WEBHOOK_POLL_SECONDS,
            "tiktok_rate_limit_qps": tiktok_stats.get("rate_limit_qps"),
            "worker": "make run's (concurrency 2, every queue)",
            "web": "gunicorn, 1 worker x 8 threads",
        },
        "floor_seconds": floor,
        "floor": {
            "derivation": (
                f"What the design makes one sale wait before its push starts, calls not counted: the sandbox sends the "
                f"webhook within {WEBHOOK_POLL_SECONDS:g} s (its sender's poll); the worker fetches and reserves the "
                f"order, which marks the SKU's listings; beat (every {beat_push:g} s) queues a store's push "
                f"once one of its markers is older than the debounce ({debounce:g} s). floor_seconds = debounce + "
                f"beat interval + webhook poll = {floor:g} s bounds that wait; a latency above it plus the calls is "
                f"queueing or slowness, not design. A sale alone waits at least {debounce:g} s (mean about "
                f"{isolated_mean:g} s). A push takes every marked listing of the store, also ones younger than the "
                "debounce, so a sale that lands while an earlier change of that store waits rides its push and can "
                "show in under a second. In a steady stream of sales each store is pushed every debounce + beat "
                f"interval ({debounce + beat_push:g} s: the first change after a push must age the debounce, then "
                "wait for the next beat run), so latencies spread from about 0.5 s to the bound, p50 near half of it."
            ),
            "isolated_sale_min_seconds": debounce,
            "isolated_sale_mean_seconds": isolated_mean,
            "lost_webhook_seconds": lost_webhook,
            "lost_webhook": (
                f"a sale whose webhook is lost is found by the order poll: each store is polled every "
                f"{settings.ORDER_SYNC_INTERVAL_SECONDS} s, checked by beat every {beat_sync:g} s, so up to "
                f"{settings.ORDER_SYNC_INTERVAL_SECONDS + beat_sync:g} s + {floor:g} s = {lost_webhook:g} s"
            ),
        },
    }
    matches_sales = result["final_books"]["dropline_matches_sales"]
    clean = (
        violations
        == throttled
        == result["setup_tiktok_rate_limit_violations"]
        == result["setup_shopify_throttled"]
        == 0
    )
    result["ok"] = not missed and clean and not wrong and mismatches == 0 and matches_sales
    overall = every_other["all"]
    print(
        f"{len(finished)} of {count} sales seen on every other store: p50 {overall['p50']} s, p95 {overall['p95']} s, "
        f"max {overall['max']} s; TikTok->Shopify p50 {directions['tiktok_to_shopify']['p50']} s, "
        f"Shopify->TikTok p50 {directions['shopify_to_tiktok']['p50']} s; misses {len(missed)}"
    )
    print(
        f"floor {floor:g} s (debounce {debounce:g} + beat {beat_push:g} + webhook poll "
        f"{WEBHOOK_POLL_SECONDS:g}); a sale alone: {debounce:g} to {floor:g} s; a lost webhook: up to "
        f"{lost_webhook:g} s"
    )
    print(
        f"calls during the run: TikTok {result['calls']['tiktok']['total']} {tiktok_calls}; "
        f"Shopify {result['calls']['shopify']['total']} {shopify_calls}"
    )
    print(f"TikTok rate-limit violations: {violations}; Shopify throttled: {throttled}")
    print(f"webhooks received during the run: {webhooks}")
    print(
        f"final books: {len(world.shared)} SKUs x {len(world.stores)} stores, {len(wrong)} disagreements "
        f"(+{len(disagreeing) - len(wrong)} the platform refuses), "
        f"{mismatches} ledger mismatches; Dropline's books = opening - units sold: {matches_sales}"
    )
    return result


def _sell(
    world: World, index: int, channel: str, source: str, books: dict[str, int], busy: set[str], turn: Counter
) -> Sale | None:
    """One sale of one unit of a free SKU on `channel`, or None when every SKU it could sell is still in flight."""
    if channel == "tiktok":
        candidates = [code for code in world.measured if code not in busy and world.tiktok_orders.get(code)]
    else:
        candidates = [code for code in world.measured if code not in busy]
    if not candidates:
        return None
    code = min(candidates, key=lambda c: (turn[c], world.measured.index(c)))
    books[code] -= 1
    expected = {key: _policy_quantity(view, books[code]) for key, view in world.stores.items() if key != source}
    started = time.monotonic()
    if channel == "tiktok":
        order = world.tiktok_orders[code].pop(0)
        world.tiktok.control("POST", f"orders/{order}/events", type="pay")
    else:
        response = world.shopify.http.post(
            "/sandbox/orders", json={"shop": SHOPIFY_SHOP, "lines": [{"sku": code, "quantity": 1}]}
        )
        response.raise_for_status()
        order = response.json()["id"].rsplit("/", 1)[-1]
    return Sale(index, channel, source, code, 1, order, started, expected)


def _sale_line(sale: Sale) -> str:
    where = ", ".join(f"{key} {seconds:.2f} s" for key, seconds in sorted(sale.seen.items()))
    state = "seen" if sale.done else "MISSED"
    return f"sale {sale.index:3d} {sale.channel:<7} {sale.code:<14} {state}: {where or 'nowhere'}"


def _final_books(world: World, timeout: float = 30.0) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Once the last pushes are out (the sold-on store is told too): Dropline's books against every sandbox, for
    every shared SKU (those a platform refuses included: they are reported, flagged `refused`)."""
    deadline = time.monotonic() + timeout
    while True:
        found = _disagreements(world, world.shared)
        if all(row["refused"] for row in found) or time.monotonic() > deadline:
            return _available(world), found
        time.sleep(0.5)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(p95, 2),
        "max": round(ordered[-1], 2),
    }


if __name__ == "__main__":
    main()
