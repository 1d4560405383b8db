"""The quick start's demo organizations show a working shop: a connected TikTok shop and Shopify store with their
orders, SKUs made from their seller SKUs (one SKU for both channels), stock in an own warehouse with bins pushed to
both channels, and a bought label batch, all made through Dropline's services against the sandboxes. Running it again
adds nothing."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.management import call_command

from erp.demo import (
    WAREHOUSE_NAME,
    DemoResult,
    demo_organizations,
    demo_populate,
    demo_populate_all,
    shopify_domain,
)
from erp.models import Organization, User
from erp.tasks import SandboxUnavailable, demo_seed
from erp.tenancy import organization_scope
from integrations.models import Platform, Store
from inventory.models import Listing, Sku, StockLevel, Warehouse, WarehouseLink
from orders.models import Order
from shipping.models import LabelBatch, LabelPurchase, PurchaseState

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopify(settings: Any) -> Iterator[httpx.Client]:
    """The Shopify sandbox on a real socket (Dropline's adapter talks to it over HTTP), knowing Dropline's app, with
    Dropline's shop URLs pointed at it. Yields a client on its origin, as the demo's own."""
    from django.core.cache import caches

    from sandboxes.shopify.app import ShopifySandbox
    from sandboxes.shopify.config import ShopifyConfig
    from sandboxes.shopify.server import start_in_thread

    sandbox = ShopifySandbox(
        ShopifyConfig(client_id=settings.SHOPIFY_CLIENT_ID, client_secret=settings.SHOPIFY_CLIENT_SECRET)
    )
    server, base_url = start_in_thread(sandbox, port=0, deliver_webhooks=False)
    settings.SHOPIFY_SHOP_URL = base_url + "/{shop}"
    caches["default"].clear()  # no cost-bucket state of another test's sandbox
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http
    server.shutdown()


def counts(organization: Organization) -> dict[str, int]:
    with organization_scope(organization):
        return {
            "stores": Store.objects.count(),
            "shopify_stores": Store.objects.filter(platform=Platform.SHOPIFY).count(),
            "orders": Order.objects.count(),
            "shopify_orders": Order.objects.filter(store__platform=Platform.SHOPIFY).count(),
            "listings": Listing.objects.count(),
            "links": WarehouseLink.objects.count(),
            "skus": Sku.objects.count(),
            "warehouses": Warehouse.objects.filter(name=WAREHOUSE_NAME).count(),
            "stocked": StockLevel.objects.filter(on_hand__gt=0).exclude(bin_location="").count(),
            "batches": LabelBatch.objects.count(),
            "bought": LabelPurchase.objects.filter(state=PurchaseState.PURCHASED).count(),
        }


def populate(organization: Organization, seed: int, tiktok: Any, shopify: httpx.Client, capture: Any) -> DemoResult:
    """As the worker runs it: what each step queues after its commit (syncs, label purchases) runs too, in the
    organization's scope (tasks run inline in tests)."""
    with organization_scope(organization), capture(execute=True):
        return demo_populate(organization=organization, seed=seed, http=tiktok.http, shopify_http=shopify)


def advertised(tiktok: Any, shopify: httpx.Client, store: Store) -> dict[str, int]:
    """Seller SKU -> the units the channel itself advertises now (every warehouse or location summed)."""
    if store.platform == Platform.SHOPIFY:
        items = shopify.get("/sandbox/inventory", params={"shop": store.external_id}).json()["items"]
        return {item["sku"]: sum(level["available"] for level in item["levels"]) for item in items}
    world = tiktok.sandbox.world
    return {
        sku.seller_sku: sum(sku.inventory.values()) for p in world.shops[store.external_id].products for sku in p.skus
    }


def test_the_demo_organizations_are_a_working_shop_and_seeding_again_adds_nothing(
    tiktok: Any, shopify: httpx.Client, django_capture_on_commit_callbacks: Any
) -> None:
    call_command("seed_demo", "--no-populate")
    organizations = demo_organizations()
    assert [o.name for o in organizations] == ["Demo Outfitters", "Demo Print Shop"]

    started = time.monotonic()
    for seed, organization in enumerate(organizations, start=1):
        populate(organization, seed, tiktok, shopify, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 30

    for organization in organizations:
        seeded = counts(organization)
        assert seeded["stores"] == 2
        assert seeded["shopify_stores"] == 1
        assert seeded["orders"] - seeded["shopify_orders"] >= 20
        assert seeded["shopify_orders"] >= 15  # those of the backfill window (the seed spreads them over 50 days)
        assert seeded["skus"] == 13  # the catalogue both sandboxes sell, by seller SKU
        assert seeded["links"] == 2  # the Shopify store's two locations are the demo warehouse
        assert seeded["warehouses"] == 1
        assert seeded["stocked"] == seeded["skus"]
        assert seeded["batches"] == 1
        assert seeded["bought"] >= 1
    # Each demo organization has a sandbox seller and a Shopify shop of its own, named after it: the sandboxes'
    # default sellers and shops stay free for a visitor.
    names = sorted(Store.unscoped.filter(organization__in=organizations).values_list("platform", "name", "external_id"))
    tiktok_names = [name for platform, name, _ in names if platform == Platform.TIKTOK]
    assert tiktok_names == ["Demo Outfitters Shop 1", "Demo Print Shop Shop 1"]
    assert [(name, shop) for platform, name, shop in names if platform == Platform.SHOPIFY] == [
        ("Demo Outfitters", "demo-outfitters.myshopify.com"),
        ("Demo Print Shop", "demo-print-shop.myshopify.com"),
    ]
    shops = {s["myshopify_domain"]: s for s in shopify.get("/sandbox/shops").json()["shops"]}
    assert not shops["dropline-demo.myshopify.com"]["installed"]
    assert not shops["dropline-uk.myshopify.com"]["installed"]
    assert shops["demo-outfitters.myshopify.com"]["installed"]

    for organization in organizations:
        with organization_scope(organization):
            stores = list(Store.objects.order_by("platform"))
            listings = Listing.objects.filter(store__in=stores)
            # Every listing of both channels is mapped, and a seller SKU sold on both is one SKU of ours.
            assert not listings.filter(sku__isnull=True).exists()
            by_code: dict[str, set[object]] = {}
            for code, sku_id in listings.values_list("seller_sku", "sku_id"):
                by_code.setdefault(code, set()).add(sku_id)
            assert all(len(ids) == 1 for ids in by_code.values())
            shared = {code for (code,) in listings.filter(store=stores[0]).values_list("seller_sku")} & {
                code for (code,) in listings.filter(store=stores[1]).values_list("seller_sku")
            }
            assert len(shared) == 13
            # The stock counted in is what both channels advertise: pushed, and said by the channels themselves.
            ours = {
                store.platform: dict(listings.filter(store=store).values_list("seller_sku", "advertised_quantity"))
                for store in stores
            }
            theirs = {store.platform: advertised(tiktok, shopify, store) for store in stores}
            pushed = [code for code in sorted(shared) if ours[Platform.TIKTOK][code] is not None]
            assert len(pushed) >= 10, ours
            for code in pushed:
                assert ours[Platform.SHOPIFY][code] == ours[Platform.TIKTOK][code], code
                assert theirs[Platform.SHOPIFY][code] == theirs[Platform.TIKTOK][code] == ours[Platform.TIKTOK][code], (
                    code
                )
    first = counts(organizations[0])

    again = populate(organizations[0], 1, tiktok, shopify, django_capture_on_commit_callbacks)

    assert counts(organizations[0]) == first
    assert again.steps == []
    assert len(shopify.get("/sandbox/shops").json()["shops"]) == 4  # its shop was found, not made again


def test_the_demo_refuses_a_shopify_that_is_not_a_local_sandbox(settings: Any) -> None:
    call_command("seed_demo", "--no-populate")
    for template in ("https://{shop}", "https://shopify-sandbox.example.com/{shop}"):
        settings.SHOPIFY_SHOP_URL = template
        with pytest.raises(RuntimeError, match="local Shopify sandbox only"):
            demo_populate_all()
    assert not Store.unscoped.exists()


def test_the_demo_waits_for_a_shopify_sandbox_that_is_not_up_yet(
    tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Like the TikTok part: SandboxUnavailable, which the worker's task retries, and nothing connected meanwhile."""
    call_command("seed_demo", "--no-populate")
    organization = demo_organizations()[0]
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SHOPIFY_SHOP_URL = f"http://127.0.0.1:{port}/{{shop}}"
    with organization_scope(organization), pytest.raises(SandboxUnavailable):
        demo_populate(organization=organization, seed=1, http=tiktok.http)
    assert not Store.unscoped.exists()
    assert SandboxUnavailable in demo_seed.autoretry_for


def test_the_demo_shop_is_named_after_the_organization() -> None:
    assert shopify_domain("Demo Outfitters") == "demo-outfitters.myshopify.com"
    assert shopify_domain("Demo Print Shop") == "demo-print-shop.myshopify.com"


def test_seed_demo_queues_the_population_for_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr("erp.tasks.demo_seed.delay", lambda **kwargs: queued.append(kwargs))
    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.filter(email="demo@dropline.local").count() == 1
    assert Organization.objects.filter(name__startswith="Demo ").count() == 2
    assert len(queued) == 2  # each run asks; the task itself adds nothing the second time
