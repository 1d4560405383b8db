"""The inventory figure on the dashboard: SKUs at or below their low-stock threshold."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from erp.dashboard import Card
from inventory.models import LowStockAlert


def inventory_cards(request: HttpRequest) -> list[Card]:
    low = LowStockAlert.objects.filter(closed_at=None).count()
    return [
        Card(
            "Low stock",
            str(low),
            "SKUs at or below their threshold" if low else "Every SKU above its threshold",
            f"{reverse('inventory_home')}?low=on",
            tone="warn" if low else "ok",
            order=40,
        )
    ]
