"""The buyer changes the address on TikTok (webhook 3, RECIPIENT_ADDRESS_UPDATE, delivered in-process and signed by
the sandbox; or seen by the next sync). Before the label is bought the order is quoted again and the decision log
says so; after, the order is flagged "The label shows the old address" with the fix TikTok allows, on the order's
page, the batch page and the packing-station scan."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from erp.models import AuditEntry
from erp.tenancy import organization_scope
from integrations.models import Store
from orders import services as order_services
from orders.models import Order
from shipping.labels.documents import label_document_fetch
from shipping.labels.purchase import PurchaseOutcome, label_purchase_execute, label_purchase_request
from shipping.models import LabelPurchase
from tests.factories import LabelBatchFactory
from tests.shipping.test_labels import shippable
from tests.tiktok_harness import into_dropline

pytestmark = pytest.mark.django_db
NEW_ADDRESS = {"line1": "500 Mission Street", "city": "San Francisco", "postal_code": "94105"}


@pytest.fixture
def store(tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any) -> Store:
    tiktok.sandbox.webhook_transport = into_dropline()
    with django_capture_on_commit_callbacks(execute=True):
        tiktok.connect(tenant.client)
    connected = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    with organization_scope(tenant.organization):
        order_services.store_sync(store=connected)
    return connected


def deliver(tiktok: Any, capture: Any, organization: Any) -> None:
    """Flush the sandbox's notifications into Dropline; the work they cause after commit runs in the organization's
    scope, as a worker runs it."""
    with organization_scope(organization), capture(execute=True):
        tiktok.control("POST", "webhooks/flush")


def move(tiktok: Any, order: Order) -> None:
    tiktok.control("POST", f"orders/{order.external_id}/events", type="address_update", **NEW_ADDRESS)


def buy(store: Store, order: Order) -> LabelPurchase:
    with organization_scope(store.organization):
        purchase = label_purchase_request(order=order, batch=LabelBatchFactory(organization=store.organization))
        assert label_purchase_execute(purchase_id=purchase.pk) == PurchaseOutcome.BOUGHT
        assert label_document_fetch(purchase_id=purchase.pk)
    return LabelPurchase.unscoped.get(pk=purchase.pk)


def test_before_the_label_the_order_is_quoted_again_and_the_decision_log_says_so(
    store: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shippable(store)[0]
    with organization_scope(store.organization):
        waiting = label_purchase_request(order=order)  # in a batch, not bought yet
    move(tiktok, order)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    order.refresh_from_db()
    assert order.address_line1 == "500 Mission Street"
    assert order.postal_code == "94105"
    assert not order.label_shows_old_address
    assert order.address_note.startswith("Address changed at ")
    assert "quote refreshed: " in order.address_note
    assert "USD" in order.address_note  # the price the new address would pay
    waiting.refresh_from_db()
    assert waiting.decision["address_changed"] == order.address_note
    page = tenant.client.get(reverse("orders_detail", args=[order.pk])).content.decode()
    assert 'data-testid="decision-address-changed"' in page
    assert "quote refreshed" in page


def test_after_the_label_the_order_batch_and_station_say_the_label_shows_the_old_address(
    store: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shippable(store)[0]
    purchase = buy(store, order)
    move(tiktok, order)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    order.refresh_from_db()
    assert order.address_line1 == "500 Mission Street"
    assert order.label_shows_old_address
    assert order.address_note.startswith("The label shows the old address")
    assert "21022025" in order.address_note  # buying again is refused: the fix is outside the API
    client = tenant.client
    detail = client.get(reverse("orders_detail", args=[order.pk])).content.decode()
    assert 'data-testid="address-note"' in detail
    assert "The label shows the old address" in detail
    batch = client.get(reverse("shipping_batch", args=[purchase.batch_id])).content.decode()
    assert 'data-testid="batch-warnings"' in batch
    assert "The label shows the old address" in batch
    scan = client.post(reverse("shipping_scan"), {"code": purchase.tracking_number}).content.decode()
    assert 'data-testid="scan-alert"' in scan
    assert "The label shows the old address" in scan
    assert AuditEntry.unscoped.filter(action="order.address_changed_after_label", target_id=str(order.pk)).count() == 1


@pytest.mark.chaos
def test_a_replayed_notification_and_a_second_sync_flag_it_once(
    store: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shippable(store)[0]
    buy(store, order)
    tiktok.sandbox.faults.set_webhook_duplicates(4)
    move(tiktok, order)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    order.refresh_from_db()
    flagged_at, note = order.address_changed_at, order.address_note
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        order_services.store_sync(store=store)
        order_services.orders_fetch(store=store, order_ids=[order.external_id])
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    order.refresh_from_db()
    assert (order.address_changed_at, order.address_note) == (flagged_at, note)
    assert AuditEntry.unscoped.filter(action="order.address_changed_after_label").count() == 1


def test_a_change_seen_only_by_the_sync_updates_the_order_too(
    store: Store, tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shippable(store)[0]
    tiktok.sandbox.webhook_transport = None  # the notification never arrives
    move(tiktok, order)
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        order_services.store_sync(store=store)
    order.refresh_from_db()
    assert order.city == "San Francisco"
    assert "quote refreshed" in order.address_note


def test_a_refetch_of_an_unchanged_order_notes_nothing(
    store: Store, tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shippable(store)[0]
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        order_services.orders_fetch(store=store, order_ids=[order.external_id])
        order_services.store_sync(store=store)
    order.refresh_from_db()
    assert order.address_changed_at is None
    assert order.address_note == ""
