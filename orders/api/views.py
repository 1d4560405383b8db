"""Orders API: list (keyset pages, the dashboard's filters and search), detail, and status-tab counts."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from erp.api import expand
from erp.api.views import OrganizationReadOnlyViewSet
from erp.roles import Perm, ResourceFamily
from integrations.interface import Address
from orders import selectors, services
from orders.api.pagination import OrderKeysetPagination
from orders.api.serializers import (
    ManualOrderInput,
    OrderCountsOutput,
    OrderDetailOutput,
    OrderHoldOutput,
    OrderHoldReleaseInput,
    OrderListOutput,
    OrderTagsInput,
    OrderTagsOutput,
    SellerShipmentInput,
    SellerShipmentOutput,
)
from orders.filters import OrderFilter, OrderPageFilter
from orders.models import Order, OrderHold, OrderLine, OrderStatusChange, SellerShipment
from orders.seller_shipping import SellerShippingRefused, seller_shipment_request

# `?expand=` on the order list: what the detail carries, one query per page each (erp/api/expand.py).
ORDER_EXPANSIONS = {
    "lines": expand.Expansion(
        OrderDetailOutput, "lines", lambda: Prefetch("lines", OrderLine.objects.order_by("seller_sku", "external_id"))
    ),
    "holds": expand.Expansion(
        OrderDetailOutput, "holds", lambda: Prefetch("holds", OrderHold.objects.order_by("created_at"))
    ),
    "status_history": expand.Expansion(
        OrderDetailOutput,
        "status_history",
        lambda: Prefetch("status_changes", OrderStatusChange.objects.order_by("changed_at", "recorded_at")),
    ),
}


@extend_schema(tags=["orders"])
@extend_schema_view(list=extend_schema(parameters=[expand.parameter(ORDER_EXPANSIONS)]))
class OrderViewSet(OrganizationReadOnlyViewSet):
    """The organization's orders; partners may also create manual ones. Lists are keyset pages (`next`/`previous`
    links), sorted by the ship-by deadline (soonest first) for open orders and newest first otherwise, unless
    `ordering` says."""

    model = Order
    resource_family = ResourceFamily.ORDERS
    filterset_class: type[OrderFilter] | None = OrderFilter
    pagination_class = OrderKeysetPagination

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.action == "list":
            # The list's search runs inside its keyset page (orders.filters.OrderPageFilter); every other action
            # filters with the search as a condition.
            self.filterset_class = OrderPageFilter

    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_scoped_queryset(self) -> QuerySet[Order]:
        if self.action == "retrieve":
            return selectors.order_detail_queryset()
        if self.action in ("counts", "seller_shipment", "holds", "hold_release", "tags"):
            return Order.objects.select_related("store__authorization")
        return selectors.orders_list().prefetch_related(*expand.prefetches(self.request, ORDER_EXPANSIONS))

    write_permission = Perm.ORDERS_MANAGE

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "create":
            return ManualOrderInput
        if self.action == "retrieve":
            return OrderDetailOutput
        if self.action == "counts":
            return OrderCountsOutput
        if self.action == "seller_shipment":
            return SellerShipmentInput
        if self.action == "list":
            return expand.serializer_for(OrderListOutput, self.request, ORDER_EXPANSIONS)
        if self.action == "holds":
            return OrderHoldOutput
        if self.action == "tags":
            return OrderTagsInput
        if self.action == "hold_release":
            return OrderHoldReleaseInput
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

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: SellerShipmentOutput, 404: None},
        summary="A seller-shipping order's tracking, and TikTok's answer",
    )
    @extend_schema(
        methods=["POST"],
        request=SellerShipmentInput,
        responses={202: SellerShipmentOutput, 200: SellerShipmentOutput, 400: None},
        summary="Mark a seller-shipping order shipped on TikTok with your carrier and tracking",
    )
    @action(detail=True, methods=["get", "post"], url_path="seller-shipment")
    def seller_shipment(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """For orders whose delivery option is seller shipping, before the store's cut-off under TikTok's 2026
        Logistics Services policy. POST records the carrier and tracking and sends them to TikTok in the
        background (202); the order is marked shipped exactly once: a repeat while it is being sent, or after it
        was, returns the same shipment (200) without calling TikTok again. GET shows its state and TikTok's answer
        (`failed` with TikTok's code, message and the fix; POST corrected values to send again). 400 with `detail`
        when Dropline refuses before calling TikTok (not seller shipping, past the cut-off, not to ship, unknown
        carrier, malformed tracking number)."""
        order = self.get_object()
        if request.method == "GET":
            shipment = SellerShipment.objects.filter(order=order).select_related("order").first()
            if shipment is None:
                raise NotFound("No tracking sent for this order.")
            return Response(SellerShipmentOutput(shipment).data)
        data = SellerShipmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        before = SellerShipment.objects.filter(order=order).values_list("pk", "updated_at").first()
        try:
            shipment = seller_shipment_request(
                order=order,
                carrier=data.validated_data["carrier"],
                tracking_number=data.validated_data["tracking_number"],
                actor=request.actor,
                source="api",
            )
        except SellerShippingRefused as refusal:
            raise ValidationError({refusal.field or "detail": [str(refusal)]}) from None
        unchanged = before is not None and before == (shipment.pk, shipment.updated_at)
        return Response(
            SellerShipmentOutput(shipment).data, status=status.HTTP_200_OK if unchanged else status.HTTP_202_ACCEPTED
        )

    @extend_schema(request=None, responses=OrderHoldOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def holds(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every hold of the order, open and released, oldest first, each with what to do about it."""
        order = self.get_object()
        holds = OrderHold.objects.filter(order=order).order_by("created_at", "pk")
        return Response(OrderHoldOutput(holds, many=True).data)

    @extend_schema(
        request=OrderHoldReleaseInput,
        responses={
            200: OrderHoldOutput,
            400: OpenApiResponse(
                description="No such hold on the order, or it still applies: the message says what to fix first."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="holds/release", url_name="hold-release", filterset_class=None)
    def hold_release(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Release one of the order's holds once its cause is fixed (stock received, SKU mapped, address corrected on
        the channel): Dropline checks again now, as it would on its own — a stock hold by trying the reservation
        again, a channel's hold by reading the order again — and releases the hold if it no longer applies. A hold
        whose cause remains stays (400, with what to fix); a released hold is returned as it is."""
        order = self.get_object()
        data = OrderHoldReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        hold = OrderHold.objects.filter(order=order, pk=data.validated_data["hold"]).first()
        if hold is None:
            raise ValidationError({"hold": ["No such hold on this order."]})
        hold = services.order_hold_release(order=order, hold=hold, actor=request.actor)
        return Response(OrderHoldOutput(hold).data)

    @extend_schema(request=OrderTagsInput, responses=OrderTagsOutput)
    @action(detail=True, methods=["post"], filterset_class=None)
    def tags(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add and remove the order's tags (the ones rules set, and your own). At most 20 tags of 1 to 50
        characters; a request that would break that changes nothing."""
        order = self.get_object()
        data = OrderTagsInput(data=request.data)
        data.is_valid(raise_exception=True)
        tags = services.order_tags_change(
            order=order, actor=request.actor, add=data.validated_data["add"], remove=data.validated_data["remove"]
        )
        return Response(OrderTagsOutput({"tags": tags}).data)
