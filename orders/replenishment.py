"""FBT replenishment: which SKUs to send to TikTok's warehouses (Fulfilled by TikTok), and how many.

Per SKU stocked at FBT:
- **velocity**: units of the SKU sold by **FBT orders** over the last N days (7, 14 or 30) ÷ N. Only FBT orders empty
  FBT stock; the orders your own warehouses ship never touch it, so counting them would send TikTok stock it will
  not sell. All orders' velocity is shown beside it, for a seller deciding to move more of a SKU to FBT. An order
  counts from when it was placed, unless cancelled (or never paid); each TikTok line item is one unit.
- **cover**: what TikTok can sell now (available: on hand less reserved, as the FBT sync stores it) plus what is
  on its way there (in transit, read live from Search FBT Inventory, since the sync keeps only what is on hand),
  in days at that velocity.
- **suggested**: enough to reach the target cover (default 30 days): ⌈velocity × target⌉ - (available + in transit),
  never below zero.

TikTok decides which of its warehouses ships each FBT order, so one row covers a SKU across all its FBT
warehouses. A SKU is listed when TikTok holds (or held) it, has units in transit to it, or sold it by FBT in the
window.
"""

from __future__ import annotations

import io
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from erp.cache import memo
from erp.csv_cells import csv_writer
from erp.tenancy import current_organization
from integrations.errors import PlatformError
from integrations.interface import FulfilledBy
from integrations.models import Store
from integrations.services import store_client
from inventory.models import Listing, Sku, StockLevel, WarehouseKind, WarehouseLink
from orders.models import OrderLine, OrderStatus

log = logging.getLogger(__name__)

WINDOWS = (7, 14, 30)
DEFAULT_WINDOW = 30
DEFAULT_TARGET = 30
MAX_TARGET = 365
IN_TRANSIT_TTL = 600  # seconds: TikTok's in-transit figure moves with inbound shipments, not by the minute


# ------------------------------------------------------------------------------------------------------ sales
@dataclass(frozen=True)
class SkuSales:
    fbt_units: int = 0  # sold by orders TikTok fulfils
    all_units: int = 0  # sold by every order, FBT or not


def sku_sales(*, since: datetime, until: datetime) -> dict[object, SkuSales]:
    """Units sold per SKU of ours (by pk) among orders placed in [since, until), through each store's listings."""
    counted = (
        OrderLine.objects.filter(is_cancelled=False, order__placed_at__gte=since, order__placed_at__lt=until)
        .exclude(order__status__in=(OrderStatus.CANCELLED, OrderStatus.UNPAID))
        .values_list("order__store_id", "sku_id")
        .annotate(
            units=Sum("quantity"),
            fbt=Coalesce(Sum("quantity", filter=Q(order__fulfilled_by=FulfilledBy.PLATFORM)), 0),
        )
        .order_by()
    )
    by_listing: dict[tuple[object, str], tuple[int, int]] = {
        (store_id, platform_sku_id): (units, fbt) for store_id, platform_sku_id, units, fbt in counted
    }
    if not by_listing:
        return {}
    stores = {store_id for store_id, _ in by_listing}
    platform_skus = {platform_sku_id for _, platform_sku_id in by_listing}
    listings = Listing.objects.filter(
        store_id__in=stores, platform_sku_id__in=platform_skus, sku__isnull=False
    ).values_list("store_id", "platform_sku_id", "sku_id")
    totals: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    for store_id, platform_sku_id, sku_id in listings:
        units, fbt = by_listing.get((store_id, platform_sku_id), (0, 0))
        totals[sku_id][0] += fbt
        totals[sku_id][1] += units
    return {sku_id: SkuSales(fbt_units=fbt, all_units=units) for sku_id, (fbt, units) in totals.items()}


