"""What one label purchase's package carries and where it ships from (docs/adr/0019-package-is-the-purchase.md).

A package carries one order (usually), several orders of one buyer (combined), or some of one order's lines (split,
one package per source). Every reader of a package (documents, the packing station, handoffs) asks here instead of
reading `purchase.order` and `purchase.line_ids` alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q, QuerySet

from orders.models import Order
from shipping.models import LabelPurchase, PackageOrder


@dataclass(frozen=True)
class Carried:
    """One order in a package and its platform line ids there (empty: all its live lines)."""

    order: Order
    line_ids: tuple[str, ...]


def package_contents(purchase: LabelPurchase) -> list[Carried]:
    """The orders the package carries, the lead order first, each with its lines in this package."""
    covers = list(PackageOrder.objects.filter(purchase=purchase).select_related("order"))
    if not covers:  # a purchase recorded outside `label_purchase_request` carries its own order
        return [Carried(purchase.order, tuple(purchase.line_ids))]
    covers.sort(key=lambda c: (c.order_id != purchase.order_id, c.order.external_id))
    return [Carried(c.order, _lines(purchase, c)) for c in covers]


def _lines(purchase: LabelPurchase, cover: PackageOrder) -> tuple[str, ...]:
    """The lead order's lines are the purchase's own `line_ids` (what the platform is asked about); the others'
    are their covers'."""
    return tuple(purchase.line_ids if cover.order_id == purchase.order_id else cover.line_ids)


def contents_by_purchase(purchases: Iterable[LabelPurchase]) -> dict[object, list[Carried]]:
    """`package_contents` for many purchases in one query."""
    purchases = list(purchases)
    found: dict[object, list[Carried]] = {p.pk: [] for p in purchases}
    by_pk = {p.pk: p for p in purchases}
    for cover in PackageOrder.objects.filter(purchase__in=list(by_pk)).select_related("order"):
        found[cover.purchase_id].append(Carried(cover.order, _lines(by_pk[cover.purchase_id], cover)))
    for purchase in purchases:
        carried = found[purchase.pk]
        if not carried:
            carried.append(Carried(purchase.order, tuple(purchase.line_ids)))
        carried.sort(key=lambda c: (c.order.pk != purchase.order_id, c.order.external_id))
    return found


def units_in(line_ids: Iterable[str], covered: tuple[str, ...], quantity: int) -> int:
    """A line's units in the package: those of its platform ids the package names (all of them when it names none)."""
    return len(set(covered).intersection(line_ids)) if covered else quantity


def shipping_from(purchases: QuerySet[LabelPurchase], warehouse_id: object | None) -> QuerySet[LabelPurchase]:
    """The purchases whose package ships from this warehouse (None: from no warehouse): its own source (a split
    order's package), else its lead order's warehouse."""
    if warehouse_id is None:
        return purchases.filter(warehouse__isnull=True, order__warehouse__isnull=True)
    return purchases.filter(Q(warehouse_id=warehouse_id) | Q(warehouse__isnull=True, order__warehouse_id=warehouse_id))


def ship_from_counts(purchases: QuerySet[LabelPurchase]) -> dict[UUID | None, int]:
    """Warehouse id (None: none) → how many of these purchases' packages ship from it."""
    counts: dict[UUID | None, int] = {}
    for own, of_order in purchases.values_list("warehouse_id", "order__warehouse_id"):
        where = own or of_order
        counts[where] = counts.get(where, 0) + 1
    return counts


def purchase_warehouse_id(purchase: LabelPurchase) -> object | None:
    return purchase.warehouse_id or purchase.order.warehouse_id
