"""Order screens: the list (tabs with counts, filters and search swapped in place with HTMX, keyset pages) and one
order's detail. Thin: the FilterSet and the selectors do the work, the API uses the same ones."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.views.generic import TemplateView

from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from orders import selectors
from orders.filters import OrderFilter
from orders.models import HoldReason, Order

PAGE_SIZE = 50


def _query(params: QueryDict, **changes: str | None) -> str:
    """`params` as a query string, with some keys replaced (or removed when None)."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


class OrderListView(OrganizationViewMixin, TemplateView):
    template_name = "orders/list.html"
    read_permission = Perm.VIEW

    def get_template_names(self) -> list[str]:
        # Filters, tabs and pages swap only the results (HTMX); a full load or a shared link renders the whole page.
        return ["orders/_results.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        params = self.request.GET.copy()
        if not params.get("status"):
            params["status"] = selectors.DEFAULT_TAB
        filterset = OrderFilter(params, queryset=selectors.orders_list(), request=self.request)
        status = params["status"]
        counts: selectors.StatusCounts | None = None
        page = selectors.OrderPage(orders=[], next_cursor=None, previous_cursor=None)
        ordering = selectors.default_ordering(status)
        if filterset.is_valid():
            ordering = filterset.chosen_ordering()
            counts = selectors.status_counts(
                filterset.filter_queryset(Order.objects.all(), skip={"status", "ordering"})
            )
            try:
                page = selectors.orders_page(
                    filterset.qs, ordering=ordering, cursor=params.get("cursor"), size=PAGE_SIZE
                )
            except selectors.InvalidCursor:  # a stale or hand-edited link: start over
                page = selectors.orders_page(filterset.qs, ordering=ordering, size=PAGE_SIZE)
        filter_query = _query(params, cursor=None)
        tabs = [
            {
                "key": tab.key,
                "label": tab.label,
                "count": counts.label(tab.key) if counts else None,
                "query": _query(params, status=tab.key, cursor=None, ordering=None),
                "active": tab.key == status,
            }
            for tab in selectors.STATUS_TABS
        ]
        return super().get_context_data(
            filterset=filterset,
            form=filterset.form,
            status=status,
            status_is_open=selectors.status_is_open(status),
            tabs=tabs,
            total=counts.of(status) if counts else None,
            total_label=counts.label(status) if counts and counts.of(status) is not None else None,
            page=page,
            ordering=ordering,
            orderings=selectors.ORDERING_CHOICES,
            stores=selectors.stores_for_filter(),
            hold_reasons=HoldReason.choices,
            ship_within_choices=[("6", "6 hours"), ("24", "24 hours"), ("48", "48 hours"), ("72", "3 days")],
            filter_query=filter_query,
            has_orders=bool(page.orders) or Order.objects.exists(),
            next_query=_query(params, cursor=page.next_cursor) if page.next_cursor else None,
            previous_query=_query(params, cursor=page.previous_cursor) if page.previous_cursor else None,
            **kwargs,
        )


class OrderDetailView(OrganizationViewMixin, TemplateView):
    template_name = "orders/detail.html"
    read_permission = Perm.VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        detail = selectors.order_detail(
            order_id=self.kwargs["pk"], include_audit=Perm.AUDIT_VIEW in self.request.permissions
        )
        return super().get_context_data(
            detail=detail,
            order=detail.order,
            warehouse_warning=selectors.platform_warehouse_mismatches([detail.order])[0],
            **kwargs,
        )
