"""Which logistics an order shipped on, and whether it was dispatched in time: the conditions that both the order
list's filters and the compliance figures (shipping.compliance) use, so a figure and the list behind its link agree
by construction.

Official TikTok logistics are TikTok Shipping labels (`label_source` platform), Collections by TikTok (a TikTok
Shipping order routed to a warehouse TikTok collects from) and Fulfilled by TikTok (`fulfilled_by` platform).
Seller shipping (`label_source` seller: the seller uploads its own tracking) is what the
2026 Logistics Services policy switches off, from each store's date (integrations.logistics_policy).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from integrations.interface import FulfilledBy, LabelSource
from integrations.logistics_policy import store_logistics_policy
from integrations.models import Store
from orders.models import OrderStatus


class Logistics:
    """Keys of the `logistics` filter of the order list."""

    OFFICIAL = "official"
    TIKTOK_SHIPPING = "tiktok_shipping"
    CBT = "cbt"
    FBT = "fbt"
    SELLER = "seller"
    SELLER_VIOLATION = "seller_violation"
    SELLER_NEEDS_TRACKING = "seller_needs_tracking"

    CHOICES = (
        (OFFICIAL, "Official TikTok logistics (TikTok Shipping, CBT, FBT)"),
        (TIKTOK_SHIPPING, "TikTok Shipping label"),
        (CBT, "Collections by TikTok"),
        (FBT, "Fulfilled by TikTok"),
        (SELLER, "Seller shipping"),
        (SELLER_VIOLATION, "Seller shipping after the store's cut-off"),
        (SELLER_NEEDS_TRACKING, "Seller shipping, to ship, tracking not sent yet"),
    )


# ---------------------------------------------------------------------------------------------------- logistics
def fbt_condition() -> Q:
    return Q(fulfilled_by=FulfilledBy.PLATFORM)


def cbt_condition() -> Q:
    return Q(label_source=LabelSource.PLATFORM, warehouse__collections_by_tiktok=True) & ~fbt_condition()


def tiktok_shipping_condition() -> Q:
    """A TikTok Shipping label the seller (or its supplier) prints and drops off: not CBT, not FBT."""
    return Q(label_source=LabelSource.PLATFORM) & ~Q(warehouse__collections_by_tiktok=True) & ~fbt_condition()


def official_condition() -> Q:
    return Q(label_source=LabelSource.PLATFORM) | fbt_condition()


def seller_shipping_condition() -> Q:
    return Q(label_source=LabelSource.SELLER) & ~fbt_condition()


def seller_needs_tracking_condition() -> Q:
    """Seller-shipping orders to ship whose carrier and tracking have not been sent to the platform (none recorded,
    or the platform refused what was sent)."""
    return (
        seller_shipping_condition()
        & Q(status__in=[OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING])
        & ~Q(seller_shipment__state__in=["pending", "submitting", "shipped"])
    )


def required_since_by_store(stores: Iterable[Store]) -> dict[object, datetime | None]:
    """Store id → the instant seller shipping became a violation there (None: from the start); stores where it is
    not required are left out."""
    cutoffs: dict[object, datetime | None] = {}
    for store in stores:
        policy = store_logistics_policy(store)
        if policy.required_always:
            cutoffs[store.pk] = None
        elif policy.required_from is not None:
            cutoffs[store.pk] = policy.required_since()
    return cutoffs


def violation_condition(stores: Iterable[Store]) -> Q:
    """Seller-shipped orders shipped on or after their store's cut-off."""
    # Matches nothing when no store has a cut-off (and, unlike `pk__in=[]`, still compiles to SQL: the list's tab
    # counts compile their conditions by hand).
    per_store = Q(pk__isnull=True)
    for store_id, since in required_since_by_store(stores).items():
        per_store |= Q(store_id=store_id) if since is None else Q(store_id=store_id, shipped_at__gte=since)
    return seller_shipping_condition() & Q(shipped_at__isnull=False) & per_store


def logistics_condition(key: str, *, stores: Iterable[Store] = ()) -> Q:
    if key == Logistics.SELLER_VIOLATION:
        return violation_condition(stores)
    return {
        Logistics.OFFICIAL: official_condition,
        Logistics.TIKTOK_SHIPPING: tiktok_shipping_condition,
        Logistics.CBT: cbt_condition,
        Logistics.FBT: fbt_condition,
        Logistics.SELLER: seller_shipping_condition,
        Logistics.SELLER_NEEDS_TRACKING: seller_needs_tracking_condition,
    }[key]()


# ----------------------------------------------------------------------------------------------------- dispatch
def dispatch_due_condition(*, now: datetime | None = None) -> Q:
    """Orders whose ship-by deadline (TikTok rts_sla_time) has passed and that the seller dispatches: FBT orders are
    TikTok's to dispatch; an order cancelled before it shipped was never dispatched."""
    return (
        Q(ship_by__lt=now or timezone.now())
        & ~fbt_condition()
        & ~Q(status=OrderStatus.CANCELLED, shipped_at__isnull=True)
    )


def late_dispatch_condition(*, now: datetime | None = None) -> Q:
    """Shipped after the ship-by deadline, or still not shipped with the deadline gone (TikTok counts both)."""
    late = Q(shipped_at__gt=F("ship_by")) | Q(shipped_at__isnull=True)
    return dispatch_due_condition(now=now) & late


def on_time_dispatch_condition(*, now: datetime | None = None) -> Q:
    return dispatch_due_condition(now=now) & Q(shipped_at__lte=F("ship_by"))


# ----------------------------------------------------------------------------------------------------- tracking
def valid_tracking_condition() -> Q:
    """Official logistics carry TikTok's own tracking; a seller-shipped order needs the tracking number it uploaded."""
    return official_condition() | (seller_shipping_condition() & ~Q(tracking_number=""))


def missing_tracking_condition() -> Q:
    return seller_shipping_condition() & Q(tracking_number="")


# ------------------------------------------------------------------------------------------------ cancellations
CANCELLED_BY = (("SELLER", "the seller"), ("BUYER", "the buyer"), ("SYSTEM", "TikTok (system)"))


def cancelled_by_condition(initiator: str) -> Q:
    return Q(status=OrderStatus.CANCELLED, cancellation_initiator=initiator)