# ------------------------------------------------------------------------------------------------- in transit
@dataclass(frozen=True)
class InTransit:
    """Units on their way to TikTok's warehouses, per SKU of ours (by pk), as TikTok reported them at `read_at`."""

    units: dict[object, int] = field(default_factory=dict)
    read_at: datetime | None = None
    unmatched: int = 0  # units in transit of goods matched to none (or several) of our SKUs
    failed_stores: tuple[str, ...] = ()  # stores TikTok could not be asked just now (names)

    @property
    def known(self) -> bool:
        return self.read_at is not None and not self.failed_stores


def _fbt_links() -> dict[object, list[str]]:
    """store id → the FBT warehouse ids (TikTok's) linked to it."""
    links: dict[object, list[str]] = defaultdict(list)
    for store_id, fbt_id in WarehouseLink.objects.filter(warehouse__kind=WarehouseKind.PLATFORM).values_list(
        "store_id", "platform_warehouse_id"
    ):
        links[store_id].append(fbt_id)
    return links


def fbt_in_transit_read() -> InTransit:
    """Ask TikTok (Search FBT Inventory, every page) what is in transit to each FBT warehouse linked to a store.

    In transit is a goods-level figure (README §8): it goes to our SKU when the goods' SKUs all map to that one SKU;
    otherwise it is counted as unmatched. Two stores of one seller see the same FBT goods: each goods × warehouse
    counts once."""
    links = _fbt_links()
    units: dict[object, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    unmatched = 0
    failed: list[str] = []
    stores = Store.objects.select_related("authorization").filter(pk__in=list(links)).order_by("name")
    for store in stores:
        try:
            rows = list(store_client(store).read_fulfilment_stock(centre_ids=sorted(links[store.pk])))
        except PlatformError as error:
            log.warning("FBT in-transit read for %s failed: %s", store, error)
            failed.append(store.name)
            continue
        platform_skus = {sku.sku_id for row in rows for sku in row.skus}
        ours = dict(
            Listing.objects.filter(store=store, sku__isnull=False, platform_sku_id__in=platform_skus).values_list(
                "platform_sku_id", "sku_id"
            )
        )
        for row in rows:
            if not row.in_transit or (row.goods_id, row.fbt_warehouse_id) in seen:
                continue
            seen.add((row.goods_id, row.fbt_warehouse_id))
            targets = {ours.get(sku.sku_id) for sku in row.skus}
            if len(targets) == 1 and None not in targets:
                units[targets.pop()] += row.in_transit
            else:
                unmatched += row.in_transit
    return InTransit(units=dict(units), read_at=timezone.now(), unmatched=unmatched, failed_stores=tuple(failed))


def fbt_in_transit(*, refresh: bool = False) -> InTransit:
    """`fbt_in_transit_read`, kept for IN_TRANSIT_TTL per organization so a page view does not call TikTok each
    time. A read that failed for some store is not kept: the next view asks again."""
    organization = current_organization()
    key = f"inventory:fbt-in-transit:{organization.pk}"
    if not refresh:
        kept = memo.get(key)
        if isinstance(kept, InTransit):
            return kept
    read = fbt_in_transit_read()
    if not read.failed_stores:
        memo.set(key, read, IN_TRANSIT_TTL)
    return read


# ------------------------------------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class ReplenishmentRow:
    sku_id: object
    sku_code: str
    sku_name: str
    warehouses: tuple[str, ...]  # the FBT warehouses holding it
    fbt_units_sold: int
    all_units_sold: int
    window_days: int
    available: int
    in_transit: int
    target_days: int

    @property
    def velocity(self) -> Fraction:
        """FBT units per day."""
        return Fraction(self.fbt_units_sold, self.window_days)

    @property
    def all_velocity(self) -> Fraction:
        return Fraction(self.all_units_sold, self.window_days)

    @property
    def cover_units(self) -> int:
        return self.available + self.in_transit

    @property
    def days_of_cover(self) -> Fraction | None:
        """None when nothing sells by FBT: the stock lasts indefinitely."""
        return None if not self.fbt_units_sold else self.cover_units / self.velocity

    @property
    def suggested(self) -> int:
        return max(0, math.ceil(self.velocity * self.target_days) - self.cover_units)

    # For display (templates cannot format a Fraction).
    @property
    def per_day(self) -> float:
        return float(self.velocity)

    @property
    def all_per_day(self) -> float:
        return float(self.all_velocity)

    @property
    def cover_days(self) -> float | None:
        cover = self.days_of_cover
        return None if cover is None else float(cover)

    @property
    def below_target(self) -> bool:
        cover = self.days_of_cover
        return cover is not None and cover < self.target_days


def fbt_replenishment(
    *,
    window_days: int = DEFAULT_WINDOW,
    target_days: int = DEFAULT_TARGET,
    in_transit: InTransit | None = None,
    now: datetime | None = None,
) -> list[ReplenishmentRow]:
    """One row per SKU stocked at FBT (see the module docstring): the shortest cover first, then the biggest
    suggestion; SKUs that do not sell by FBT last."""
    if window_days <= 0 or target_days < 0:
        raise ValueError("the window must be at least a day and the target not negative")
    now = now or timezone.now()
    sales = sku_sales(since=now - timedelta(days=window_days), until=now)
    transit = (in_transit or InTransit()).units
    stock: dict[object, tuple[int, list[str]]] = {}
    levels = StockLevel.objects.filter(warehouse__kind=WarehouseKind.PLATFORM).select_related("warehouse")
    for level in levels.order_by("warehouse__name"):
        available, names = stock.get(level.sku_id, (0, []))
        stock[level.sku_id] = (available + level.available, [*names, level.warehouse.name])
    fbt_sold = {sku_id for sku_id, sold in sales.items() if sold.fbt_units}
    sku_ids = set(stock) | {sku_id for sku_id, units in transit.items() if units} | fbt_sold
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=sku_ids)}
    rows = []
    for sku_id, sku in skus.items():
        available, names = stock.get(sku_id, (0, []))
        sold = sales.get(sku_id, SkuSales())
        rows.append(
            ReplenishmentRow(
                sku_id=sku_id,
                sku_code=sku.code,
                sku_name=sku.name,
                warehouses=tuple(names),
                fbt_units_sold=sold.fbt_units,
                all_units_sold=sold.all_units,
                window_days=window_days,
                available=available,
                in_transit=transit.get(sku_id, 0),
                target_days=target_days,
            )
        )

    def key(row: ReplenishmentRow) -> tuple[object, ...]:
        cover = row.days_of_cover
        return (cover is None, cover if cover is not None else 0, -row.suggested, row.sku_code)

    return sorted(rows, key=key)


