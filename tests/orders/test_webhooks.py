"""Platform notifications end to end, in-process: the sandbox signs and POSTs each webhook into Dropline's own WSGI
app, which verifies it, keeps it once, and fetches the order through the client."""

from __future__ import annotations

from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.models import Store, WebhookDelivery
from orders import services
from orders.models import Order, OrderStatus
from tests.tiktok_harness import into_dropline

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any) -> Store:
    tiktok.sandbox.webhook_transport = into_dropline()
    with django_capture_on_commit_callbacks(execute=True):  # connect registers the webhook address (a task)
        tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    with organization_scope(store.organization):
        services.store_sync(store=store)
    return store


def deliver(tiktok: Any, capture: Any) -> None:
    with capture(execute=True):  # the webhook view enqueues the fetch after commit
        tiktok.control("POST", "webhooks/flush")


def test_connect_registers_this_deployments_webhook_address(connected: Store, tiktok: Any) -> None:
    registered = tiktok.sandbox.world.shops[connected.external_id].webhooks  # the platform's own record
    assert registered["ORDER_STATUS_CHANGE"]["address"] == "http://127.0.0.1:8000/webhooks/tiktok/"
    assert {"SELLER_DEAUTHORIZATION", "CANCELLATION_STATUS_CHANGE"} <= set(registered)


def test_a_cancellation_arrives_by_webhook_and_updates_the_order(
    connected: Store, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = Order.unscoped.filter(store=connected, status=OrderStatus.AWAITING_SHIPMENT).first()
    tiktok.control(
        "POST", f"orders/{order.external_id}/events", type="cancel", initiator="BUYER", reason="Changed mind"
    )
    deliver(tiktok, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "Changed mind"
    # The platform announces a cancellation twice (order status change and cancellation status change): every
    # delivery is processed, and the order was cancelled once.
    deliveries = WebhookDelivery.unscoped.filter(store=connected)
    assert deliveries.exists()
    assert not deliveries.filter(processed_at__isnull=True).exists()
    pushes = tiktok.control("GET", "webhooks")["deliveries"]
    cancels = [d for d in pushes if d["type"] == 1 and d["payload"]["data"]["order_id"] == order.external_id]
    assert [d["payload"]["data"]["order_status"] for d in cancels] == ["CANCEL"]
    assert Order.unscoped.filter(store=connected, external_id=order.external_id).count() == 1


@pytest.mark.chaos
def test_the_same_webhook_five_times_and_the_poller_racing_it_leave_one_correct_order(
    connected: Store, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tiktok.sandbox.faults.set_webhook_duplicates(5)
    order = Order.unscoped.filter(store=connected, status=OrderStatus.AWAITING_SHIPMENT).first()
    tiktok.order_event(order.external_id, "cancel_request", reason="Wrong size")
    assert [c["status"] for c in tiktok.aftersale(order.external_id)["cancellations"]] == [
        "CANCELLATION_REQUEST_PENDING"
    ]
    deliver(tiktok, django_capture_on_commit_callbacks)
    with organization_scope(connected.organization):
        services.store_sync(store=connected)  # the poller sees the same change
    assert Order.unscoped.filter(store=connected, external_id=order.external_id).count() == 1
    order.refresh_from_db()
    assert order.buyer_requested_cancel is True
    assert order.is_held is True
    log = tiktok.control("GET", "webhooks")
    attempts = sum(len(d.get("attempts", [])) for d in log["deliveries"])
    assert attempts >= 5
    assert WebhookDelivery.unscoped.filter(store=connected).count() == 1
