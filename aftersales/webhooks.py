"""Webhook 11 (a cancellation's status changed) and 12 (a return's): read that order's requests now, so the inbox
shows a new request within seconds instead of at the next scheduled sync."""

from __future__ import annotations

from integrations.interface import WebhookEvent
from integrations.models import Store
from integrations.services import webhook_topics

TOPICS = ("CANCELLATION_STATUS_CHANGE", "RETURN_STATUS_CHANGE")


def refresh_requests_of_order(store: Store, event: WebhookEvent) -> None:
    """Runs in the worker processing the notification, after orders has fetched the order (it subscribed first)."""
    from aftersales.services import requests_refresh

    if event.order_id:
        requests_refresh(store=store, order_ids=[event.order_id])


def subscribe() -> None:
    for topic in TOPICS:
        webhook_topics.subscribe(topic, refresh_requests_of_order)
