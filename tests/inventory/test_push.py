"""Stock push: a stock change reaches TikTok's inventory (the sandbox's own state says so), batched per product,
debounced, under the store's policy; per-SKU refusals land on the listing; nothing is lost or sent for nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from integrations.tiktok.client import TikTokShopClient
from inventory import push, services, tasks
from inventory.models import Listing, Sku, StockLevel, Warehouse, WarehouseKind
from tests.factories import (
    BundleComponentFactory,
    ListingFactory,
    SkuFactory,
    StockLevelFactory,
    WarehouseFactory,
    WarehouseLinkFactory,
)
from tests.tiktok_harness import tiktok_client

pytestmark = pytest.mark.django_db

UPDATE = "POST /product/202309/products/{product_id}/inventory/update"
SEARCH = "POST /product/202309/inventory/search"


# ---------------------------------------------------------------------------------------------------- the policy
@pytest.mark.parametrize(
    ("available", "policy", "expected"),
    [
        (40, {}, 40),
        (-3, {}, 0),
        (40, {"percentage": 50}, 20),
        (7, {"percentage": 50}, 3),  # rounded down: never advertise a unit we do not have
        (40, {"percentage": 0}, 0),  # out of range is clamped to 1 %
        (40, {"percentage": 250}, 40),  # ... and to 100 %
        (40, {"max_advertised": 25}, 25),
        (10, {"max_advertised": 25}, 10),
        (4, {"zero_below": 5}, 0),
        (5, {"zero_below": 5}, 5),
        (40, {"buffer": 3}, 37),
        (2, {"buffer": 3}, 0),
        (100, {"buffer": 10, "percentage": 50, "max_advertised": 40}, 40),  # buffer, then share, then cap
        (100, {"buffer": 10, "percentage": 50}, 45),
        (6, {"zero_below": 5, "buffer": 3}, 3),  # the threshold looks at real stock, before the buffer
        (250_000, {}, 99_999),  # TikTok's ceiling
    ],
)
def test_policy_math(available: int, policy: dict[str, Any], expected: int) -> None:
    assert push.listing_quantity(available, **policy) == expected


@pytest.mark.parametrize(
    ("total", "behind", "expected"),
    [
        (10, {"a": 10, "b": 10}, {"a": 5, "b": 5}),
        (5, {"a": 10, "b": 10}, {"a": 3, "b": 2}),  # tie on the remainder: by warehouse id
        (7, {"a": 1, "b": 9}, {"a": 1, "b": 6}),
        (30, {"a": 4, "b": 6}, {"a": 4, "b": 6}),  # never more than a warehouse has
        (9, {"a": 0, "b": 0}, {"a": 0, "b": 0}),
        (0, {"a": 3}, {"a": 0}),
    ],
)
def test_a_total_is_shared_among_warehouses_by_their_stock(
    total: int, behind: dict[str, int], expected: dict[str, int]
) -> None:
    shares = push.split_quantity(total, behind)
    assert shares == expected
    assert sum(shares.values()) == min(total, sum(behind.values()))


# ---------------------------------------------------------------------------------------------------- set-up
@dataclass
class Shop:
    store: Store
    world: Any  # the sandbox's shop
    listings: dict[str, Listing]  # seller SKU -> listing, mapped to our SKU of the same code

    def listing(self, prefix: str) -> Listing:
        return next(listing for code, listing in sorted(self.listings.items()) if code.startswith(prefix))

    def product_of(self, listing: Listing) -> Any:
        return next(p for p in self.world.products if p.id == listing.platform_product_id)


def _connect(tenant: Any, tiktok: Any, name: str) -> Shop:
    """Connect the demo seller, and map every SKU of the shop's catalogue to one of ours with the same code."""
    if not Store.unscoped.filter(organization=tenant.organization).exists():
        tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name=name)
    shop = tiktok.sandbox.world.shops[store.external_id]
    lines = [(s.id, s.seller_sku, p.id, p.title) for p in shop.products for s in p.skus]
    for _, code, _, title in lines:
        if not Sku.objects.filter(code=code).exists():
            SkuFactory(organization=tenant.organization, code=code, name=title)
    listings = services.listings_for_lines(store=store, lines=lines)
    return Shop(store=store, world=shop, listings={listing.seller_sku: listing for listing in listings.values()})


