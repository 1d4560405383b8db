"""What orders does with platform notifications: fetch the order now. The payload is only a notice."""

from __future__ import annotations

from integrations.interface import WebhookEvent
from integrations.models import Store
from integrations.services import store_sync_requested, webhook_topics

ORDER_TOPICS = (
    "ORDER_STATUS_CHANGE",
    "RECIPIENT_ADDRESS_UPDATE",
    "PACKAGE_UPDATE",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
)


def fetch_order(store: Store, event: WebhookEvent) -> None:
    from orders.tasks import fetch

    if event.order_id:
        fetch.delay_on_commit(organization_id=str(store.organization_id), store_id=str(store.pk),
                              order_ids=[event.order_id])  # fmt: skip


def sync_store_now(store: Store) -> None:
    from orders.tasks import sync_store

    sync_store.delay_on_commit(organization_id=str(store.organization_id), store_id=str(store.pk))


def subscribe() -> None:
    for topic in ORDER_TOPICS:
        webhook_topics.subscribe(topic, fetch_order)
    store_sync_requested.connect(sync_store_now)
