"""Tracking back: carrier events for orders on their way, pulled from the platform into the order's timeline.

Order status itself (shipped, in transit, delivered) already flows in with every order import and package webhook;
this adds what the carrier said and when, for people answering "where is my parcel?".
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.errors import PlatformError
from integrations.models import Store
from integrations.services import store_client
from orders.models import Order, OrderStatus, TrackingEvent

ON_THE_WAY = (OrderStatus.AWAITING_COLLECTION, OrderStatus.IN_TRANSIT, OrderStatus.PARTIALLY_SHIPPING)


@dataclass(frozen=True)
class TrackingResult:
    orders: int
    new_events: int
    errors: int


def store_tracking_refresh(*, store: Store, limit: int = 500) -> TrackingResult:
    """New carrier events for the store's orders on their way (oldest update first), each event kept once."""
    client = store_client(store)
    orders = list(Order.objects.filter(store=store, status__in=ON_THE_WAY).order_by("platform_updated_at")[:limit])
    new = errors = 0
    for order in orders:
        try:
            events = client.get_tracking(order.external_id)
        except PlatformError:
            errors += 1  # this order waits for the next round; the others carry on
            continue
        rows = [
            TrackingEvent(
                organization_id=order.organization_id,
                order=order,
                description=event.description[:500],
                occurred_at=event.occurred_at,
            )
            for event in events
            if event.occurred_at is not None and event.description
        ]
        before = TrackingEvent.objects.filter(order=order).count()
        TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True)
        new += TrackingEvent.objects.filter(order=order).count() - before
    return TrackingResult(orders=len(orders), new_events=new, errors=errors)
