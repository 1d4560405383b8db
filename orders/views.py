"""Order screens: the list (tabs with counts, filters and search swapped in place with HTMX, keyset pages) and one
order's detail. Thin: the FilterSet and the selectors do the work, the API uses the same ones."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import TemplateView, View

from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from integrations.errors import PlatformError
from integrations.services import platform_name
from orders import selectors, seller_shipping
from orders.filters import OrderFilter
from orders.forms import SellerShipmentCsvForm, SellerShipmentForm
from orders.models import HoldReason, Order
from orders.seller_shipping_csv import COLUMNS as SELLER_SHIPPING_COLUMNS
from orders.seller_shipping_csv import seller_shipments_import

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
                page = filterset.page(cursor=params.get("cursor"), size=PAGE_SIZE)
            except selectors.InvalidCursor:  # a stale or hand-edited link: start over
                page = filterset.page(cursor=None, size=PAGE_SIZE)
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
            combinable=selectors.combinable_order_ids(),
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
        panel = seller_shipping.seller_shipping_panel(
            detail.order, can_ship=Perm.ORDERS_MANAGE in self.request.permissions
        )
        form = kwargs.pop("seller_shipment_form", None)
        if form is None and panel is not None and panel.offers_form:
            form = SellerShipmentForm(carriers=panel.carriers)
        return super().get_context_data(
            detail=detail,
            order=detail.order,
            seller_shipping=panel,
            seller_shipment_form=form,
            warehouse_warning=selectors.platform_warehouse_mismatches([detail.order])[0],
            panels=detail.panels(frozenset(self.request.permissions)),  # type: ignore[attr-defined]
            **kwargs,
        )


class OrderMarkShippedView(OrganizationViewMixin, View):
    """A seller-shipping order's carrier and tracking: recorded, then sent to TikTok in the background (once)."""

    read_permission = Perm.VIEW
    write_permission = Perm.ORDERS_MANAGE

    def post(self, request: HttpRequest, pk: object) -> HttpResponse:
        order = get_object_or_404(Order.objects.select_related("store__authorization"), pk=pk)
        back = HttpResponseRedirect(reverse("orders_detail", kwargs={"pk": order.pk}))
        try:
            carriers = seller_shipping.seller_shipping_carriers(order=order)
        except PlatformError as error:
            channel = platform_name(order.store.platform)
            messages.error(request, f"{channel} did not list the carriers ({error.code}: {error.message}). Try again.")
            return back
        form = SellerShipmentForm(request.POST, carriers=carriers)
        if not form.is_valid():
            messages.error(request, "Choose a carrier and enter the tracking number.")
            return back
        try:
            shipment = seller_shipping.seller_shipment_request(
                order=order,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                actor=request.actor,
                carriers=carriers,
            )
        except seller_shipping.SellerShippingRefused as refusal:
            messages.error(request, str(refusal))
            return back
        messages.success(
            request,
            f"Sending {shipment.carrier_name} {shipment.tracking_number} to {platform_name(order.store.platform)}: the "
            "answer shows below.",
        )
        return back


class SellerShipmentImportView(OrganizationViewMixin, TemplateView):
    """Upload a CSV of order id, carrier and tracking number, check it (a dry run), then apply the same content."""

    template_name = "orders/seller_shipping_import.html"
    read_permission = Perm.VIEW
    write_permission = Perm.ORDERS_MANAGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("form", SellerShipmentCsvForm())
        return super().get_context_data(columns=SELLER_SHIPPING_COLUMNS, **kwargs)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SellerShipmentCsvForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        text = form.cleaned_data["text"]
        apply = request.POST.get("action") == "apply"
        report = seller_shipments_import(text=text, actor=request.actor, dry_run=not apply)
        if report.applied:
            messages.success(request, f"Sending {report.rows} order{'s' if report.rows != 1 else ''} to TikTok.")
        # The checked content rides along in a hidden field, so "Apply" applies exactly what was checked.
        context = {"report": report, "text": text, "filename": form.cleaned_data["filename"]}
        return self.render_to_response(self.get_context_data(**context))
