"""Query filters of the inventory API."""

from __future__ import annotations

import contextlib
from uuid import UUID

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from erp.inputs import MomentFilter
from inventory import selectors
from inventory.models import Listing, MovementKind, Sku, StockLevel, StockMovement


def _sku_condition(value: str) -> Q:
    condition = Q(sku__code=value.strip())
    with contextlib.suppress(ValueError):
        condition |= Q(sku_id=UUID(value.strip()))
    return condition


def _by_warehouse(queryset: QuerySet, value: str) -> QuerySet:
    warehouse = selectors.warehouse_by_reference(value)
    return queryset.filter(warehouse=warehouse) if warehouse is not None else queryset.none()


class SkuFilter(filters.FilterSet):
    code = filters.CharFilter(help_text="Exact SKU code.")
    search = filters.CharFilter(method="filter_search", help_text="Code, name or barcode contains (any case).")
    low_stock = filters.BooleanFilter(
        method="filter_low_stock", help_text="`true`: only SKUs at or below their low-stock threshold."
    )

    class Meta:
        model = Sku
        fields = ["code", "search", "low_stock"]

    def filter_search(self, queryset: QuerySet[Sku], name: str, value: str) -> QuerySet[Sku]:
        return selectors.skus_search(queryset, value)

    def filter_low_stock(self, queryset: QuerySet[Sku], name: str, value: bool | None) -> QuerySet[Sku]:
        if value is None:
            return queryset
        return queryset.filter(is_low=value)


class ListingFilter(filters.FilterSet):
    mapped = filters.BooleanFilter(method="filter_mapped", help_text="`false`: only listings not mapped to a SKU.")
    store = filters.UUIDFilter(field_name="store_id", help_text="Store id.")
    seller_sku = filters.CharFilter(help_text="Exact seller SKU.")

    class Meta:
        model = Listing
        fields = ["mapped", "store", "seller_sku"]

    def filter_mapped(self, queryset: QuerySet[Listing], name: str, value: bool | None) -> QuerySet[Listing]:
        if value is None:
            return queryset
        return queryset.filter(sku__isnull=not value)


class StockLevelFilter(filters.FilterSet):
    sku = filters.CharFilter(method="filter_sku", help_text="SKU code or id.")
    warehouse = filters.CharFilter(method="filter_warehouse", help_text="Warehouse id, name or code.")

    class Meta:
        model = StockLevel
        fields = ["sku", "warehouse"]

    def filter_sku(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_sku_condition(value))

    def filter_warehouse(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _by_warehouse(queryset, value)


class StockMovementFilter(StockLevelFilter):
    kind = filters.ChoiceFilter(choices=MovementKind.choices)
    since = MomentFilter(field_name="created_at", lookup_expr="gte", help_text="At or after (ISO 8601).")
    until = MomentFilter(field_name="created_at", lookup_expr="lte", help_text="At or before (ISO 8601).")

    class Meta:
        model = StockMovement
        fields = ["sku", "warehouse", "kind", "since", "until"]
