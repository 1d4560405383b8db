"""Order events for outbound webhooks (docs/webhooks.md): one call per action, the orders as the API lists them.
Built only when an endpoint subscribes (one query otherwise), in bulk for an import of thousands of orders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from erp.tenancy import current_organization
from webhooks.services import EventDraft, event_types_subscribed, events_publish


def orders_publish(*, type: str, order_ids: Iterable[Any], subscribed: frozenset[str] | None = None) -> int:
    """Publish `type` for each order, in the caller's transaction. Returns the number of events recorded.
    `subscribed` (from `event_types_subscribed`) lets a caller that publishes several types ask once."""
    ids: list[Any] = list(dict.fromkeys(order_ids))
    if not ids:
        return 0
    organization = current_organization()
    if subscribed is None:
        subscribed = event_types_subscribed(organization=organization)
    if type not in subscribed:
        return 0
    from orders.api.serializers import OrderListOutput
    from orders.selectors import orders_list

    orders = {order.pk: order for order in orders_list().filter(pk__in=ids)}
    drafts = [
        EventDraft(type=type, object_type="order", object_id=str(pk), data=dict(OrderListOutput(orders[pk]).data))
        for pk in ids
        if pk in orders
    ]
    return len(events_publish(organization=organization, drafts=drafts))
