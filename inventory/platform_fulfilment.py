"""Platform fulfilment pull: stock that a platform holds for a store (TikTok's Fulfilled by TikTok, FBT) is read from
the platform and shown, never pushed.

For a store whose platform offers Capability.PLATFORM_FULFILMENT: its fulfilment centres (TikTok: Get FBT Warehouse
List), then every page of their stock (Search FBT Inventory). Each subscribed centre becomes a Dropline warehouse
(kind PLATFORM with the store's platform, "TikTok FBT — <name>") linked to the store by the centre's id; each goods
row reaches our SKUs through the store's listings (platform SKU id → SKU); each level is set, through one SYNC ledger
entry (`services.stock_platform_sync`), to on hand = the platform's available + reserved and reserved = the
platform's reserved. Unfulfillable and in-transit units are not on hand. A mapped SKU the platform no longer reports
(TikTok's unfiltered search lists only goods with stock) is set to zero. Safe to run twice: it sets absolute
quantities.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction

from erp.actors import Actor
from integrations import registry
from integrations.base import Capability, SalesChannel
from integrations.interface import FbtStock, FbtWarehouse
from integrations.models import Store, StoreStatus
from integrations.services import store_client
from inventory import services
from inventory.models import Listing, Sku, StockLevel, Warehouse, WarehouseKind, WarehouseLink

log = logging.getLogger(__name__)


@dataclass
class PlatformFulfilmentSyncResult:
    warehouses: int = 0
    rows: int = 0
    levels_set: int = 0
    unchanged: int = 0
    zeroed: int = 0
    unmapped: int = 0  # goods rows (or their SKUs) with no listing mapped to one of our SKUs

    def __str__(self) -> str:
        return (
            f"{self.warehouses} platform warehouses, {self.rows} rows, {self.levels_set} set, "
            f"{self.unchanged} unchanged, {self.zeroed} zeroed, {self.unmapped} unmapped"
        )


def stores_to_sync() -> list[tuple[object, object]]:
    """(store id, organization id) of every store with an authorization that is not disconnected, on a platform
    that fulfils from its own warehouses."""
    return list(
        Store.unscoped.filter(
            platform__in=registry.platforms_with(Capability.PLATFORM_FULFILMENT), authorization__isnull=False
        )
        .exclude(status=StoreStatus.DISCONNECTED)
        .values_list("pk", "organization_id")
    )


def name_prefix(platform: str) -> str:
    """How a platform warehouse's name begins: "TikTok FBT — "."""
    program = registry.fulfilment_program(platform)
    return f"{registry.platform_name(platform)} {program.short or program.name} — "


def platform_warehouse_ensure(*, store: Store, centre: FbtWarehouse, actor: Actor) -> Warehouse:
    """The Dropline warehouse for one fulfilment centre of this store's platform: found by the store's link, else by
    another store's link (on the same platform) to the same centre, else created (read-only, tracks stock) and
    linked."""
    link = (
        WarehouseLink.objects.select_related("warehouse")
        .filter(store=store, platform_warehouse_id=centre.fbt_warehouse_id)
        .first()
    )
    if link is not None:
        if link.platform_name != centre.name:
            link.platform_name = centre.name[:200]
            link.save(update_fields=["platform_name"])
        return link.warehouse
    warehouse = (
        Warehouse.objects.filter(
            kind=WarehouseKind.PLATFORM,
            platform=store.platform,
            links__platform_warehouse_id=centre.fbt_warehouse_id,
        )
        .order_by("created_at")
        .first()
    )
    if warehouse is None:
        prefix = name_prefix(store.platform)
        name = f"{prefix}{centre.name}"[:120]
        if Warehouse.objects.filter(name=name).exists():  # another centre of the same name, or a person's warehouse
            name = f"{prefix}{centre.name} ({centre.fbt_warehouse_id})"[:120]
        program = registry.fulfilment_program(store.platform)
        warehouse = services.warehouse_save(
            actor=actor,
            fields={
                "name": name,
                "kind": WarehouseKind.PLATFORM,
                "platform": store.platform,
                "tracks_stock": True,
                "code": program.short[:32],
                "company": f"{store.get_platform_display()} ({program.name})"[:200],
                "address_line1": centre.address_lines[0][:255] if centre.address_lines else "",
                "address_line2": " ".join(centre.address_lines[1:])[:255],
                "city": centre.city[:100],
                "state": centre.state[:100],
                "postal_code": centre.postal_code[:32],
                "country_code": (centre.region_code or "US")[:2],
            },
        )
    link = services.warehouse_link_add(
        actor=actor, warehouse=warehouse, store=store, platform_warehouse_id=centre.fbt_warehouse_id
    )
    link.platform_name = centre.name[:200]
    link.save(update_fields=["platform_name"])
    return warehouse


