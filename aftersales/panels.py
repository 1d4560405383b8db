"""The order page's after-sales section: the order's requests and decisions, and "Cancel order" for the seller
(registered with orders.selectors.order_detail_sources, since orders cannot import this app)."""

from __future__ import annotations

from typing import Any

from aftersales.selectors import order_requests
from aftersales.services import SELLER_CANCELLABLE, seller_cancellation_of
from erp.roles import Perm
from integrations.base import Capability
from integrations.registry import has_capability
from orders.models import Order
from orders.selectors import Panel


def after_sales_panel(order: Order, permissions: frozenset[Any]) -> Panel | None:
    cancellations, returns = order_requests(order.pk)
    can_cancel = (
        Perm.AFTERSALES_DECIDE in permissions
        and order.status in SELLER_CANCELLABLE
        and has_capability(order.store.platform, Capability.CANCELLATIONS)
    )
    if not (cancellations or returns or can_cancel):
        return None
    return Panel(
        "aftersales/_order_panel.html",
        {
            "order": order,
            "cancellations": cancellations,
            "returns": returns,
            "can_cancel": can_cancel,
            "seller_cancellation": seller_cancellation_of(order),
        },
    )
