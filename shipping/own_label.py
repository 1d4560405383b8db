"""Orders a supplier or 3PL ships on its own label (docs/adr/0020): the orders of channels without official labels
(Shopify) routed to the supplier's warehouse. The supplier enters or scans the carrier and tracking number in the
portal, or uploads a CSV; each goes through `orders.seller_shipping.seller_shipment_request`, which tells the
channel once. A TikTok order never appears here: it ships on its official label, in a label handoff.

Every look-up on a supplier's behalf goes through `own_label_orders` (the warehouse of their SupplierAccess), so a
supplier never sees, nor can ship, another warehouse's order: an order id outside it reads as unknown.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from erp.models import Membership
from erp.roles import Perm
from integrations import registry
from integrations.base import Capability
from integrations.interface import FulfilledBy, LabelSource
from inventory.models import Warehouse
from orders.models import Order, SellerShipment, SellerShipmentState
from orders.seller_shipping import SHIPPABLE_STATUSES
from shipping.models import HANDOFF_KINDS, SupplierAccess

SOURCE = "supplier"  # SellerShipment.source of what a supplier entered


def _warehouse_orders(membership: Membership) -> QuerySet[Order]:
    access = SupplierAccess.objects.select_related("warehouse").filter(membership=membership).first()
    if access is not None:
        return warehouse_orders(access.warehouse)
    if Perm.HANDOFF_MANAGE in membership.permissions:  # the seller's staff previewing the portal
        return warehouse_orders(None)
    return Order.objects.none()


def warehouse_orders(warehouse: Warehouse | None) -> QuerySet[Order]:
    """Orders routed to one supplier or 3PL warehouse (a warehouse-bound API key's), or (None: the seller) to any."""
    if warehouse is None:
        return Order.objects.filter(warehouse__kind__in=HANDOFF_KINDS)
    return Order.objects.filter(warehouse_id=warehouse.pk)


def own_label_channels() -> list[str]:
    """Channels whose orders a supplier may ship on its own label: they take tracking back and sell no official
    label. A channel that sells one (TikTok) is not among them even for its legacy seller-shipping orders: a supplier
    buying its own label for those is the flow TikTok's policy ends, so they stay with the seller (order page, CSV)."""
    official = set(registry.platforms_with(Capability.LABELS))
    return [p for p in registry.platforms_with(Capability.SHIPMENT_REPORT) if p not in official]


def _own_label(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.filter(label_source=LabelSource.SELLER, store__platform__in=own_label_channels()).exclude(
        fulfilled_by=FulfilledBy.PLATFORM
    )


def own_label_orders(membership: Membership) -> QuerySet[Order]:
    """Orders of the member's warehouse that ship on the seller's own label, of the channels above."""
    return _own_label(_warehouse_orders(membership))


def own_label_orders_of(warehouse: Warehouse | None) -> QuerySet[Order]:
    """The same for a warehouse-bound API key (None: the seller's key, every supplier and 3PL warehouse)."""
    return _own_label(warehouse_orders(warehouse))


def own_label_pending(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Of these own-label orders, those still to ship and report: no tracking recorded (or the last one refused)."""
    recorded = SellerShipment.objects.filter(order=OuterRef("pk")).exclude(state=SellerShipmentState.FAILED)
    return orders.filter(status__in=SHIPPABLE_STATUSES).exclude(Exists(recorded))


def own_label_to_ship(membership: Membership) -> QuerySet[Order]:
    """What the supplier still has to ship and report: to ship, and no tracking recorded (or the last one refused)."""
    return (
        own_label_pending(own_label_orders(membership))
        .select_related("store", "seller_shipment")
        .prefetch_related("lines")
        .order_by("ship_by", "placed_at")
    )


def own_label_sent(membership: Membership, *, limit: int = 50) -> QuerySet[SellerShipment]:
    """The tracking numbers recorded for the member's orders, newest first, with where each stands on the channel."""
    return (
        SellerShipment.objects.filter(order__in=own_label_orders(membership))
        .select_related("order__store")
        .order_by("-created_at")[:limit]
    )
