"""Webhook topics (§7.4, §7.5): their REST names, GraphQL enum names and the scope an app needs for each."""

from __future__ import annotations

from .graph import FO_READ_SCOPES

# REST-style topic -> the scopes of which the app needs one to subscribe (empty: none).
TOPIC_SCOPES: dict[str, tuple[str, ...]] = {
    "app/uninstalled": (),
    "orders/create": ("read_orders",),
    "orders/updated": ("read_orders",),
    "orders/cancelled": ("read_orders",),
    "orders/fulfilled": ("read_orders",),
    "orders/partially_fulfilled": ("read_orders",),
    "orders/edited": ("read_orders",),
    "fulfillments/create": ("read_orders", "read_fulfillments"),
    "fulfillment_orders/placed_on_hold": FO_READ_SCOPES,
    "fulfillment_orders/hold_released": FO_READ_SCOPES,
    "fulfillment_orders/cancelled": FO_READ_SCOPES,
    "fulfillment_orders/order_routing_complete": FO_READ_SCOPES,
    "inventory_levels/update": ("read_inventory",),
}

# §7.5: configured in the Partner Dashboard or the app's config file, never through the API.
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")

ALL_TOPICS = (*TOPIC_SCOPES, *COMPLIANCE_TOPICS)


def enum_name(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE` (the library's topicForStorage rule, §7.1)."""
    return topic.upper().replace("/", "_").replace(".", "_")


ENUM_TO_TOPIC = {enum_name(t): t for t in TOPIC_SCOPES}
