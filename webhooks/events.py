"""The event types an endpoint may subscribe to (docs/webhooks.md lists each one's payload)."""

from django.db import models

ALL_EVENTS = "*"


class EventType(models.TextChoices):
    ORDER_IMPORTED = "order.imported", "An order arrived from a store"
    ORDER_UPDATED = "order.updated", "An order changed on its platform (status, address, lines)"
    ORDER_HELD = "order.held", "A hold was placed on an order"
    ORDER_RELEASED = "order.released", "A hold on an order was released"
    ORDER_AT_RISK = "order.at_risk", "An order is at risk of shipping late"
    LABEL_PURCHASED = "label.purchased", "A shipping label was bought"
    LABEL_FAILED = "label.failed", "Buying a shipping label failed"
    BATCH_COMPLETED = "batch.completed", "A label batch finished"
    HANDOFF_CREATED = "handoff.created", "Labels were handed off to a supplier warehouse"
    HANDOFF_ACKNOWLEDGED = "handoff.acknowledged", "A supplier acknowledged a handoff"
    HANDOFF_HANDED_OVER = "handoff.handed_over", "A handoff's parcels were handed to the carrier"
    STOCK_LOW = "stock.low", "A SKU fell to its low-stock threshold"
    STOCK_CHANGED = "stock.changed", "A SKU's stock at a warehouse changed"
    CANCELLATION_REQUESTED = "cancellation.requested", "A buyer asked to cancel an order"
    RETURN_REQUESTED = "return.requested", "A buyer asked to return an order"
    STORE_NEEDS_ATTENTION = "store.needs_attention", "A store stopped syncing and needs the seller"


# Sent only by "send test event"; not subscribable, delivered to the endpoint it tests whatever it subscribes to.
PING = "ping"
