"""The quick start's demo organizations, made to look like a working shop: a TikTok shop and a Shopify store
connected, their orders synced and catalogues read, SKUs created from their seller SKUs (one SKU for both channels
where the seller SKU is the same), stock counted into an own warehouse with bins and pushed to both channels, and a
small label batch bought. Everything goes through Dropline's real services against the TikTok Shop and Shopify
sandboxes (the quick start runs each as its own process), exactly as a seller's clicks would; nothing is written to
the tables directly.

Each demo organization gets a sandbox seller and a Shopify shop of its own (named after it), so the sandboxes'
default sellers and shops stay free for a visitor to connect to an organization of their own. Safe to run again
(each step looks before it acts; a second `make run` adds nothing), and a few seconds long. Never run against real
platforms: `demo_populate_all` refuses when the TikTok or the Shopify client does not point at a local sandbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse, urlsplit

import httpx
from django.conf import settings
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.utils.text import slugify

from erp.actors import Actor
from erp.models import Organization
from erp.tasks import SandboxUnavailable
from erp.tenancy import organization_scope

log = logging.getLogger(__name__)

DEMO_EMAIL = "demo@dropline.local"
DEMO_PASSWORD = "dropline-demo"  # noqa: S105  (a published demo login for the local quick start only)
DEMO_ORGANIZATIONS = ("Demo Outfitters", "Demo Print Shop")
DEMO = Actor.system("Demo")
WAREHOUSE_NAME = "Demo Warehouse (Reno)"
ORDERS_PER_SHOP = 30
BATCH_SIZE = 5
UNITS_PER_SKU = 40
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class DemoResult:
    organization: str
    steps: list[str] = field(default_factory=list)

    def did(self, step: str) -> None:
        self.steps.append(step)


def sandbox_http() -> httpx.Client:
    base = settings.TIKTOK_API_BASE_URL
    host = urlparse(base).hostname or ""
    if host not in LOCAL_HOSTS:
        raise RuntimeError(f"the demo is seeded against a local TikTok sandbox only, not {base}")
    return httpx.Client(base_url=base, timeout=10)


def shopify_sandbox_http() -> httpx.Client:
    """The Shopify sandbox: the origin of the shop URL template, which names the shop as a path under it
    ("http://127.0.0.1:8766/{shop}"). A template with the shop in the host is Shopify itself: refused."""
    template = settings.SHOPIFY_SHOP_URL
    parts = urlsplit(template)
    if "{shop}" in parts.netloc or (parts.hostname or "") not in LOCAL_HOSTS:
        raise RuntimeError(f"the demo is seeded against a local Shopify sandbox only, not {template}")
    return httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", timeout=10)


def shopify_domain(organization_name: str) -> str:
    """The demo organization's own Shopify shop: "Demo Outfitters" -> "demo-outfitters.myshopify.com"."""
    return f"{slugify(organization_name)}.myshopify.com"


def _control(http: httpx.Client, method: str, path: str, **body: Any) -> Any:
    try:
        response = http.request(method, f"/sandbox/{path}", json=body or None)
    except httpx.TransportError as error:
        raise SandboxUnavailable(str(error)) from error
    response.raise_for_status()
    return response.json()


def _sandbox_seller(http: httpx.Client, name: str, seed: int) -> dict[str, Any]:
    """The demo organization's own seller in the sandbox (one US shop with orders), created the first time."""
    for seller in _control(http, "GET", "sellers")["sellers"]:
        if seller["name"] == name:
            return seller
    return _control(
        http,
        "POST",
        "sellers",
        name=name,
        region="US",
        shops=1,
        warehouses=1,
        orders_per_shop=ORDERS_PER_SHOP,
        seed=seed,
    )


def _shopify_shop(http: httpx.Client, name: str, seed: int) -> dict[str, Any]:
    """The demo organization's own shop in the Shopify sandbox (the default shops' catalogue, two locations, orders
    in every state), created the first time."""
    domain = shopify_domain(name)
    for shop in _control(http, "GET", "shops")["shops"]:
        if shop["myshopify_domain"] == domain:
            return shop
    return _control(http, "POST", "shops", name=name, domain=domain, orders=ORDERS_PER_SHOP, seed=seed)


