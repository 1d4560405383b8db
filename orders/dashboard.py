"""The orders figures on the dashboard: what is waiting to ship, what is held, what is due soon."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from erp.dashboard import Card
from integrations.interface import FulfilledBy
from orders.models import OPEN_STATUSES, Order


def order_cards(request: HttpRequest) -> list[Card]:
    now = timezone.now()
    figures = (
        Order.objects.filter(status__in=OPEN_STATUSES)
        .exclude(fulfilled_by=FulfilledBy.PLATFORM)
        .aggregate(
            ready=Count("pk", filter=Q(is_held=False)),
            held=Count("pk", filter=Q(is_held=True)),
            due=Count("pk", filter=Q(ship_by__lt=now + timedelta(hours=24))),
            late=Count("pk", filter=Q(ship_by__lt=now)),
        )
    )
    orders_url = reverse("orders_home")
    return [
        *_seller_shipping_cards(orders_url),
        Card(
            "Ready to ship",
            str(figures["ready"]),
            "Open orders with nothing holding them",
            f"{orders_url}?status=to_ship",
            order=10,
        ),
        Card(
            "Held",
            str(figures["held"]),
            "Each shows its reason and the fix",
            f"{orders_url}?status=held",
            tone="warn" if figures["held"] else "",
            order=20,
        ),
        Card(
            "Ship-by within 24 h",
            str(figures["due"]),
            f"{figures['late']} already past their ship-by time" if figures["late"] else "None overdue",
            f"{orders_url}?status=to_ship&ship_within=24",
            tone="bad" if figures["late"] else ("warn" if figures["due"] else "ok"),
            order=30,
        ),
    ]


def _seller_shipping_cards(orders_url: str) -> list[Card]:
    """Seller-shipping orders waiting for their carrier and tracking (shown only when there are some)."""
    from orders.logistics import Logistics
    from orders.seller_shipping import seller_shipping_to_ship_count

    count = seller_shipping_to_ship_count()
    if not count:
        return []
    return [
        Card(
            "Seller shipping: tracking needed",
            str(count),
            f"{count} seller-shipping order{'s' if count != 1 else ''} need tracking: enter or import carrier and "
            "tracking, or see what the policy asks",
            f"{orders_url}?status=all&logistics={Logistics.SELLER_NEEDS_TRACKING}",
            tone="warn",
            order=25,
        )
    ]
