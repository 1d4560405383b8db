"""Reads of inventory."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from inventory.models import Reservation, StockLevel, StockMovement


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
        if (level.on_hand, level.reserved) != (on_hand, reserved) or level.reserved != held.get(key, 0):
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