def _connect(http: httpx.Client, organization: Organization, seller: dict[str, Any]) -> Any:
    """ "Connect TikTok Shop" and approve on the consent page, through the same services as the callback view. The
    sync a connect starts is done here, in line, so that the steps after it see the orders."""
    from integrations import services
    from integrations.models import Platform, Store

    session = SessionStore()
    url = services.store_connect_start(session=session, organization=organization, platform=Platform.TIKTOK)
    code = _control(http, "POST", "authorize", seller_id=seller["id"])["code"]
    with services.store_sync_requested.muted():
        result = services.store_connect_complete(
            session=session,
            organization=organization,
            platform=Platform.TIKTOK,
            actor=DEMO,
            code=code,
            state=parse_qs(urlparse(url).query)["state"][0],
        )
    if result.refused:
        raise RuntimeError(f"the demo shop {', '.join(result.refused)} is connected to another organization")
    return Store.objects.get(external_id=seller["shops"][0]["id"])


def _connect_shopify(http: httpx.Client, organization: Organization, domain: str) -> Any:
    """Type the store's address and "Connect Shopify", approve on the consent page (the sandbox approves at once and
    redirects), and come back to the callback with the signed query, through the same services as the callback view.
    The sync a connect starts is muted: `demo_populate` does it in line."""
    from integrations import services
    from integrations.models import Platform, Store

    session = SessionStore()
    url = services.store_connect_start(
        session=session, organization=organization, platform=Platform.SHOPIFY, shop=domain
    )
    try:
        consent = http.get(url)
    except httpx.TransportError as error:
        raise SandboxUnavailable(str(error)) from error
    if consent.status_code != 302:
        raise RuntimeError(f"the Shopify sandbox did not approve {domain}: {consent.status_code} {consent.text[:200]}")
    callback = dict(parse_qsl(urlsplit(consent.headers["location"]).query, keep_blank_values=True))
    with services.store_sync_requested.muted():
        result = services.store_connect_complete(
            session=session,
            organization=organization,
            platform=Platform.SHOPIFY,
            actor=DEMO,
            callback=callback,
            code=callback["code"],
            state=callback["state"],
        )
    if result.refused:
        raise RuntimeError(f"the demo store {', '.join(result.refused)} is connected to another organization")
    return Store.objects.get(platform=Platform.SHOPIFY, external_id=domain)


def _link_locations(warehouse: Any, store: Any, result: DemoResult) -> None:
    """The warehouse page's "link a platform warehouse", for each of the store's locations: Shopify wants a quantity
    per location, so the push needs to know which of ours each one is (both are the demo warehouse)."""
    from integrations.services import platform_address_line, store_platform_warehouses
    from inventory.models import WarehouseLink
    from inventory.services import warehouse_link_add

    linked = set(WarehouseLink.objects.filter(store=store).values_list("platform_warehouse_id", flat=True))
    added = 0
    for location in store_platform_warehouses(store):
        if location.warehouse_id in linked:
            continue
        warehouse_link_add(
            actor=DEMO,
            warehouse=warehouse,
            store=store,
            platform_warehouse_id=location.warehouse_id,
            platform_name=location.name,
            platform_address=platform_address_line(location.address),
        )
        added += 1
    if added:
        result.did(f"{added} {store.name} locations linked")


def _warehouse(result: DemoResult) -> Any:
    from inventory.models import Warehouse, WarehouseKind
    from inventory.services import warehouse_save

    warehouse = Warehouse.objects.filter(name=WAREHOUSE_NAME).first()
    if warehouse is None:
        warehouse = warehouse_save(
            actor=DEMO,
            fields={
                "name": WAREHOUSE_NAME,
                "kind": WarehouseKind.OWN,
                "code": "RNO",
                "sender_name": "Demo Warehouse",
                "address_line1": "1200 Glendale Ave",
                "city": "Sparks",
                "state": "NV",
                "postal_code": "89431",
                "country_code": "US",
                "phone": "775-555-0100",
                "time_zone": "America/Los_Angeles",
                "working_hours": "Mon–Fri 8:00–17:00",
            },
        )
        result.did("warehouse")
    return warehouse


def _stock(warehouse: Any, result: DemoResult) -> None:
    """Counted in, with a bin each, through the stock CSV import a seller would upload."""
    from inventory.csv_io import csv_import
    from inventory.models import Sku, StockLevel

    counted = set(StockLevel.objects.filter(warehouse=warehouse, on_hand__gt=0).values_list("sku_id", flat=True))
    skus = [sku for sku in Sku.objects.filter(is_bundle=False).order_by("code") if sku.pk not in counted]
    if not skus:
        return
    rows = ["sku_code,warehouse,counted,bin_location"]
    rows += [
        f"{sku.code},{warehouse.name},{UNITS_PER_SKU},A-{index // 4 + 1:02d}-{index % 4 + 1}"
        for index, sku in enumerate(skus)
    ]
    report = csv_import(kind="stock", text="\n".join(rows) + "\n", actor=DEMO, dry_run=False, reference="Demo stock")
    if report.errors:
        log.warning("demo stock import refused: %s", report.errors[:3])
        return
    result.did(f"stock for {len(skus)} SKUs")


