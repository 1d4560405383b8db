"""What orders does when something happens below it: a platform notification (fetch the order now), a store
connected (sync it), a listing mapped (give orders held for it another chance). Freed stock is shipping's to
handle (shipping.routing.on_stock_freed): which orders may still move depends on their labels."""

from __future__ import annotations

from integrations.interface import WebhookEvent
from integrations.models import Store
from integrations.services import store_sync_requested, webhook_topics
from inventory.models import Listing
from inventory.services import listing_mapped

ORDER_TOPICS = (
    "ORDER_STATUS_CHANGE",
    "RECIPIENT_ADDRESS_UPDATE",
    "PACKAGE_UPDATE",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
)


def fetch_order(store: Store, event: WebhookEvent) -> None:
    """Runs in the worker processing the notification (integrations.services.webhook_process): the fetch is done
    here, so the notification counts as processed only once the order is up to date."""
    from orders.services import orders_fetch

    if event.order_id:
        orders_fetch(store=store, order_ids=[event.order_id])


def sync_store_now(store: Store) -> None:
    from orders.tasks import sync_store

    sync_store.delay_on_commit(organization_id=str(store.organization_id), store_id=str(store.pk))


def retry_orders_of_listing(listing: Listing) -> None:
    from orders.stock import orders_held_for_listing
    from orders.tasks import reallocate

    held = orders_held_for_listing(listing)
    if held:
        reallocate.delay_on_commit(organization_id=str(listing.organization_id), order_ids=[str(pk) for pk in held])


def privacy_request(store: Store, event: WebhookEvent) -> None:
    from orders.privacy import privacy_request_handle

    privacy_request_handle(store, event)


def subscribe() -> None:
    from orders.privacy import PRIVACY_TOPICS

    for topic in ORDER_TOPICS:
        webhook_topics.subscribe(topic, fetch_order)
    for topic in PRIVACY_TOPICS:
        webhook_topics.subscribe(topic, privacy_request)
    store_sync_requested.connect(sync_store_now)
    listing_mapped.connect(retry_orders_of_listing)
