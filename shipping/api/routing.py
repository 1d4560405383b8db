"""Sending an order to another warehouse or supplier (a person's or a partner system's choice, never overruled by
the rules), through shipping.routing.order_move. It lives here, not in the orders API, because whether a label is
bought (which pins an order to its warehouse) is the shipping app's to say."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api.caller import request_actor
from erp.api.views import OrganizationGenericAPIView
from erp.roles import Perm
from inventory.models import Warehouse
from orders import selectors
from orders.api.serializers import OrderDetailOutput
from orders.models import Order
from orders.stock import RerouteRefused
from shipping.api.serializers import OrderRerouteInput
from shipping.routing import order_move


@extend_schema(tags=["orders"])
class OrderRerouteView(OrganizationGenericAPIView):
    model = Order
    resource_family: ClassVar[str] = "orders"
    read_permission = Perm.VIEW
    write_permission = Perm.ORDERS_MANAGE
    serializer_class = OrderRerouteInput

    def get_scoped_queryset(self) -> QuerySet[Order]:
        return Order.objects.select_related("store", "warehouse")

    @extend_schema(
        request=OrderRerouteInput,
        responses={
            200: OrderDetailOutput,
            400: OpenApiResponse(
                description="Not moved (nothing changed): no such warehouse, short there, a label already bought, "
                "or the order is not open; the message says which."
            ),
        },
        summary="Ship an open order from another warehouse or supplier",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The order's reservation moves to the warehouse, all or nothing (a supplier that makes to order takes it
        when it supplies every SKU). The rules never move it back. Refused once its label is bought or being
        bought: it ships from where its label says."""
        order = self.get_object()
        data = OrderRerouteInput(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = Warehouse.objects.filter(pk=data.validated_data["warehouse"]).first()
        if warehouse is None:
            raise ValidationError({"warehouse": ["No such warehouse."]})
        try:
            order_move(
                order=order, warehouse=warehouse, actor=request_actor(request), reason=data.validated_data["reason"]
            )
        except RerouteRefused as refused:
            raise ValidationError({"warehouse": [str(refused)]}) from refused
        detail = selectors.order_detail_queryset().get(pk=order.pk)
        return Response(OrderDetailOutput(detail, context={"request": request}).data)
