"""Returns and refunds in the spend report: per SKU, store and supplier, how many units came back (or were refunded
without coming back) and what was refunded, beside what was sold; restocked and written-off units from the warehouse's
receipts. A SKU that comes back often is at the top."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from aftersales.models import ReturnRequest
from integrations.interface import AfterSaleStatus
from integrations.models import Store
from inventory.models import ReturnReceiptLine, WarehouseKind
from orders.models import Order, OrderLine
from orders.selectors import Panel

COUNTED = (  # a request that was (or will be) refunded or replaced; a rejected or withdrawn one is not a return
    AfterSaleStatus.PENDING,
    AfterSaleStatus.IN_PROGRESS,
    AfterSaleStatus.PARCEL_RECEIVED,
    AfterSaleStatus.APPROVED,
)


@dataclass
class ReturnsRow:
    key: str
    requests: int = 0
    units_returned: int = 0
    units_sold: int = 0
    refunded: Decimal = Decimal("0")
    currency: str = ""
    restocked: int = 0
    written_off: int = 0

    @property
    def rate(self) -> float:
        """Units asked back per unit sold in the period, in percent."""
        return 100.0 * self.units_returned / self.units_sold if self.units_sold else 0.0


def returns_report(*, start: datetime, end: datetime, store: Store | None = None) -> dict[str, list[ReturnsRow]]:
    """Rows by "sku", "store" and "supplier" for requests opened in [start, end)."""
    requests = ReturnRequest.objects.filter(requested_at__gte=start, requested_at__lt=end, status__in=COUNTED)
    orders = Order.objects.filter(placed_at__gte=start, placed_at__lt=end)
    if store is not None:
        requests, orders = requests.filter(store=store), orders.filter(store=store)
    requests = requests.select_related("store", "order__warehouse")
    by: dict[str, dict[str, ReturnsRow]] = {"sku": {}, "store": {}, "supplier": {}}

    def row(group: str, key: str) -> ReturnsRow:
        return by[group].setdefault(key, ReturnsRow(key=key))

    for request in requests:
        warehouse = request.order.warehouse if request.order_id and request.order else None
        supplier = warehouse.name if warehouse and warehouse.kind == WarehouseKind.SUPPLIER else ""
        units = request.units
        targets = [row("store", request.store.name)] + ([row("supplier", supplier)] if supplier else [])
        for target in targets:
            target.requests += 1
            target.units_returned += units
            target.refunded += request.refund_amount or Decimal("0")
            target.currency = target.currency or request.currency
        for line in request.lines:
            sku_row = row("sku", line.get("seller_sku") or line.get("platform_sku_id") or "?")
            sku_row.requests += 1
            sku_row.units_returned += int(line.get("quantity") or 0)
            sku_row.refunded += Decimal(line["refund"]) if line.get("refund") else Decimal("0")
            sku_row.currency = sku_row.currency or request.currency
    sold = OrderLine.objects.filter(order__in=orders, is_cancelled=False)
    for code, units in sold.values_list("seller_sku").annotate(units=Sum("quantity")):
        if code in by["sku"]:
            by["sku"][code].units_sold = units or 0
    for name, units in sold.values_list("order__store__name").annotate(units=Sum("quantity")):
        if name in by["store"]:
            by["store"][name].units_sold = units or 0
    for name, units in (
        sold.filter(order__warehouse__kind=WarehouseKind.SUPPLIER)
        .values_list("order__warehouse__name")
        .annotate(units=Sum("quantity"))
    ):
        if name in by["supplier"]:
            by["supplier"][name].units_sold = units or 0
    received = ReturnReceiptLine.objects.filter(receipt__received_at__gte=start, receipt__received_at__lt=end)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for code, outcome, units in received.values_list("sku__code", "outcome").annotate(units=Sum("quantity")):
        totals[(code, outcome)] += units or 0
    for (code, outcome), units in totals.items():
        target = row("sku", code)
        if outcome == "restock":
            target.restocked += units
        else:
            target.written_off += units
    return {
        group: sorted(rows.values(), key=lambda r: (-r.units_returned, -r.rate, r.key)) for group, rows in by.items()
    }


def spend_returns_section(start: datetime, end: datetime, store: Store | None) -> Panel:
    return Panel("aftersales/_spend_returns.html", {"report": returns_report(start=start, end=end, store=store)})
