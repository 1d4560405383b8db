"""Orders API: list (keyset pages, the dashboard's filters and search), detail, and status-tab counts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api.idempotency import idempotent
from erp.api.views import OrganizationReadOnlyViewSet
from erp.roles import Perm
from integrations.interface import Address
from orders import selectors, services
from orders.api.pagination import OrderKeysetPagination
from orders.api.serializers import ManualOrderInput, OrderCountsOutput, OrderDetailOutput, OrderListOutput
from orders.filters import OrderFilter
from orders.models import Order


@extend_schema(tags=["orders"])
class OrderViewSet(OrganizationReadOnlyViewSet):
    """The organization's orders; partners may also create manual ones. Lists are keyset pages (`next`/`previous`
    links), sorted by the ship-by deadline (soonest first) for open orders and newest first otherwise, unless
    `ordering` says."""

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

    write_permission = Perm.ORDERS_MANAGE

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "create":
            return ManualOrderInput
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

    @extend_schema(request=ManualOrderInput, responses={201: OrderDetailOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a manual order (channel "manual"). It is validated (address, SKUs, quantities), reserved like
        any order, and held with the reason when it cannot ship. Send an `Idempotency-Key` header: a retry with the
        same key returns the first answer instead of a conflict."""
        return idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = ManualOrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        recipient = values["recipient"]
        order = services.order_create_manual(
            actor=request.actor,
            data=services.ManualOrderInput(
                reference=values["reference"],
                recipient=Address(
                    name=recipient["name"],
                    phone=recipient["phone"],
                    line1=recipient["line1"],
                    line2=recipient["line2"],
                    city=recipient["city"],
                    state=recipient["state"],
                    postal_code=recipient["postal_code"],
                    region_code=recipient["country_code"].upper(),
                ),
                lines=tuple(services.ManualLine(**line) for line in values["lines"]),
                currency=values["currency"].upper(),
                buyer_message=values["buyer_message"],
                ship_by=values["ship_by"],
            ),
        )
        detail = selectors.order_detail_queryset().get(pk=order.pk)
        return Response(OrderDetailOutput(detail, context={"request": request}).data, status=status.HTTP_201_CREATED)