def _wanted_levels(
    rows: Iterable[FbtStock],
    warehouses: dict[str, Warehouse],
    skus_by_platform_id: Mapping[str, UUID],
    result: PlatformFulfilmentSyncResult,
) -> dict[tuple[UUID, UUID], tuple[int, int]]:
    """(our sku id, warehouse id) → (on hand, reserved) from the platform's rows. A goods matched to several platform
    SKUs that are one SKU of ours counts once; two goods on one SKU of ours add up."""
    wanted: dict[tuple[UUID, UUID], tuple[int, int]] = {}
    for row in rows:
        result.rows += 1
        warehouse = warehouses.get(row.fbt_warehouse_id)
        if warehouse is None:
            continue
        per_sku: dict[UUID, tuple[int, int]] = {}
        for sku in row.skus:
            ours = skus_by_platform_id.get(sku.sku_id)
            if ours is None:
                result.unmapped += 1
                continue
            per_sku.setdefault(ours, (sku.available + sku.reserved, sku.reserved))
        if not row.skus:
            result.unmapped += 1
        for sku_id, (on_hand, reserved) in per_sku.items():
            have_on_hand, have_reserved = wanted.get((sku_id, warehouse.pk), (0, 0))
            wanted[(sku_id, warehouse.pk)] = (have_on_hand + on_hand, have_reserved + reserved)
    return wanted


def store_platform_fulfilment_sync(
    *, store: Store, channel: SalesChannel | None = None
) -> PlatformFulfilmentSyncResult:
    """Pull one store's platform warehouses and their stock into Dropline (see the module docstring)."""
    result = PlatformFulfilmentSyncResult()
    actor = Actor.system(f"{name_prefix(store.platform).removesuffix(' — ')} sync")
    channel = channel or store_client(store)
    centres = [w for w in channel.list_fulfilment_centres() if w.subscribed and w.fbt_warehouse_id]
    if not centres:
        return result  # the platform does not fulfil for this store (or nothing subscribed): nothing to show
    with transaction.atomic():
        warehouses = {
            w.fbt_warehouse_id: platform_warehouse_ensure(store=store, centre=w, actor=actor) for w in centres
        }
    result.warehouses = len(warehouses)
    rows = list(channel.read_fulfilment_stock(centre_ids=list(warehouses)))
    listed = {s.sku_id for row in rows for s in row.skus}
    skus_by_platform_id = dict(
        Listing.objects.filter(store=store, sku__isnull=False, platform_sku_id__in=listed).values_list(
            "platform_sku_id", "sku_id"
        )
    )
    wanted = _wanted_levels(rows, warehouses, skus_by_platform_id, result)
    # Mapped SKUs the platform did not report: nothing on hand any more (TikTok's unfiltered search omits zero rows).
    mapped = set(Listing.objects.filter(store=store, sku__isnull=False).values_list("sku_id", flat=True))
    for level in StockLevel.objects.filter(warehouse__in=list(warehouses.values()), sku_id__in=mapped):
        key = (level.sku_id, level.warehouse_id)
        if key not in wanted and (level.on_hand or level.reserved):
            wanted[key] = (0, 0)
            result.zeroed += 1
    by_pk = {w.pk: w for w in warehouses.values()}
    skus = {s.pk: s for s in Sku.objects.filter(pk__in={sku_id for sku_id, _ in wanted})}
    for (sku_id, warehouse_id), (on_hand, reserved) in sorted(wanted.items(), key=lambda kv: str(kv[0])):
        before = StockLevel.objects.filter(sku_id=sku_id, warehouse_id=warehouse_id).values_list("on_hand", "reserved")
        if (before.first() or (0, 0)) == (on_hand, reserved):  # no row yet counts as zero: none is made for nothing
            result.unchanged += 1
            continue
        services.stock_platform_sync(
            sku=skus[sku_id], warehouse=by_pk[warehouse_id], on_hand=on_hand, reserved=reserved, actor=actor
        )
        result.levels_set += 1
    log.info("Platform fulfilment sync %s: %s", store, result)
    return result
