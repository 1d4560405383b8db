"""The order list's filters and search, one FilterSet for the dashboard and the REST API (same names, same meaning).

The conditions themselves live in orders.selectors; this maps query parameters onto them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from decimal import Decimal

import django_filters
from django.db.models import QuerySet

from erp import clock
from erp.inputs import DayFilter
from integrations.logistics_policy import with_policy_dates
from integrations.models import Platform, Store
from orders import logistics as order_logistics
from orders import selectors
from orders.models import HoldReason, Order, OrderStatus

STATUS_CHOICES = [(tab.key, tab.label) for tab in selectors.STATUS_TABS] + [
    (status.value, f"{status.label} (platform status {status.value})") for status in OrderStatus
]


def _start_of(day: date) -> datetime:
    return clock.day_start(day)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        help_text="A tab (`to_ship` = AWAITING_SHIPMENT + PARTIALLY_SHIPPING, `on_hold` = the remorse window, `held` = "
        "any open hold, `delivered` = DELIVERED + COMPLETED, `all`...) or one platform status.",
    )
    store = django_filters.UUIDFilter(field_name="store_id", help_text="Store id.")
    channel = django_filters.ChoiceFilter(
        field_name="store__platform",
        choices=Platform.choices,
        help_text="Orders of one sales channel (`tiktok`, `shopify`, `manual`).",
    )
    can_combine = django_filters.BooleanFilter(
        method="filter_can_combine",
        help_text="Orders the platform allows to ship with the buyer's other orders in one parcel (as last read).",
    )
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
    placed_from = DayFilter(
        method="filter_placed_from", help_text="Placed on or after this day (organization time zone)."
    )
    placed_to = DayFilter(method="filter_placed_to", help_text="Placed on or before this day (organization time zone).")
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Search: order id (exact or prefix), buyer name (contains), tracking number (exact), seller SKU "
        "(exact).",
    )
    # The compliance report's links (shipping.compliance): each figure opens the orders behind it.
    logistics = django_filters.ChoiceFilter(
        label="Logistics",
        choices=order_logistics.Logistics.CHOICES,
        method="filter_logistics",
        help_text="How the order ships: `official` (TikTok Shipping, CBT or FBT), `tiktok_shipping`, `cbt`, `fbt`, "
        "`seller` (seller shipping), `seller_violation` (seller shipping after the store's cut-off), "
        "`seller_needs_tracking` (seller shipping, to ship, carrier and tracking not sent to TikTok yet).",
    )
    shipped_from = DayFilter(
        label="Shipped from",
        method="filter_shipped_from",
        help_text="Shipped on or after this day (organization time zone).",
    )
    shipped_to = DayFilter(
        label="Shipped to",
        method="filter_shipped_to",
        help_text="Shipped on or before this day (organization time zone).",
    )
    ship_by_from = DayFilter(
        label="Ship-by from",
        method="filter_ship_by_from",
        help_text="Ship-by deadline on or after this day (organization time zone).",
    )
    ship_by_to = DayFilter(
        label="Ship-by to",
        method="filter_ship_by_to",
        help_text="Ship-by deadline on or before this day (organization time zone).",
    )
    dispatch = django_filters.ChoiceFilter(
        label="Dispatch",
        choices=[("late", "Dispatched late"), ("on_time", "Dispatched on time")],
        method="filter_dispatch",
        help_text="`late`: shipped after the ship-by deadline, or still unshipped past it; `on_time`: shipped by it. "
        "FBT orders and orders cancelled before shipping are neither.",
    )
    tracking = django_filters.ChoiceFilter(
        label="Tracking",
        choices=[("valid", "Valid tracking"), ("missing", "Tracking missing")],
        method="filter_tracking",
        help_text="`valid`: official logistics, or seller shipping with a tracking number; `missing`: seller shipping "
        "without one.",
    )
    cancelled_by = django_filters.ChoiceFilter(
        label="Cancelled by",
        choices=order_logistics.CANCELLED_BY,
        method="filter_cancelled_by",
        help_text="Cancelled orders, by who cancelled.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=selectors.ORDERING_CHOICES,
        method="filter_nothing",
        help_text="Sort order. Default: `ship_by` (soonest deadline first, none last) for open orders, else "
        "`-placed_at`.",
    )

    class Meta:
        model = Order
        fields = [
            "status",
            "store",
            "channel",
            "hold",
            "warehouse",
            "sku",
            "ship_within",
            "placed_from",
            "placed_to",
            "q",
            "logistics",
            "shipped_from",
            "shipped_to",
            "ship_by_from",
            "ship_by_to",
            "dispatch",
            "tracking",
            "cancelled_by",
        ]

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

    def filter_can_combine(self, queryset: QuerySet[Order], name: str, value: bool | None) -> QuerySet[Order]:
        if value is None:
            return queryset
        ids = selectors.combinable_order_ids()
        return queryset.filter(external_id__in=ids) if value else queryset.exclude(external_id__in=ids)

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

    def filter_logistics(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        stores = with_policy_dates(Store.objects.all()) if value == order_logistics.Logistics.SELLER_VIOLATION else ()
        return queryset.filter(order_logistics.logistics_condition(value, stores=stores))

    def filter_shipped_from(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(shipped_at__gte=_start_of(value))

    def filter_shipped_to(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(shipped_at__lt=_start_of(value + timedelta(days=1)))

    def filter_ship_by_from(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(ship_by__gte=_start_of(value))

    def filter_ship_by_to(self, queryset: QuerySet[Order], name: str, value: date) -> QuerySet[Order]:
        return queryset.filter(ship_by__lt=_start_of(value + timedelta(days=1)))

    def filter_dispatch(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        condition = (
            order_logistics.late_dispatch_condition if value == "late" else order_logistics.on_time_dispatch_condition
        )
        return queryset.filter(condition())

    def filter_tracking(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        condition = (
            order_logistics.valid_tracking_condition if value == "valid" else order_logistics.missing_tracking_condition
        )
        return queryset.filter(condition())

    def filter_cancelled_by(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(order_logistics.cancelled_by_condition(value))

    def filter_nothing(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset  # the ordering is applied by the keyset page (orders.selectors.orders_page)

    def chosen_ordering(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("ordering") or selectors.default_ordering(data.get("status"))

    def page(self, *, cursor: str | None, size: int) -> selectors.OrderPage:
        """One keyset page of a valid filterset: every filter, with the search and the SKU run by the page itself
        (`orders_page(search=..., sku=...)`: the page's rows first, then their whole orders). Raises
        InvalidCursor."""
        return selectors.orders_page(
            self.filter_queryset(self.queryset, skip={"q", "sku"}),
            ordering=self.chosen_ordering(),
            cursor=cursor,
            size=size,
            search=self.form.cleaned_data.get("q") or "",
            sku=self.form.cleaned_data.get("sku") or "",
        )


class OrderPageFilter(OrderFilter):
    """The API's order list: the same filters, except that the search and the SKU are left to the keyset page
    (OrderKeysetPagination passes `q` and `sku` to `orders_page`), which runs them far cheaper than a filter can."""

    def filter_search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset

    def filter_sku(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset
