"""Platform fulfilment pull, through TikTok's FBT: TikTok's FBT warehouses and stock reach Dropline as read-only
platform warehouses (kind PLATFORM, platform tiktok) whose levels equal what the sandbox holds (its own state, read
through its control API), through SYNC ledger entries that keep `stock_check` true; people cannot change them and the
stock push never sends them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory import platform_fulfilment, push, services, tasks
from inventory.models import (
    Listing,
    MovementKind,
    Sku,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseKind,
    WarehouseLink,
)
from inventory.services import StockError
from tests.factories import SkuFactory, WarehouseFactory, WarehouseLinkFactory

pytestmark = pytest.mark.django_db


def _connect(tenant: Any, tiktok: Any, name: str = "Dropline Home US") -> tuple[Store, dict[str, Listing]]:
    """Connect the demo seller and map every SKU of the shop to one of ours with the same code."""
    if not Store.unscoped.filter(organization=tenant.organization).exists():
        tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name=name)
    shop = tiktok.sandbox.world.shops[store.external_id]
    lines = [(s.id, s.seller_sku, p.id, p.title) for p in shop.products for s in p.skus]
    for _, code, _, title in lines:
        if not Sku.objects.filter(code=code).exists():
            SkuFactory(organization=tenant.organization, code=code, name=title)
    return store, services.listings_for_lines(store=store, lines=lines)


def _platform(tiktok: Any, store: Store) -> dict[str, Any]:
    """The sandbox's FBT state for this shop, from its control API (not through the client under test)."""
    return tiktok.control("GET", f"fbt/inventory?shop_id={store.external_id}")


def _expected(tiktok: Any, store: Store) -> dict[str, tuple[int, int]]:
    """platform SKU id -> (available + reserved, reserved) per the sandbox."""
    out = {}
    for row in _platform(tiktok, store)["inventory"]:
        d = row["on_hand_detail"]
        for sku in row["goods"]["skus"]:
            out[sku["id"]] = (d["available_quantity"] + d["reserved_quantity"], d["reserved_quantity"])
    return out


def _levels(warehouse: Warehouse) -> dict[str, tuple[int, int]]:
    """our SKU code -> (on hand, reserved) at the warehouse."""
    return {
        level.sku.code: (level.on_hand, level.reserved)
        for level in StockLevel.objects.filter(warehouse=warehouse).select_related("sku")
    }


def _stock_check_passes() -> None:
    call_command("stock_check")  # raises CommandError (exit 1) on any mismatch


