"""Orders API: list (keyset pages, the dashboard's filters and search), detail, and status-tab counts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.views import OrganizationReadOnlyViewSet
from orders import selectors
from orders.api.pagination import OrderKeysetPagination
from orders.api.serializers import OrderCountsOutput, OrderDetailOutput, OrderListOutput
from orders.filters import OrderFilter
from orders.models import Order


@extend_schema(tags=["orders"])
class OrderViewSet(OrganizationReadOnlyViewSet):
    """The organization's orders. Lists are keyset pages (`next`/`previous` links), sorted by the ship-by deadline
    (soonest first) for open orders and newest first otherwise, unless `ordering` says."""

    model = Order
    filterset_class = OrderFilter
    pagination_class = OrderKeysetPagination
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_scoped_queryset(self) -> QuerySet[Order]:
        if self.action == "retrieve":
            return selectors.order_detail_queryset()
        if self.action == "counts":
            return Order.objects.all()
        return selectors.orders_list()

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "retrieve":
            return OrderDetailOutput
        if self.action == "counts":
            return OrderCountsOutput
        return OrderListOutput

    @extend_schema(filters=True, responses=OrderCountsOutput)
    @action(detail=False, methods=["get"])
    def counts(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Orders per status tab; every filter applies except `status` (so each tab shows what it would list).
        Each tab is counted up to 10,000: a tab named in `at_least` holds 10,000 orders or more."""
        filterset = OrderFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        orders = filterset.filter_queryset(filterset.queryset, skip={"status", "ordering"})
        counts = selectors.status_counts(orders)
        return Response(OrderCountsOutput({**counts.tabs, "at_least": sorted(counts.capped)}).data)