def _release_held_orders() -> None:
    """What the mapping and stock events do in the background (re-check the orders held for an unmapped SKU or for
    stock), done in line so that the batch sees the result."""
    from orders.models import HoldReason, Order
    from orders.stock import orders_reallocate

    held = Order.objects.filter(
        holds__reason__in=[HoldReason.UNMAPPED_SKU, HoldReason.OUT_OF_STOCK], holds__released_at__isnull=True
    )
    ids = list(held.values_list("pk", flat=True).distinct())
    if ids:
        orders_reallocate(order_ids=ids)


def _batch(store: Any, result: DemoResult) -> None:
    from orders.models import Order
    from shipping.labels.batches import batch_plan, label_batch_create
    from shipping.models import LabelBatch

    if LabelBatch.objects.exists():
        return
    plan = batch_plan(Order.objects.filter(store=store).order_by("ship_by", "pk"))
    if not plan.orders:
        log.info("demo: no order can get a label yet (%s)", plan.skipped)
        return
    batch = label_batch_create(actor=DEMO, orders=plan.orders[:BATCH_SIZE])
    result.did(f"batch {batch.reference}")


def _push(stores: list[Any], result: DemoResult) -> None:
    """What beat does a few seconds after the stock count and the mappings (a push of every marked listing), done in
    line and for every mapped listing: both channels then advertise the stock counted in. Quantities are absolute,
    and one the channel already has from us is not sent again."""
    from inventory.push import store_listings_mark, store_push

    for store in stores:
        store_listings_mark(store=store)
        pushed = store_push(store=store)
        if pushed.pushed:
            result.did(f"stock of {pushed.pushed} listings pushed to {store.name}")
        if pushed.rejected or pushed.failed or pushed.busy or pushed.more:
            log.info("demo: stock push to %s: %s", store, pushed)


def demo_populate(
    *,
    organization: Organization,
    seed: int,
    http: httpx.Client | None = None,
    shopify_http: httpx.Client | None = None,
) -> DemoResult:
    """Make one demo organization a working shop (see the module docstring). Raises SandboxUnavailable while a
    sandbox's process is not up yet."""
    from inventory.catalog import store_catalog_sync
    from inventory.services import skus_create_from_listings
    from orders.services import store_sync

    http = http or sandbox_http()
    shopify_http = shopify_http or shopify_sandbox_http()
    result = DemoResult(organization=organization.name)
    with organization_scope(organization):
        seller = _sandbox_seller(http, organization.name, seed)
        shop = _shopify_shop(shopify_http, organization.name, seed)
        warehouse = _warehouse(result)  # before the orders arrive, so that they are allocated to it
        store = _connect(http, organization, seller)
        shopify_store = _connect_shopify(shopify_http, organization, shop["myshopify_domain"])
        _link_locations(warehouse, shopify_store, result)
        stores = [store, shopify_store]
        for each in stores:
            synced = store_sync(store=each)
            if synced.created:
                result.did(f"{synced.created} orders from {each.name}")
        for each in stores:  # every variant a listing, also those that have not sold yet
            catalogue = store_catalog_sync(store=each)
            if catalogue.created:
                result.did(f"{catalogue.created} listings from {each.name}'s catalogue")
        created, mapped = skus_create_from_listings(actor=DEMO)  # by seller SKU: one SKU for both channels
        if created or mapped:
            result.did(f"{created} SKUs from seller SKUs ({mapped} listings mapped)")
        _stock(warehouse, result)
        _release_held_orders()
        _batch(store, result)
        _push(stores, result)
    return result


def demo_organizations() -> list[Organization]:
    """The demo login's organizations, in the order they were made (a deliberate cross-tenant read by user)."""
    from erp.models import Membership

    memberships = Membership.unscoped.filter(user__email=DEMO_EMAIL, organization__name__in=DEMO_ORGANIZATIONS)
    return [m.organization for m in memberships.select_related("organization").order_by("organization__created_at")]


def demo_populate_all(
    *, http: httpx.Client | None = None, shopify_http: httpx.Client | None = None
) -> list[DemoResult]:
    """Every demo organization, each with its own sandbox seller and Shopify shop (seeded 1, 2...: the same shops on
    every run). Refuses before doing anything unless both clients point at local sandboxes."""
    http = http or sandbox_http()
    shopify_http = shopify_http or shopify_sandbox_http()
    return [
        demo_populate(organization=organization, seed=seed, http=http, shopify_http=shopify_http)
        for seed, organization in enumerate(demo_organizations(), start=1)
    ]