def _receive(sku: Sku, warehouse: Warehouse, quantity: int, capture: Any) -> None:
    """A receipt, then beat's sweep: it marks the listings of the stock that changed."""
    with capture(execute=True):  # the stock_changed receivers run after commit
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=quantity, actor=Actor.system())
    push.changed_stock_mark()


def _updates(tiktok: Any) -> int:
    return tiktok.control("GET", "stats")["apis"].get(UPDATE, {}).get("requests", 0)


def _platform_quantities(tiktok: Any, store: Store, sku_id: str) -> dict[str, int]:
    """The SKU's per-warehouse quantities, as the sandbox's control API reports its own state."""
    skus = tiktok.control("GET", f"inventory/{store.external_id}")["skus"]
    return next(s["inventory"] for s in skus if s["sku_id"] == sku_id)


@contextmanager
def _no_debounce(settings: Any) -> Iterator[None]:
    settings.STOCK_PUSH_DEBOUNCE_SECONDS = 0
    yield


# ---------------------------------------------------------------------------------------------------- the push
def test_stock_changes_reach_tiktok_inventory_in_one_call_per_product(
    tenant: Any, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Home US")
        # Both TikTok warehouses of the shop are ours: the cardigan SKUs live in both.
        east, west = (
            WarehouseFactory(organization=tenant.organization, name="East"),
            WarehouseFactory(organization=tenant.organization, name="West"),
        )
        wh1, wh2 = (w.id for w in shop.world.warehouses)
        WarehouseLinkFactory(
            organization=tenant.organization, store=shop.store, warehouse=east, platform_warehouse_id=wh1
        )
        WarehouseLinkFactory(
            organization=tenant.organization, store=shop.store, warehouse=west, platform_warehouse_id=wh2
        )
        cardigans = [listing for code, listing in shop.listings.items() if code.startswith("WOMEN")]
        assert len(cardigans) == 3
        tiktok.control("POST", "stats/reset")

        # Many changes to the three SKUs of one product, a few seconds apart.
        for round_ in range(3):
            for listing in cardigans:
                _receive(listing.sku, east, 10 + round_, django_capture_on_commit_callbacks)
                _receive(listing.sku, west, 4, django_capture_on_commit_callbacks)

        # Debounced: nothing is due inside the window, the store is due after it.
        marked = Listing.objects.get(pk=cardigans[0].pk).push_requested_at
        assert marked is not None
        assert push.stores_due(now=marked + timedelta(seconds=2)) == []
        assert push.stores_due(now=marked + timedelta(seconds=6)) == [(shop.store.pk, tenant.organization.pk)]

        with _no_debounce(settings):
            assert tasks.push_due_listings() == 1  # eager in tests: the store's push task runs here

        stats = tiktok.control("GET", "stats")["apis"]
        assert stats[UPDATE]["requests"] == 1  # one call carried all three SKUs of the product
        assert stats[SEARCH]["requests"] == 1  # and one Inventory Search learnt their warehouses
        assert stats[UPDATE]["violations"] == 0
        for listing in cardigans:
            listing.refresh_from_db()
            # 33 in East and 12 in West: 45 advertised, split by the stock behind each TikTok warehouse.
            assert _platform_quantities(tiktok, shop.store, listing.platform_sku_id) == {wh1: 33, wh2: 12}
            assert listing.advertised_quantity == 45
            assert listing.push_requested_at is None
            assert listing.pushed_at is not None
            assert listing.push_error == ""
        # Visible through TikTok's Inventory Search too.
        level = tiktok_client(shop.store).search_inventory(sku_ids=[cardigans[0].platform_sku_id])[0]
        assert level.available == 45
        assert {w.warehouse_id: w.available for w in level.by_warehouse} == {wh1: 33, wh2: 12}

        # Stock moves between our warehouses: the same total, another split, so it is said again.
        moved = cardigans[0]
        with django_capture_on_commit_callbacks(execute=True):
            services.stock_adjust(sku=moved.sku, warehouse=east, delta=-12, actor=Actor.system(), reason="move")
            services.stock_adjust(sku=moved.sku, warehouse=west, delta=12, actor=Actor.system(), reason="move")
        push.changed_stock_mark()
        result = push.store_push(store=shop.store)
        assert (result.calls, result.pushed) == (1, 1)
        assert _platform_quantities(tiktok, shop.store, moved.platform_sku_id) == {wh1: 21, wh2: 24}


def test_without_warehouse_links_one_quantity_is_pushed_under_the_store_policy(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Outlet US")
        one, two = (
            WarehouseFactory(organization=tenant.organization),
            WarehouseFactory(organization=tenant.organization),
        )
        fbt = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.PLATFORM, platform="tiktok")
        bottle = shop.listing("CAST")
        _receive(bottle.sku, one, 60, django_capture_on_commit_callbacks)
        _receive(bottle.sku, two, 40, django_capture_on_commit_callbacks)
        StockLevelFactory(
            organization=tenant.organization, sku=bottle.sku, warehouse=fbt, on_hand=500
        )  # held by TikTok: never counted or pushed
        store = Store.objects.select_related("authorization").get(pk=shop.store.pk)
        store.stock_push_buffer = 10
        store.stock_push_percentage = 50  # the policy fields the lead adds; read with getattr meanwhile
        store.stock_push_max_quantity = 40

        result = push.store_push(store=store)

        assert result.calls == 1
        assert result.searches == 0  # no links: nothing to learn about warehouses
        # (60 + 40 - 10 buffer) × 50 % = 45, capped at 40.
        (warehouse,) = shop.world.warehouses
        assert _platform_quantities(tiktok, store, bottle.platform_sku_id) == {warehouse.id: 40}
        bottle.refresh_from_db()
        assert (bottle.advertised_quantity, bottle.push_requested_at, bottle.push_error) == (40, None, "")


def test_per_sku_refusals_and_refused_calls_land_on_the_listings(
    tenant: Any, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Home US")  # two TikTok warehouses, none linked
        warehouse = WarehouseFactory(organization=tenant.organization)
        cardigan = shop.listing("WOMEN")  # in both TikTok warehouses: one quantity without ids is refused
        lamp = shop.listing("LED")  # one warehouse: fine
        earbuds = shop.listing("BLUETOOTH")  # its product is SELLER_DEACTIVATED
        assert shop.product_of(earbuds).status == "SELLER_DEACTIVATED"
        for listing in (cardigan, lamp, earbuds):
            _receive(listing.sku, warehouse, 12, django_capture_on_commit_callbacks)

        result = push.store_push(store=shop.store)

        assert (result.calls, result.pushed, result.rejected, result.failed) == (3, 1, 1, 1)
        cardigan.refresh_from_db()
        assert cardigan.push_error.startswith("This SKU is stocked in several TikTok warehouses")
        assert cardigan.push_error.endswith("(TikTok 12019028)")
        assert cardigan.advertised_quantity is None
        assert cardigan.push_requested_at is None  # refused for what it says: sent again on the next change
        lamp.refresh_from_db()
        assert (lamp.advertised_quantity, lamp.push_error) == (12, "")
        earbuds.refresh_from_db()
        assert "not active on TikTok" in earbuds.push_error
        assert earbuds.push_error.endswith("(TikTok 12052037)")
        # Still marked, retried later rather than every five seconds: a deactivated product is not a blip.
        assert earbuds.push_requested_at is not None
        assert earbuds.push_requested_at > timezone.now() + timedelta(minutes=5)
        assert (shop.store.pk, tenant.organization.pk) not in push.stores_due()

        # A passing failure (TikTok down, the client's retries spent) keeps the listing marked for the next beat.
        settings.TIKTOK_MAX_ATTEMPTS = 1
        _receive(lamp.sku, warehouse, 1, django_capture_on_commit_callbacks)
        tiktok.sandbox.faults.add_error(api=UPDATE, code=36009003, http_status=503, next=10)
        tiktok.control("POST", "stats/reset")
        result = push.store_push(store=shop.store)
        assert result.failed == 1
        lamp.refresh_from_db()
        assert lamp.advertised_quantity == 12
        assert "tries again" in lamp.push_error
        assert lamp.push_requested_at is not None
        assert lamp.push_requested_at <= timezone.now()  # due on the next beat
        tiktok.sandbox.faults.clear()
        push.store_push(store=shop.store)
        lamp.refresh_from_db()
        assert (lamp.advertised_quantity, lamp.push_error, lamp.push_requested_at) == (13, "", None)


def test_a_multi_warehouse_sku_with_an_unlinked_warehouse_is_not_guessed(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Home US")
        east = WarehouseFactory(organization=tenant.organization)
        wh1, wh2 = (w.id for w in shop.world.warehouses)
        WarehouseLinkFactory(
            organization=tenant.organization, store=shop.store, warehouse=east, platform_warehouse_id=wh1
        )
        cardigan, lamp = shop.listing("WOMEN"), shop.listing("LED")
        before = _platform_quantities(tiktok, shop.store, cardigan.platform_sku_id)
        for listing in (cardigan, lamp):
            _receive(listing.sku, east, 8, django_capture_on_commit_callbacks)

        result = push.store_push(store=shop.store)

        assert (result.calls, result.pushed, result.rejected) == (1, 1, 1)
        assert _platform_quantities(tiktok, shop.store, cardigan.platform_sku_id) == before
        assert _platform_quantities(tiktok, shop.store, lamp.platform_sku_id) == {wh1: 8}
        cardigan.refresh_from_db()
        assert f"warehouse {wh2}, which is not linked" in cardigan.push_error

        # The seller links the other warehouse; the store's listings are asked about again and the cardigan goes out.
        WarehouseLinkFactory(
            organization=tenant.organization,
            store=shop.store,
            warehouse=WarehouseFactory(organization=tenant.organization),
            platform_warehouse_id=wh2,
        )
        push.store_listings_mark(store=shop.store)
        result = push.store_push(store=shop.store)
        assert _platform_quantities(tiktok, shop.store, cardigan.platform_sku_id) == {wh1: 8, wh2: 0}
        cardigan.refresh_from_db()
        assert (cardigan.advertised_quantity, cardigan.push_error) == (8, "")


def test_push_disabled_sends_nothing_and_keeps_the_changes_for_later(
    tenant: Any, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Outlet US")
        Store.objects.filter(pk=shop.store.pk).update(stock_push_enabled=False)
        lamp = shop.listing("LED")
        _receive(lamp.sku, WarehouseFactory(organization=tenant.organization), 5, django_capture_on_commit_callbacks)
        tiktok.control("POST", "stats/reset")

        with _no_debounce(settings):
            assert push.stores_due() == []
            assert tasks.push_due_listings() == 0
        shop.store.refresh_from_db()
        assert push.store_push(store=shop.store).calls == 0

        assert _updates(tiktok) == 0
        lamp.refresh_from_db()
        assert lamp.push_requested_at is not None  # pushed once the seller turns the push back on
        assert lamp.advertised_quantity is None


def test_an_unchanged_quantity_is_not_sent_again(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Outlet US")
        ours, elsewhere = (
            WarehouseFactory(organization=tenant.organization),
            WarehouseFactory(organization=tenant.organization),
        )
        (tiktok_warehouse,) = shop.world.warehouses
        WarehouseLinkFactory(
            organization=tenant.organization,
            store=shop.store,
            warehouse=ours,
            platform_warehouse_id=tiktok_warehouse.id,
        )
        lamp = shop.listing("LED")
        _receive(lamp.sku, ours, 9, django_capture_on_commit_callbacks)
        assert push.store_push(store=shop.store).pushed == 1
        tiktok.control("POST", "stats/reset")

        # Stock arrives at a warehouse that does not serve this store: the listing is asked about, nothing changes.
        _receive(lamp.sku, elsewhere, 50, django_capture_on_commit_callbacks)
        lamp.refresh_from_db()
        assert lamp.push_requested_at is not None
        result = push.store_push(store=shop.store)

        assert (result.calls, result.unchanged) == (0, 1)
        assert _updates(tiktok) == 0
        lamp.refresh_from_db()
        assert (lamp.advertised_quantity, lamp.push_requested_at) == (9, None)


def test_a_change_during_a_push_is_pushed_next_time(
    tenant: Any, tiktok: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    with organization_scope(tenant.organization):
        shop = _connect(tenant, tiktok, "Dropline Outlet US")
        warehouse = WarehouseFactory(organization=tenant.organization)
        lamp = shop.listing("LED")
        _receive(lamp.sku, warehouse, 20, django_capture_on_commit_callbacks)
        original = TikTokShopClient.update_inventory

        def update_while_stock_arrives(client: TikTokShopClient, product_id: str, skus: Any) -> Any:
            # Stock read, call on its way: a receipt commits now.
            _receive(lamp.sku, warehouse, 5, django_capture_on_commit_callbacks)
            return original(client, product_id, skus)

        monkeypatch.setattr(TikTokShopClient, "update_inventory", update_while_stock_arrives)
        assert push.store_push(store=shop.store).pushed == 1
        monkeypatch.setattr(TikTokShopClient, "update_inventory", original)

        lamp.refresh_from_db()
        assert lamp.advertised_quantity == 20  # what TikTok was told
        assert lamp.push_requested_at is not None  # ... and the receipt is still waiting to be told
        assert push.store_push(store=shop.store).pushed == 1
        lamp.refresh_from_db()
        assert (lamp.advertised_quantity, lamp.push_requested_at) == (25, None)
        (tiktok_warehouse,) = shop.world.warehouses
        assert _platform_quantities(tiktok, shop.store, lamp.platform_sku_id) == {tiktok_warehouse.id: 25}


def test_a_busy_sku_is_not_starved_by_its_own_changes(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        listing = ListingFactory(organization=tenant.organization, sku=SkuFactory(organization=tenant.organization))
        start = timezone.now()
        for seconds in range(0, 14, 2):  # a sale every two seconds
            push.listings_mark(sku_ids=[listing.sku_id], now=start + timedelta(seconds=seconds))
        listing.refresh_from_db()
        assert listing.push_requested_at == start  # the oldest unpushed change: due five seconds after it
        push.listings_mark(sku_ids=[listing.sku_id], now=start + timedelta(seconds=16))
        listing.refresh_from_db()
        assert listing.push_requested_at == start + timedelta(seconds=16)  # nobody pushed it: a fresh window


def test_a_kit_is_asked_about_when_a_component_changes(tenant: Any, django_capture_on_commit_callbacks: Any) -> None:
    with organization_scope(tenant.organization):
        part = BundleComponentFactory(organization=tenant.organization, quantity=2)
        kit_listing = ListingFactory(organization=tenant.organization, sku=part.bundle)
        warehouse = WarehouseFactory(organization=tenant.organization)
        _receive(part.component, warehouse, 7, django_capture_on_commit_callbacks)
        kit_listing.refresh_from_db()
        assert kit_listing.push_requested_at is not None
        assert push._available([part.bundle_id])[(part.bundle_id, warehouse.pk)] == 3  # 7 units, two per kit


# ------------------------------------------------------------------------------------------ the sweep (ADR 0040)
def test_a_committed_change_is_told_to_the_push_by_its_own_stock_row(
    tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Nothing runs after the commit here (the captured callbacks are dropped, as when a worker stops right after
    it): the stock row itself says it changed, and beat's sweep marks its listings with the change's time."""
    with organization_scope(tenant.organization):
        lamp = ListingFactory(organization=tenant.organization, sku=SkuFactory(organization=tenant.organization))
        other = ListingFactory(organization=tenant.organization, sku=SkuFactory(organization=tenant.organization))
        warehouse = WarehouseFactory(organization=tenant.organization)
        with django_capture_on_commit_callbacks(execute=False):
            services.stock_receive(sku=lamp.sku, warehouse=warehouse, quantity=4, actor=Actor.system())
        level = StockLevel.objects.get(sku=lamp.sku, warehouse=warehouse)
        changed_at = level.unpushed_since
        assert changed_at is not None
        assert changed_at == level.updated_at
        lamp.refresh_from_db()
        assert lamp.push_requested_at is None  # no mark yet: the sweep makes it

        # A second change before the sweep keeps the time of the first: the marker's "oldest change not pushed".
        services.stock_receive(sku=lamp.sku, warehouse=warehouse, quantity=1, actor=Actor.system())
        assert StockLevel.objects.get(pk=level.pk).unpushed_since == changed_at

        assert push.changed_stock_mark() == 1
        lamp.refresh_from_db()
        other.refresh_from_db()
        assert lamp.push_requested_at == changed_at  # due a debounce window after the change, not after the sweep
        assert other.push_requested_at is None
        assert StockLevel.objects.get(pk=level.pk).unpushed_since is None
        assert push.changed_stock_mark() == 0  # told once


def test_a_change_that_rolls_back_tells_the_push_nothing(tenant: Any) -> None:
    with organization_scope(tenant.organization):
        sku = SkuFactory(organization=tenant.organization)
        listing = ListingFactory(organization=tenant.organization, sku=sku)
        warehouse = WarehouseFactory(organization=tenant.organization)
        services.stock_receive(sku=sku, warehouse=warehouse, quantity=4, actor=Actor.system())
        push.changed_stock_mark()
        Listing.objects.filter(pk=listing.pk).update(push_requested_at=None)  # pushed since

        @transaction.atomic
        def adjust_then_fail() -> None:
            services.stock_adjust(sku=sku, warehouse=warehouse, delta=-3, actor=Actor.system(), reason="damaged")
            raise RuntimeError("the caller fails after the change")

        with pytest.raises(RuntimeError):
            adjust_then_fail()

        level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
        assert (level.on_hand, level.unpushed_since) == (4, None)
        assert push.changed_stock_mark() == 0
        listing.refresh_from_db()
        assert listing.push_requested_at is None


def test_the_sweep_takes_every_changed_row_of_every_organization_in_batches(tenant: Any, make_tenant: Any) -> None:
    other_tenant = make_tenant("Bravo Supply")
    listings = []
    for organization in (tenant.organization, other_tenant.organization):
        with organization_scope(organization):
            warehouse = WarehouseFactory(organization=organization)
            for _ in range(3):
                listing = ListingFactory(organization=organization, sku=SkuFactory(organization=organization))
                services.stock_receive(sku=listing.sku, warehouse=warehouse, quantity=2, actor=Actor.system())
                listings.append(listing)

    assert push.changed_stock_mark(batch=2) == 6  # four transactions of at most two rows, the last one empty

    assert all(Listing.unscoped.get(pk=listing.pk).push_requested_at is not None for listing in listings)
    assert not StockLevel.unscoped.filter(unpushed_since__isnull=False).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_does_not_wait_for_a_row_a_reservation_holds_and_takes_it_next_time(tenant: Any) -> None:
    """A row locked by a stock change in flight is left for the next sweep: waiting would queue beat behind the
    change, and could deadlock with one (changes lock rows in (sku, warehouse) order, the sweep in its own)."""
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization)
        busy, calm = (
            ListingFactory(organization=tenant.organization, sku=SkuFactory(organization=tenant.organization))
            for _ in range(2)
        )
        for listing in (busy, calm):
            services.stock_receive(sku=listing.sku, warehouse=warehouse, quantity=5, actor=Actor.system())
    locked, release = threading.Event(), threading.Event()

    def change_in_flight() -> None:
        try:
            with organization_scope(tenant.organization), transaction.atomic():
                list(StockLevel.objects.select_for_update().filter(sku=busy.sku))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=change_in_flight)
    holder.start()
    try:
        assert locked.wait(30)
        started = time.monotonic()
        assert push.changed_stock_mark() == 1
        assert time.monotonic() - started < 5  # it did not wait for the lock
        assert Listing.unscoped.get(pk=calm.pk).push_requested_at is not None
        assert Listing.unscoped.get(pk=busy.pk).push_requested_at is None
        assert StockLevel.unscoped.get(sku=busy.sku).unpushed_since is not None  # still to be told
    finally:
        release.set()
        holder.join(30)
    assert push.changed_stock_mark() == 1
    assert Listing.unscoped.get(pk=busy.pk).push_requested_at is not None