# -------------------------------------------------------------------------------------------------------- CSV
CSV_HEADER = (
    "sku",
    "name",
    "fbt_warehouses",
    "window_days",
    "fbt_units_sold",
    "fbt_units_per_day",
    "all_orders_units_per_day",
    "available_at_fbt",
    "in_transit_to_fbt",
    "days_of_cover",
    "target_days",
    "suggested_units_to_send",
)


def _decimal(value: Fraction | None, places: int) -> str:
    return "" if value is None else f"{float(value):.{places}f}"


def replenishment_csv(rows: Iterable[ReplenishmentRow]) -> str:
    """The suggestion as CSV, one row per SKU (days of cover empty when nothing sells by FBT)."""
    out = io.StringIO()
    writer = csv_writer(out)  # text cells formula-safe (erp/csv_cells.py)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            (
                row.sku_code,
                row.sku_name,
                "; ".join(row.warehouses),
                row.window_days,
                row.fbt_units_sold,
                _decimal(row.velocity, 2),
                _decimal(row.all_velocity, 2),
                row.available,
                row.in_transit,
                _decimal(row.days_of_cover, 1),
                row.target_days,
                row.suggested,
            )
        )
    return out.getvalue()


def totals(rows: Iterable[ReplenishmentRow]) -> Mapping[str, int]:
    rows = list(rows)
    return {
        "skus": len(rows),
        "below_target": sum(1 for r in rows if r.below_target),
        "suggested": sum(r.suggested for r in rows),
    }
