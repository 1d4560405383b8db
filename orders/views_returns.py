"""The "Receive a return" screen for warehouse staff: scan or type the return's tracking number or the order number,
see what can come back, and per SKU restock it or write it off (orders.returns)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from erp import inputs
from erp.roles import Perm
from erp.views_base import OrganizationViewMixin
from inventory.models import ReturnOutcome, Warehouse, WarehouseKind
from inventory.services import ReturnLine, StockError
from orders.models import Order
from orders.returns import (
    ReturnRefused,
    order_can_return,
    order_return_receive,
    order_returns,
    return_order_find,
    returnable_lines,
)

WAREHOUSE_KEY = "returns_warehouse"


def receiving_warehouses() -> QuerySet[Warehouse]:
    """Where a return can be received and shelved: the seller's own active warehouses that keep stock."""
    return Warehouse.objects.filter(kind=WarehouseKind.OWN, is_active=True, tracks_stock=True).order_by("name")


class ReturnReceiveView(OrganizationViewMixin, TemplateView):
    template_name = "orders/return_receive.html"
    read_permission = Perm.RETURNS_RECEIVE
    write_permission = Perm.RETURNS_RECEIVE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        code = kwargs.pop("code", None)
        if code is None:
            code = self.request.GET.get("code", "")
        order = kwargs.pop("order", None) or (return_order_find(code) if code.strip() else None)
        warehouses = list(receiving_warehouses())
        chosen = self.request.session.get(WAREHOUSE_KEY) or (str(warehouses[0].pk) if len(warehouses) == 1 else "")
        return super().get_context_data(
            code=code,
            order=order,
            not_found=bool(code.strip()) and order is None,
            can_return=order is not None and order_can_return(order),
            lines=returnable_lines(order) if order is not None else [],
            receipts=order_returns(order) if order is not None else [],
            warehouses=warehouses,
            chosen_warehouse=chosen,
            outcomes=ReturnOutcome.choices,
            submission=uuid.uuid4().hex,
            **kwargs,
        )

    def _refuse(self, order: Order | None, errors: list[str]) -> HttpResponse:
        context = self.get_context_data(code=order.external_id if order else "", order=order, errors=errors)
        return self.render_to_response(context, status=400)

    def post(self, request: HttpRequest) -> HttpResponse:
        order_id = inputs.parse_uuid(request.POST.get("order"))
        order = Order.objects.filter(pk=order_id).select_related("store").first() if order_id else None
        if order is None:
            return self._refuse(None, ["No such order: scan the parcel again."])
        warehouse_id = inputs.parse_uuid(request.POST.get("warehouse"))
        warehouse = receiving_warehouses().filter(pk=warehouse_id).first() if warehouse_id else None
        submission = request.POST.get("submission", "").strip()
        return_id = request.POST.get("return_id", "").strip()
        tracking = request.POST.get("tracking_number", "").strip()
        errors = []
        if warehouse is None:
            errors.append("Choose the warehouse the parcel is received at.")
        if not submission or len(submission) > 64:
            errors.append("The form is incomplete: open the order again.")
        if len(return_id) > 64 or len(tracking) > 64:
            errors.append("A return id or tracking number is at most 64 characters.")
        lines = []
        for line in returnable_lines(order):
            key = str(line.sku_id)
            try:
                quantity = inputs.parse_units(request.POST.get(f"quantity-{key}", "0") or "0")
                inputs.validate_text(request.POST.get(f"reason-{key}", ""), max_length=300)
            except ValidationError as error:
                errors.extend(f"{line.code}: {message}" for message in error.messages)
                continue
            if quantity:
                outcome = request.POST.get(f"outcome-{key}", "")
                lines.append(ReturnLine(line.sku_id, quantity, outcome, request.POST.get(f"reason-{key}", "")))
        if errors or warehouse is None:
            return self._refuse(order, errors)
        try:
            receipt, new = order_return_receive(
                order=order,
                warehouse=warehouse,
                lines=lines,
                submission=submission,
                actor=request.actor,  # type: ignore[attr-defined]  # set by OrganizationMiddleware
                return_id=return_id,
                tracking_number=tracking,
            )
        except StockError as error:
            return self._refuse(order, error.messages)
        except ReturnRefused as refused:
            return self._refuse(order, [str(refused)])
        request.session[WAREHOUSE_KEY] = str(warehouse.pk)
        if new:
            messages.success(request, f"Return of order {order.external_id} received at {warehouse.name}.")
        else:
            messages.warning(
                request,
                f"Already received at {receipt.warehouse.name} by {receipt.received_by_label}: nothing was done twice.",
            )
        return redirect(f"{reverse('orders_return_receive')}?code={order.external_id}")
