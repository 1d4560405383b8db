"""The inventory figure on the dashboard: SKUs at or below their low-stock threshold."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from erp.dashboard import Card, SetupStep
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


def setup_steps(request: HttpRequest) -> list[SetupStep]:
    from inventory.models import Sku, Warehouse

    return [
        SetupStep(
            "Add where you ship from",
            "Your warehouse, a 3PL or a dropship supplier — each gets its own labels.",
            reverse("inventory_warehouses"),
            "Warehouses",
            Warehouse.objects.exists(),
            order=20,
        ),
        SetupStep(
            "Add your SKUs",
            "Orders reserve stock and are matched to your SKUs by seller SKU (CSV import works).",
            reverse("inventory_import"),
            "Import",
            Sku.objects.exists(),
            order=25,
        ),
    ]