def test_pull_creates_the_fbt_warehouse_and_sets_levels_to_tiktoks_numbers(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        store, listings = _connect(tenant, tiktok)
        (platform_wh,) = _platform(tiktok, store)["warehouses"]

        result = platform_fulfilment.store_platform_fulfilment_sync(store=store)

        warehouse = Warehouse.objects.get(kind=WarehouseKind.PLATFORM, platform="tiktok")
        assert warehouse.name == "TikTok FBT — TikTok_Eastvale(CA)"
        assert warehouse.tracks_stock is True
        assert warehouse.is_platform_fulfilment
        assert (warehouse.city, warehouse.state, warehouse.postal_code) == ("Rialto", "CA", "92376")
        link = WarehouseLink.objects.get(store=store, warehouse=warehouse)
        assert link.platform_warehouse_id == platform_wh["fbt_warehouse_id"]
        assert link.platform_name == "TikTok_Eastvale(CA)"

        expected = _expected(tiktok, store)
        by_platform = {sku_id: listings[sku_id].sku.code for sku_id in expected}
        # Three goods have stock; the fourth has only units in transit: not on hand, so no level at all.
        nonzero = {by_platform[s]: q for s, q in expected.items() if q != (0, 0)}
        assert len(nonzero) == 3
        assert _levels(warehouse) == nonzero
        assert result.warehouses == 1
        assert result.levels_set == 3
        assert result.unmapped == 1  # the goods matched to no SKU
        movements = StockMovement.objects.filter(warehouse=warehouse)
        assert {m.kind for m in movements} == {MovementKind.SYNC}
        assert movements.count() == 3
        _stock_check_passes()

        # Again: nothing changed, nothing written.
        again = platform_fulfilment.store_platform_fulfilment_sync(store=store)
        assert again.levels_set == 0
        assert again.unchanged == 4  # the three stocked + the one with only units in transit (zero, no row)
        assert StockMovement.objects.filter(warehouse=warehouse).count() == 3
        assert Warehouse.objects.filter(kind=WarehouseKind.PLATFORM, platform="tiktok").count() == 1
        assert WarehouseLink.objects.filter(store=store).count() == 1


def test_a_change_at_tiktok_is_followed_up_and_down_to_zero(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        store, listings = _connect(tenant, tiktok)
        platform_fulfilment.store_platform_fulfilment_sync(store=store)
        warehouse = Warehouse.objects.get(kind=WarehouseKind.PLATFORM, platform="tiktok")
        fbt_id = _platform(tiktok, store)["warehouses"][0]["fbt_warehouse_id"]
        stocked = [s for s, q in _expected(tiktok, store).items() if q != (0, 0)]
        sku_id = stocked[0]
        code = listings[sku_id].sku.code

        tiktok.control(
            "POST", "fbt/inventory", sku_id=sku_id, fbt_warehouse_id=fbt_id, available=7, reserved=2, unfulfillable=5
        )
        platform_fulfilment.store_platform_fulfilment_sync(store=store)
        assert _levels(warehouse)[code] == (9, 2)  # available + reserved; unfulfillable is not on hand
        _stock_check_passes()

        # Reserved units released and sold out: TikTok stops listing the goods; Dropline goes to zero.
        tiktok.control(
            "POST",
            "fbt/inventory",
            sku_id=sku_id,
            fbt_warehouse_id=fbt_id,
            available=0,
            reserved=0,
            unfulfillable=0,
            in_transit=0,
        )
        result = platform_fulfilment.store_platform_fulfilment_sync(store=store)
        assert result.zeroed == 1
        assert _levels(warehouse)[code] == (0, 0)
        ledger = StockMovement.objects.filter(warehouse=warehouse, sku__code=code).order_by("created_at", "id")
        assert sum(m.on_hand_delta for m in ledger) == 0
        assert sum(m.reserved_delta for m in ledger) == 0
        _stock_check_passes()

        # The goods in transit arrives.
        in_transit = next(s for s, q in _expected(tiktok, store).items() if q == (0, 0) and s != sku_id)
        tiktok.control("POST", "fbt/inventory", sku_id=in_transit, fbt_warehouse_id=fbt_id, available=30)
        platform_fulfilment.store_platform_fulfilment_sync(store=store)
        assert _levels(warehouse)[listings[in_transit].sku.code] == (30, 0)
        _stock_check_passes()


def test_unmapped_listings_get_no_level(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        store, listings = _connect(tenant, tiktok)
        stocked = [s for s, q in _expected(tiktok, store).items() if q != (0, 0)]
        Listing.objects.filter(store=store, platform_sku_id=stocked[0]).update(sku=None)

        result = platform_fulfilment.store_platform_fulfilment_sync(store=store)

        warehouse = Warehouse.objects.get(kind=WarehouseKind.PLATFORM, platform="tiktok")
        assert listings[stocked[0]].sku.code not in _levels(warehouse)
        assert result.levels_set == 2
        assert result.unmapped == 2


def test_the_second_shop_gets_its_own_fbt_warehouse_and_the_uk_shop_none(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        home, _ = _connect(tenant, tiktok, "Dropline Home US")
        outlet, _ = _connect(tenant, tiktok, "Dropline Outlet US")
        platform_fulfilment.store_platform_fulfilment_sync(store=home)
        platform_fulfilment.store_platform_fulfilment_sync(store=outlet)
        names = set(
            Warehouse.objects.filter(kind=WarehouseKind.PLATFORM, platform="tiktok").values_list("name", flat=True)
        )
        assert names == {"TikTok FBT — TikTok_Eastvale(CA)", "TikTok FBT — TikTok_Lakeland(FL)"}
        assert WarehouseLink.objects.get(store=outlet).warehouse.name == "TikTok FBT — TikTok_Lakeland(FL)"
        _stock_check_passes()


def test_the_beat_task_pulls_every_connected_store(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        _connect(tenant, tiktok)
    tiktok.control("POST", "stats/reset")

    queued = tasks.platform_fulfilment_sync_due_stores()  # eager in tests: each store's pull runs here

    with organization_scope(tenant.organization):
        assert queued == Store.objects.filter(authorization__isnull=False).count() == 2
        assert Warehouse.objects.filter(kind=WarehouseKind.PLATFORM, platform="tiktok").count() == 2
    stats = tiktok.control("GET", "stats")["apis"]
    assert stats["GET /fbt/202408/warehouses"]["requests"] == 2
    assert stats["POST /fbt/202408/inventory/search"]["requests"] == 2
    assert "POST /product/202309/products/{product_id}/inventory/update" not in stats  # nothing pushed


def test_fbt_levels_are_read_only_for_people(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        store, _ = _connect(tenant, tiktok)
        platform_fulfilment.store_platform_fulfilment_sync(store=store)
        warehouse = Warehouse.objects.get(kind=WarehouseKind.PLATFORM, platform="tiktok")
        level = StockLevel.objects.filter(warehouse=warehouse).select_related("sku").first()
        sku = level.sku
        actor = Actor.system()
        with pytest.raises(StockError, match="held by TikTok"):
            services.stock_receive(sku=sku, warehouse=warehouse, quantity=5, actor=actor)
        with pytest.raises(StockError, match="held by TikTok"):
            services.stock_adjust(sku=sku, warehouse=warehouse, delta=-1, actor=actor, reason="damaged")
        with pytest.raises(StockError, match="held by TikTok"):
            services.stock_count(sku=sku, warehouse=warehouse, counted=1, actor=actor)
        # ... and the sync writes only FBT warehouses.
        own = WarehouseFactory(organization=tenant.organization)
        with pytest.raises(StockError, match="not a platform's warehouse"):
            services.stock_platform_sync(sku=sku, warehouse=own, on_hand=3, reserved=0, actor=actor)
        with pytest.raises(StockError):
            services.stock_platform_sync(sku=sku, warehouse=warehouse, on_hand=3, reserved=4, actor=actor)
        # Orders never reserve there: a store's reservation order leaves FBT warehouses out.
        assert warehouse.pk not in services.store_warehouse_order(store=store)
        _stock_check_passes()


def _mark(listing: Listing) -> None:
    Listing.objects.filter(pk=listing.pk).update(push_requested_at=timezone.now() - timedelta(minutes=1))


def test_fbt_stock_is_never_pushed(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        store, listings = _connect(tenant, tiktok, "Dropline Home US")
        shop = tiktok.sandbox.world.shops[store.external_id]
        own = WarehouseFactory(organization=tenant.organization, name="Own")
        for platform_wh in shop.warehouses:  # both of the shop's own TikTok warehouses are served by ours
            WarehouseLinkFactory(
                organization=tenant.organization, store=store, warehouse=own, platform_warehouse_id=platform_wh.id
            )
        platform_fulfilment.store_platform_fulfilment_sync(store=store)
        stocked = [s for s, q in _expected(tiktok, store).items() if q[0] > 0]
        listing = listings[stocked[0]]
        fbt_level = StockLevel.objects.get(sku=listing.sku, warehouse__kind=WarehouseKind.PLATFORM)
        assert fbt_level.on_hand > 0
        services.stock_receive(sku=listing.sku, warehouse=own, quantity=6, actor=Actor.system())
        _mark(listing)

        result = push.store_push(store=store)

        listing.refresh_from_db()
        assert (result.pushed, listing.push_error) == (1, "")
        assert listing.advertised_quantity == 6  # our own stock only: TikTok's FBT units are not ours to advertise
        pushed = tiktok.control("GET", f"inventory/{store.external_id}")["updates"][-1]
        assert sum(pushed["after"].values()) == 6
        fbt_wh = Warehouse.objects.get(kind=WarehouseKind.PLATFORM, platform="tiktok")
        assert set(pushed["after"]) <= {w.id for w in shop.warehouses}
        assert WarehouseLink.objects.get(warehouse=fbt_wh).platform_warehouse_id not in pushed["after"]


def test_a_store_without_links_still_pushes_its_own_stock_after_an_fbt_pull(tenant: Any, tiktok: Any) -> None:
    with organization_scope(tenant.organization):
        store, listings = _connect(tenant, tiktok, "Dropline Outlet US")
        own = WarehouseFactory(organization=tenant.organization)
        stocked = [s for s, q in _expected(tiktok, store).items() if q[0] > 0]
        listing = listings[stocked[0]]
        services.stock_receive(sku=listing.sku, warehouse=own, quantity=6, actor=Actor.system())
        _mark(listing)
        platform_fulfilment.store_platform_fulfilment_sync(store=store)

        push.store_push(store=store)

        listing.refresh_from_db()
        assert listing.push_error == ""
        assert listing.advertised_quantity == 6
