"""Receiving a returned parcel at a warehouse: find its order by what is on the parcel (the order number, or the
tracking number the order shipped with), show what can come back, and record per SKU restock or write-off through
`inventory.services.return_receive` (ledger and levels together, exactly once; the stock push follows from its
stock_changed announcement).

The order is the key, with the platform's return id as a plain string when known: the after-sales inbox (another app)
may hand it over, but receiving does not depend on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q

from erp.actors import Actor
from inventory import services as inventory
from inventory.models import Listing, ReturnReceipt, Sku, Warehouse
from orders.models import Order, OrderLine, OrderStatus

# An order whose parcel left: only those can come back (an order cancelled before it shipped has nothing out there).
SHIPPED = (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class ReturnableLine:
    """Units of one of our SKUs the order holds, and how many of them already came back."""

    sku_id: UUID
    code: str
    name: str
    ordered: int
    received: int

    @property
    def left(self) -> int:
        return max(self.ordered - self.received, 0)


def return_order_find(code: str) -> Order | None:
    """The order a scanned or typed code names (in the organization in scope): its order number, or a tracking
    number it shipped with. None when nothing matches."""
    code = code.strip()
    if not code or len(code) > 64:
        return None
    return (
        Order.objects.filter(
            Q(external_id=code)
            | Q(tracking_number=code)
            | Q(pk__in=OrderLine.objects.filter(tracking_number=code).values("order_id"))
        )
        .select_related("store")
        .order_by("-placed_at")
        .first()
    )


def order_can_return(order: Order) -> bool:
    return order.status in SHIPPED or order.shipped_at is not None


def returnable_lines(order: Order) -> list[ReturnableLine]:
    """The order's units per SKU of ours (mapped through the store's listings, else by seller SKU; bundles as their
    components, which is what comes back in the box), with what already came back. Lines mapped to no SKU of ours
    are left out: there is no stock to put them back into."""
    lines = list(order.lines.filter(is_cancelled=False).values_list("sku_id", "seller_sku", "quantity"))
    mapped = dict(
        Listing.objects.filter(
            store_id=order.store_id, platform_sku_id__in=[sku_id for sku_id, _, _ in lines], sku__isnull=False
        ).values_list("platform_sku_id", "sku_id")
    )
    by_code = dict(Sku.objects.filter(code__in=[code for _, code, _ in lines if code]).values_list("code", "pk"))
    units: Counter = Counter()
    for sku_id, seller_sku, quantity in lines:
        ours = mapped.get(sku_id) or by_code.get(seller_sku)
        if ours is not None:
            units[ours] += quantity
    units = inventory.expand_bundles(units)
    received = inventory.return_units_received(order.pk)
    skus = Sku.objects.in_bulk(list(units))
    return sorted(
        (
            ReturnableLine(pk, skus[pk].code, skus[pk].name, n, received.get(pk, 0))
            for pk, n in units.items()
            if pk in skus
        ),
        key=lambda line: line.code,
    )


def order_returns(order: Order) -> list[ReturnReceipt]:
    return list(
        ReturnReceipt.objects.filter(order_id=order.pk)
        .select_related("warehouse")
        .prefetch_related("lines__sku")
        .order_by("received_at")
    )


class ReturnRefused(Exception):
    """The order cannot take a return (it never shipped): nothing was recorded."""


def order_return_receive(
    *,
    order: Order,
    warehouse: Warehouse,
    lines: Sequence[inventory.ReturnLine],
    submission: str,
    actor: Actor,
    return_id: str = "",
    tracking_number: str = "",
) -> tuple[ReturnReceipt, bool]:
    """Receive this order's returned parcel at `warehouse` (see inventory.services.return_receive: exactly once;
    raises StockError on bad lines, ReturnRefused when the order never shipped)."""
    if not order_can_return(order):
        raise ReturnRefused(
            f"Order {order.external_id} never shipped ({order.get_status_display()}): there is no parcel to receive."
        )
    returnable = {line.sku_id: line.ordered for line in returnable_lines(order)}
    parcel = inventory.ReturnParcel(
        order_id=order.pk,
        order_reference=order.external_id,
        submission=submission,
        return_id=return_id.strip(),
        tracking_number=tracking_number.strip(),
    )
    return inventory.return_receive(parcel=parcel, warehouse=warehouse, lines=lines, returnable=returnable, actor=actor)
