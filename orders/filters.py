"""The order list's filters and search, one FilterSet for the dashboard and the REST API (same names, same meaning).

The conditions themselves live in orders.selectors; this maps query parameters onto them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from erp.tenancy import organization_in_scope
from orders import selectors
from orders.models import HoldReason, Order, OrderStatus

STATUS_CHOICES = [(tab.key, tab.label) for tab in selectors.STATUS_TABS] + [
    (status.value, f"{status.label} (platform status {status.value})") for status in OrderStatus
]


def _organization_tz() -> tzinfo:
    organization = organization_in_scope()
    if organization is not None and organization.time_zone:
        try:
            return ZoneInfo(organization.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_organization_tz())


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        help_text="A tab (`to_ship` = AWAITING_SHIPMENT + PARTIALLY_SHIPPING, `on_hold` = the remorse window, `held` = "
        "any open hold, `delivered` = DELIVERED + COMPLETED, `all`...) or one platform status.",
    )
    store = django_filters.UUIDFilter(field_name="store_id", help_text="Store id.")
    hold = django_filters.ChoiceFilter(
        choices=HoldReason.choices, method="filter_hold", help_text="Orders with an open hold for this reason."
    )
    warehouse = django_filters.CharFilter(field_name="platform_warehouse_id", help_text="Platform warehouse id.")
    sku = django_filters.CharFilter(method="filter_sku", help_text="Orders with a line of this seller SKU (exact).")
    ship_within = django_filters.NumberFilter(
        method="filter_ship_within",
        min_value=Decimal(0),
        max_value=Decimal(24 * 365),
        help_text="Ship-by deadline within this many hours from now (overdue orders included).",
    )
    placed_from = django_filters.DateFilter(
        method="filter_placed_from", help_text="Placed on or after this day (organization time zone)."
    )
    placed_to = django_filters.DateFilter(
        method="filter_placed_to", help_text="Placed on or before this day (organization time zone)."
    )
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Search: order id (exact or prefix), buyer name (contains), tracking number (exact), seller SKU "
        "(exact).",
    )
    ordering = django_filters.ChoiceFilter(
        choices=selectors.ORDERING_CHOICES,
        method="filter_nothing",
        help_text="Sort order. Default: `ship_by` (soonest deadline first, none last) for open orders, else "
        "`-placed_at`.",
    )

    class Meta:
        model = Order
        fields = ["status", "store", "hold", "warehouse", "sku", "ship_within", "placed_from", "placed_to", "q"]

    def filter_queryset(self, queryset: QuerySet[Order], *, skip: Collection[str] = ()) -> QuerySet[Order]:
        """Every filter, except those named in `skip` (the tab counts apply everything but the status)."""
        for name, value in self.form.cleaned_data.items():
            if name not in skip:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_status(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(selectors.status_condition(value))

    def filter_hold(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        held_already = self.form.cleaned_data.get("status") == "held"  # the tab already says is_held
        return queryset.filter(selectors.hold_reason_condition(value, held_already=held_already))

    def filter_sku(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(selectors.sku_condition(value.strip()))

    def filter_ship_within(self, queryset: QuerySet[Order], name: str, value: Decimal) -> QuerySet[Order]:
        return queryset.filter(selectors.ship_within_condition(float(value)))

    def filter_placed_from(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(placed_at__gte=_start_of(value))

    def filter_placed_to(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(placed_at__lt=_start_of(value + timedelta(days=1)))

    def filter_search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(selectors.search_condition(value))

    def filter_nothing(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset  # the ordering is applied by the keyset page (orders.selectors.orders_page)

    def chosen_ordering(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("ordering") or selectors.default_ordering(data.get("status"))
