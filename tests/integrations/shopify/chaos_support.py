"""What the Shopify chaos tests share: a Dropline store connected to the sandbox through the services, the sandbox's
own view of a shop's orders and stock (read from its control API, never through the adapter under test), Dropline's
view of the same, the environment of a real worker process pointed at the sandbox, and a real HTTP front that hands
the sandbox's webhook deliveries to Dropline's webhook view with faults of its own."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.db import connections
from django.test import Client

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations import services
from integrations.models import Platform, Store
from inventory.models import Listing, StockLevel, Warehouse
from inventory.push import changed_stock_mark
from inventory.services import skus_create_from_listings, stock_receive, warehouse_link_add
from orders.models import Order, OrderLine
from tests.factories import WarehouseFactory
from tests.integrations.shopify.conftest import SHOP, Sandbox
from tests.workers import sandbox_env

ROBOT = Actor.system("chaos test")


def numeric(gid: str) -> str:
    return str(gid).rsplit("/", 1)[-1]


def moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ------------------------------------------------------------------------------------------------ connecting
def connect_store(sandbox: Sandbox, organization: Any, shop: str = SHOP, *, backfill_days: int = 90) -> Store:
    """Connect `shop` the way a seller does (Stores → Connect Shopify → consent → callback), through the services,
    without the sync and catalogue read a connection starts (each test starts them itself). The webhook subscriptions
    a connection registers are made (at DROPLINE_PUBLIC_URL). `backfill_days` reaches past the seed's oldest order,
    so every order of the shop is one Dropline must import."""
    session: dict[str, Any] = {}
    consent = services.store_connect_start(
        session=session,  # type: ignore[arg-type]  # a dict is all the services use of a session
        organization=organization,
        platform=Platform.SHOPIFY,
        shop=shop,
    )
    answer = sandbox.control_http.get(consent)
    assert answer.status_code == 302, answer.text
    callback = dict(parse_qsl(urlsplit(answer.headers["location"]).query, keep_blank_values=True))
    with services.store_sync_requested.muted():
        result = services.store_connect_complete(
            session=session,  # type: ignore[arg-type]
            organization=organization,
            actor=ROBOT,
            platform=Platform.SHOPIFY,
            code=callback["code"],
            state=callback["state"],
            callback=callback,
        )
    (store,) = result.connected
    Store.unscoped.filter(pk=store.pk).update(backfill_days=backfill_days)
    return Store.unscoped.select_related("authorization", "organization").get(pk=store.pk)


def worker_env(sandbox: Sandbox) -> dict[str, str]:
    """A real worker process on this test's database, with Dropline's Shopify app pointed at the sandbox."""
    return {
        **sandbox_env(sandbox.base_url),
        "SHOPIFY_SHOP_URL": sandbox.base_url + "/{shop}",
        "SHOPIFY_CLIENT_ID": settings.SHOPIFY_CLIENT_ID,
        "SHOPIFY_CLIENT_SECRET": settings.SHOPIFY_CLIENT_SECRET,
        "SHOPIFY_API_VERSION": settings.SHOPIFY_API_VERSION,
    }


# ------------------------------------------------------------------------------------------------ orders
@dataclass(frozen=True)
class OrderView:
    """One order as compared between the sandbox and Dropline: its version, whether it is cancelled, and its units
    per seller SKU (all of them, and the shipped ones)."""

    updated_at: datetime
    cancelled: bool
    units: dict[str, int]
    shipped: dict[str, int]


def shop_orders(sandbox: Sandbox, shop: str = SHOP) -> dict[str, OrderView]:
    """Every order of the shop as the sandbox holds it (its control API: the platform's own state). Units are what
    still counts (an edit removes units; a cancelled order refunded to nothing keeps its ordered units, as
    cancelled), shipped units are the fulfilled ones that still count."""
    orders = sandbox.control("GET", "/sandbox/orders", params={"shop": shop})["orders"]
    views = {}
    for order in orders:
        cancelled = order["cancelled_at"] is not None
        units: Counter[str] = Counter()
        shipped: Counter[str] = Counter()
        for line in order["lines"]:
            count = line["current_quantity"] or (line["quantity"] if cancelled else 0)
            units[line["sku"]] += count
            shipped[line["sku"]] += min(line["fulfilled_quantity"], count)
        updated = moment(order["updated_at"])
        assert updated is not None
        views[numeric(order["id"])] = OrderView(updated, cancelled, _positive(units), _positive(shipped))
    return views


def dropline_orders(store: Store) -> dict[str, OrderView]:
    """Every order of the store as Dropline holds it."""
    units: dict[object, Counter[str]] = {}
    shipped: dict[object, Counter[str]] = {}
    for order_id, sku, quantity, package_status in OrderLine.unscoped.filter(order__store=store).values_list(
        "order_id", "seller_sku", "quantity", "package_status"
    ):
        units.setdefault(order_id, Counter())[sku] += quantity
        if package_status == "COMPLETED":
            shipped.setdefault(order_id, Counter())[sku] += quantity
    return {
        external_id: OrderView(
            updated_at,
            status == "CANCELLED",
            _positive(units.get(pk, Counter())),
            _positive(shipped.get(pk, Counter())),
        )
        for pk, external_id, updated_at, status in Order.unscoped.filter(store=store).values_list(
            "pk", "external_id", "platform_updated_at", "status"
        )
    }


def _positive(counts: Counter[str]) -> dict[str, int]:
    return {sku: n for sku, n in sorted(counts.items()) if n > 0}


def versions(views: dict[str, OrderView]) -> dict[str, datetime]:
    return {order_id: view.updated_at for order_id, view in views.items()}


def place_orders(sandbox: Sandbox, count: int, shop: str = SHOP) -> list[str]:
    """`count` buyers each place an order of 1-3 random variants (the sandbox's seeded choice)."""
    return [numeric(sandbox.control("POST", "/sandbox/orders", json={"shop": shop})["id"]) for _ in range(count)]


def cancel(sandbox: Sandbox, order_id: str) -> None:
    sandbox.control("POST", f"/sandbox/orders/{order_id}/cancel", json={"reason": "customer"})


def fulfil_in_admin(sandbox: Sandbox, order_id: str, tracking: str) -> None:
    """The merchant fulfils every unit still to ship in Shopify's admin (not through Dropline)."""
    order = sandbox.control("GET", f"/sandbox/orders/{order_id}")
    left = {line["sku"]: line["current_quantity"] - line["fulfilled_quantity"] for line in order["lines"]}
    sandbox.control(
        "POST",
        f"/sandbox/orders/{order_id}",
        json={"fulfill": {s: n for s, n in left.items() if n > 0}, "tracking": {"company": "UPS", "number": tracking}},
    )


def open_orders(sandbox: Sandbox, shop: str = SHOP) -> list[str]:
    """Orders with units still to ship and nothing on hold (the ones a merchant can still cancel or fulfil)."""
    orders = sandbox.control("GET", "/sandbox/orders", params={"shop": shop})["orders"]
    return [
        numeric(o["id"])
        for o in orders
        if o["cancelled_at"] is None and o["display_fulfillment_status"] == "UNFULFILLED"
    ]


# ------------------------------------------------------------------------------------------------ stock
@dataclass
class Stocked:
    """The store's catalogue as listings mapped to our SKUs, with stock in two warehouses of ours, each linked to one
    of the shop's two locations."""

    store: Store
    warehouses: dict[str, Warehouse]  # Shopify location id -> our warehouse
    listings: dict[str, Listing]  # seller SKU -> listing


def stock_up(store: Store, sandbox: Sandbox, *, base: int = 20) -> Stocked:
    """Read the shop's catalogue into listings (inventory.catalog, as on connect), create our SKUs from them, link
    each Shopify location to a warehouse of ours and receive stock there (`base` + n units, n the SKU's position)."""
    from inventory.catalog import store_catalog_sync

    (state,) = [s for s in sandbox.control("GET", "/sandbox/state")["shops"] if s["myshopify_domain"] == SHOP]
    with organization_scope(store.organization):
        store_catalog_sync(store=store)
        skus_create_from_listings(actor=ROBOT)
        warehouses = {}
        for location in state["locations"]:
            warehouse = WarehouseFactory(organization=store.organization, name=f"Ours for {location['name']}")
            warehouse_link_add(
                actor=ROBOT, warehouse=warehouse, store=store, platform_warehouse_id=numeric(location["id"])
            )
            warehouses[numeric(location["id"])] = warehouse
        listings = {
            listing.seller_sku: listing
            for listing in Listing.objects.filter(store=store).select_related("sku").order_by("seller_sku")
        }
        for n, listing in enumerate(listings.values()):
            for k, warehouse in enumerate(warehouses.values()):
                stock_receive(sku=listing.sku, warehouse=warehouse, quantity=base + n + 7 * k, actor=ROBOT)
    changed_stock_mark()  # beat's sweep: the listings of the stock received are marked for a push
    return Stocked(store=store, warehouses=warehouses, listings=listings)


def dropline_available(stocked: Stocked) -> dict[tuple[str, str], int]:
    """(seller SKU, Shopify location id) -> what Dropline can ship from the warehouse linked to that location."""
    by_warehouse = {warehouse.pk: location for location, warehouse in stocked.warehouses.items()}
    codes = {listing.sku_id: code for code, listing in stocked.listings.items()}
    return {
        (codes[level.sku_id], by_warehouse[level.warehouse_id]): level.available
        for level in StockLevel.unscoped.filter(sku_id__in=list(codes), warehouse_id__in=list(by_warehouse))
    }


def shop_available(sandbox: Sandbox, shop: str = SHOP) -> dict[tuple[str, str], int]:
    """(seller SKU, location id) -> `available` as the sandbox holds it, at every location stocking the SKU."""
    items = sandbox.control("GET", "/sandbox/inventory", params={"shop": shop})["items"]
    return {
        (item["sku"], numeric(level["location_id"])): level["available"] for item in items for level in item["levels"]
    }


def set_quantity_changes(sandbox: Sandbox, shop: str = SHOP) -> list[dict[str, Any]]:
    """The sandbox's log of adjustment groups made by inventorySetQuantities."""
    return sandbox.control(
        "GET", "/sandbox/inventory/changes", params={"shop": shop, "source": "inventorySetQuantities"}
    )["changes"]


# ------------------------------------------------------------------------------------------------ webhooks
@dataclass
class Received:
    """One POST the front received, and what it answered (None: no answer, the connection was held past the
    sandbox's timeout)."""

    headers: dict[str, str]
    body: bytes
    status: int | None = None

    @property
    def event_id(self) -> str:
        return self.headers.get("x-shopify-event-id", "")

    @property
    def topic(self) -> str:
        return self.headers.get("x-shopify-topic", "")


@dataclass
class Front:
    """Dropline's web process on a real socket: each POST is handed to Django's test Client (Dropline's own URL
    routing, middleware and webhook view, in this process and on this test's database). Its faults: `slow` holds the
    answer of the first delivery a predicate picks until after the sandbox has given up waiting (Dropline recorded it,
    the sandbox saw a timeout)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    slow: Callable[[Received], bool] | None = None
    hold_seconds: float = 0.0
    _server: http.server.ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Front:
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got = Received({k.lower(): v for k, v in self.headers.items()}, body)
                with front._lock:
                    front.received.append(got)
                    held = front.slow is not None and front.slow(got)
                    if held:
                        front.slow = None  # the first one only
                got.status = front.forward(got)
                if held:
                    time.sleep(front.hold_seconds)  # the sandbox stops waiting meanwhile
                try:
                    self.send_response(got.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sandbox hung up: the answer is lost
                    got.status = None

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def forward(self, got: Received) -> int:
        """Dropline's answer to one delivery, as its web process gives it (a failure inside is a 500, not a raise)."""
        meta = {
            f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in got.headers.items()
            if name not in ("content-type", "content-length", "host")
        }
        try:
            response = Client(raise_request_exception=False).generic(
                "POST", "/webhooks/shopify/", got.body, content_type=got.headers.get("content-type", ""), **meta
            )
        finally:
            connections.close_all()  # this thread's connection (the test client leaves it open, as tests want)
        return response.status_code

    def post(self, headers: dict[str, str], body: bytes) -> int:
        """Send one request to the front as anybody on the internet could."""
        import httpx

        return httpx.post(self.url + "/webhooks/shopify/", content=body, headers=headers, timeout=10).status_code

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def flush_until_settled(sandbox: Sandbox, *, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Send every due delivery and retry the failed ones (the sandbox's retry schedule is compressed) until none is
    pending; returns the sandbox's delivery log."""
    deadline = time.monotonic() + timeout
    while True:
        sandbox.control("POST", "/sandbox/webhooks/flush")
        log = sandbox.control("GET", "/sandbox/webhooks")["deliveries"]
        if not any(d["state"] == "pending" for d in log):
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries still pending after {timeout}s: {json.dumps(log)[:2000]}")
        time.sleep(0.1)


def parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread with its own database connection; their results."""
    from django.db import connection

    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = calls[index]()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
