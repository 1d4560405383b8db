"""Reads of inventory."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from inventory.models import Listing, Reservation, Sku, SkuSupplier, StockLevel, StockMovement, Warehouse


@dataclass(frozen=True)
class LedgerMismatch:
    sku: str
    warehouse: str
    on_hand: int
    on_hand_in_ledger: int
    reserved: int
    reserved_in_ledger: int
    reserved_in_reservations: int


def ledger_mismatches() -> list[LedgerMismatch]:
    """Stock rows whose levels differ from the sum of their ledger (or from their open reservations). Empty when
    every change went through the services, as it must."""
    ledger = {
        (row["sku_id"], row["warehouse_id"]): (row["on_hand"] or 0, row["reserved"] or 0)
        for row in StockMovement.objects.values("sku_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    held = {
        (row["sku_id"], row["warehouse_id"]): row["quantity"] or 0
        for row in Reservation.objects.values("sku_id", "warehouse_id").annotate(quantity=Sum("quantity"))
    }
    mismatches = []
    for level in StockLevel.objects.select_related("sku", "warehouse"):
        key = (level.sku_id, level.warehouse_id)
        on_hand, reserved = ledger.pop(key, (0, 0))
        # At a platform's warehouse (TikTok's FBT) `reserved` is the platform's own commitment (synced), never a
        # Dropline reservation.
        reservations_match = level.warehouse.is_platform_fulfilment or level.reserved == held.get(key, 0)
        if (level.on_hand, level.reserved) != (on_hand, reserved) or not reservations_match:
            mismatches.append(
                LedgerMismatch(
                    level.sku.code,
                    level.warehouse.name,
                    level.on_hand,
                    on_hand,
                    level.reserved,
                    reserved,
                    held.get(key, 0),
                )
            )
    for (sku_id, warehouse_id), (on_hand, reserved) in ledger.items():  # ledger rows with no stock row at all
        if on_hand or reserved:
            mismatches.append(LedgerMismatch(str(sku_id), str(warehouse_id), 0, on_hand, 0, reserved, 0))
    return mismatches


# ------------------------------------------------------------------------------------------ screens and the API
def skus_with_totals() -> QuerySet[Sku]:
    """SKUs with their stock summed over every warehouse: `on_hand_total`, `reserved_total`, `available_total`
    (each level's available is on_hand - reserved - safety_buffer, never below zero, as on StockLevel) and
    `is_low` (a threshold is set and available has fallen to it). One query, whatever the number of warehouses."""
    per_level_available = Greatest(
        F("stock_levels__on_hand") - F("stock_levels__reserved") - F("stock_levels__safety_buffer"), Value(0)
    )
    return (
        Sku.objects.prefetch_related(
            Prefetch("supplier_links", queryset=SkuSupplier.objects.select_related("warehouse"))
        )
        .annotate(
            on_hand_total=Coalesce(Sum("stock_levels__on_hand"), Value(0)),
            reserved_total=Coalesce(Sum("stock_levels__reserved"), Value(0)),
            available_total=Coalesce(Sum(per_level_available), Value(0)),
        )
        .annotate(
            is_low=ExpressionWrapper(
                Q(low_stock_threshold__gt=0, available_total__lte=F("low_stock_threshold")), output_field=BooleanField()
            )
        )
    )


def skus_search(skus: QuerySet[Sku], text: str) -> QuerySet[Sku]:
    """Code, name or barcode containing `text` (case-insensitive)."""
    text = text.strip()
    if not text:
        return skus
    return skus.filter(Q(code__icontains=text) | Q(name__icontains=text) | Q(barcode__icontains=text))


def skus_low_stock() -> QuerySet[Sku]:
    """SKUs whose available stock (summed over their warehouses) is at or below their low-stock threshold (only
    SKUs with a threshold above zero), lowest available first. For the dashboard card."""
    return skus_with_totals().filter(is_active=True, is_low=True).order_by("available_total", "code")


def stock_levels() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("sku", "warehouse").order_by("sku__code", "warehouse__name")


def ledger() -> QuerySet[StockMovement]:
    """The stock ledger, newest first."""
    return StockMovement.objects.select_related("sku", "warehouse").order_by("-created_at", "-id")


def listings_unmapped_first() -> QuerySet[Listing]:
    """Listings with the unmapped ones (which hold orders) first, then by store and seller SKU."""
    return Listing.objects.select_related("store", "sku").order_by(
        F("sku_id").asc(nulls_first=True), "store__name", "seller_sku", "platform_sku_id"
    )


def listings_search(listings: QuerySet[Listing], text: str) -> QuerySet[Listing]:
    """Seller SKU, title, platform ids or our SKU code containing `text`."""
    text = text.strip()
    if not text:
        return listings
    condition = Q()
    for name in ("seller_sku", "title", "platform_sku_id", "platform_product_id", "sku__code"):
        condition |= Q(**{f"{name}__icontains": text})
    return listings.filter(condition)


def sku_codes_for_picker(limit: int = 5000) -> list[tuple[str, str]]:
    """(code, name) of active SKUs, for the listing mapper's suggestions."""
    return list(Sku.objects.filter(is_active=True).order_by("code").values_list("code", "name")[:limit])


def listings_unmapped_count() -> int:
    return Listing.objects.filter(sku__isnull=True).count()


def warehouses_with_totals() -> QuerySet[Warehouse]:
    """Warehouses with how many SKUs they stock and how many units they hold."""
    return Warehouse.objects.annotate(
        sku_count=Count("stock_levels", filter=Q(stock_levels__on_hand__gt=0)),
        units_on_hand=Coalesce(Sum("stock_levels__on_hand"), Value(0)),
    ).order_by("-is_active", "name")


def sku_by_code_or_id(value: str) -> Sku | None:
    """The SKU with this code, or (failing that) this id; None when neither exists."""
    value = value.strip()
    if not value:
        return None
    sku = Sku.objects.filter(code=value).first()
    if sku is None and _is_uuid(value):
        sku = Sku.objects.filter(pk=value).first()
    return sku


def warehouse_by_reference(value: str) -> Warehouse | None:
    """The warehouse with this id, name or code (names and codes case-insensitive); None when none matches."""
    value = value.strip()
    if not value:
        return None
    if _is_uuid(value):
        found = Warehouse.objects.filter(pk=value).first()
        if found is not None:
            return found
    return (
        Warehouse.objects.filter(name__iexact=value).first()
        or Warehouse.objects.filter(code__iexact=value).exclude(code="").order_by("name").first()
    )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
