"""A platform notification is recorded with its work before TikTok hears 200, and that work is done exactly once:
by the worker its wake-up reaches, or by beat's sweep when the wake-up was lost (broker down), the worker died or
the work failed. Signed but malformed bodies are acknowledged, recorded as invalid and never crash."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError

from erp.tenancy import organization_scope
from integrations import services, tasks
from integrations.errors import PlatformError
from integrations.models import DeliveryState, Store, WebhookDelivery
from integrations.tiktok.signing import webhook_signature
from orders import services as order_services
from orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(tenant: Any, tiktok: Any) -> Store:
    store = tiktok.connect_store(tenant.organization)
    with organization_scope(store.organization):
        order_services.store_sync(store=store)
    return store


def post(raw: bytes, settings: Any) -> int:
    signature = webhook_signature(settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET, raw)
    response = Client().post("/webhooks/tiktok/", raw, content_type="application/json", HTTP_AUTHORIZATION=signature)
    return response.status_code


def envelope(store: Store, order: Order, notification_id: str = "n-1", **changes: Any) -> bytes:
    body = {
        "type": 1,
        "tts_notification_id": notification_id,
        "shop_id": store.external_id,
        "timestamp": 1700000000,
        "data": {"order_id": order.external_id, "order_status": "CANCEL", "update_time": 1700000000},
        **changes,
    }
    return json.dumps(body).encode()


def cancel_on_platform(tiktok: Any, order: Order) -> None:
    tiktok.control("POST", f"orders/{order.external_id}/events", type="cancel", initiator="BUYER", reason="Late")


def awaiting(store: Store, n: int = 1) -> list[Order]:
    orders = list(Order.unscoped.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).order_by("external_id"))
    return orders[:n]


def sweep() -> int:
    return tasks.webhooks_process_due(grace_seconds=0)


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing fails as it does with Redis unreachable (kombu wraps the connection error)."""

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.webhook_process, "apply_async", unreachable)


def test_a_notification_is_processed_by_the_worker_it_wakes(
    store: Store, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = awaiting(store)
    cancel_on_platform(tiktok, order)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(envelope(store, order), settings) == 200
    delivery = WebhookDelivery.unscoped.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PROCESSED, 1)
    assert delivery.processed_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert sweep() == 0  # nothing left owed


@pytest.mark.chaos
def test_with_the_broker_down_the_notification_is_acknowledged_kept_and_processed_by_the_sweep(
    store: Store, tiktok: Any, settings: Any, broker_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = awaiting(store)
    cancel_on_platform(tiktok, order)
    for _ in range(3):  # the first delivery and TikTok's retries of it
        with django_capture_on_commit_callbacks(execute=True):
            assert post(envelope(store, order), settings) == 200
    delivery = WebhookDelivery.unscoped.get()
    assert delivery.state == DeliveryState.PENDING  # acknowledged, owed, not lost behind the duplicate check
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT

    assert sweep() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_the_sweep_leaves_a_fresh_notification_to_its_wake_up(store: Store, settings: Any, broker_down: None) -> None:
    (order,) = awaiting(store)
    assert post(envelope(store, order), settings) == 200
    assert tasks.webhooks_process_due() == 0  # younger than the grace period
    assert WebhookDelivery.unscoped.get().state == DeliveryState.PENDING


def test_events_without_a_notification_id_are_each_processed(
    store: Store, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = awaiting(store, 2)
    for order in (first, second):
        cancel_on_platform(tiktok, order)
        with django_capture_on_commit_callbacks(execute=True):
            assert post(envelope(store, order, notification_id=""), settings) == 200
    assert WebhookDelivery.unscoped.filter(state=DeliveryState.PROCESSED).count() == 2
    assert set(Order.unscoped.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        OrderStatus.CANCELLED
    }


@pytest.mark.chaos
def test_failed_work_is_retried_with_backoff_until_it_succeeds(
    store: Store,
    tiktok: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    (order,) = awaiting(store)
    cancel_on_platform(tiktok, order)
    real_fetch = order_services.orders_fetch
    monkeypatch.setattr(
        order_services,
        "orders_fetch",
        lambda **kwargs: (_ for _ in ()).throw(PlatformError("tiktok", "36009003", "Internal error, retry")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post(envelope(store, order), settings) == 200
    delivery = WebhookDelivery.unscoped.get()
    assert delivery.state == DeliveryState.FAILED
    assert "Internal error" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)  # backoff, not a hot loop
    assert sweep() == 0  # not due yet

    monkeypatch.setattr(order_services, "orders_fetch", real_fetch)  # the platform recovered
    WebhookDelivery.unscoped.update(next_attempt_at=timezone.now() - timedelta(seconds=1))  # time passed
    assert sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.PROCESSED, 2, "")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


@pytest.mark.chaos
def test_a_worker_that_died_mid_processing_is_taken_over_after_its_lease_and_only_then(
    store: Store, tiktok: Any, settings: Any, broker_down: None
) -> None:
    (order,) = awaiting(store)
    cancel_on_platform(tiktok, order)
    assert post(envelope(store, order), settings) == 200
    delivery = WebhookDelivery.unscoped.get()
    WebhookDelivery.unscoped.update(state=DeliveryState.PROCESSING, processing_since=timezone.now())
    assert sweep() == 0  # a live worker holds it
    with organization_scope(store.organization):
        assert services.webhook_process(delivery_id=delivery.pk) == "not due, or taken by another worker"
    WebhookDelivery.unscoped.update(processing_since=timezone.now() - services.WEBHOOK_LEASE - timedelta(seconds=1))
    assert sweep() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED
    with organization_scope(store.organization):  # a late duplicate wake-up does nothing
        assert services.webhook_process(delivery_id=delivery.pk) == "not due, or taken by another worker"


MALFORMED = {
    "type-not-a-number": {"type": "abc"},
    "type-out-of-range": {"type": 99999},
    "type-boolean": {"type": True},
    "data-is-a-list": {"data": [1, 2]},
    "order-id-is-an-object": {"data": {"order_id": {"a": 1}}},
    "notification-id-too-long": {"tts_notification_id": "9" * 200},
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_malformed_envelope_is_acknowledged_and_recorded_as_invalid(
    store: Store, tenant: Any, settings: Any, change: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = awaiting(store)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(envelope(store, order, **change), settings) == 200  # a retry would be just as unreadable
    delivery = WebhookDelivery.unscoped.get()
    assert delivery.state == DeliveryState.INVALID
    assert "malformed" in delivery.last_error
    assert sweep() == 0  # never processed
    assert tenant.client.get(f"/stores/{store.pk}/").status_code == 200


ODD_BUT_READABLE = {
    "timestamp-in-words": {"timestamp": "yesterday"},
    "update-time-beyond-any-calendar": {"data_update_time": 1e30},
    "timestamp-negative-huge": {"timestamp": -(10**20)},
}


@pytest.mark.parametrize("change", ODD_BUT_READABLE.values(), ids=ODD_BUT_READABLE.keys())
def test_unreadable_times_are_left_out_and_the_order_still_fetched(
    store: Store, tiktok: Any, settings: Any, change: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = awaiting(store)
    cancel_on_platform(tiktok, order)
    body = json.loads(envelope(store, order))
    if "data_update_time" in change:
        body["data"]["update_time"] = change["data_update_time"]
    else:
        body.update(change)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(json.dumps(body).encode(), settings) == 200
    assert WebhookDelivery.unscoped.get().state == DeliveryState.PROCESSED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1,2,3]", b'{"type":1,"data":' + b"[" * 200_000 + b"]" * 200_000 + b"}", b"\xff\xfe\x00"],
    ids=["not-json", "a-list", "nested-200000-deep", "not-utf8"],
)
def test_signed_bodies_that_say_nothing_readable_are_acknowledged_and_nothing_is_recorded(
    store: Store, settings: Any, raw: bytes
) -> None:
    assert post(raw, settings) == 200
    assert WebhookDelivery.unscoped.count() == 0


def test_a_nul_character_in_a_signed_body_is_kept_readable(
    store: Store, tiktok: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = awaiting(store)
    body = json.loads(envelope(store, order))
    body["data"]["message"] = "a\x00b"  # JSON escapes it as \u0000; PostgreSQL text refuses a raw NUL
    with django_capture_on_commit_callbacks(execute=True):
        assert post(json.dumps(body).encode(), settings) == 200
    assert WebhookDelivery.unscoped.get().state == DeliveryState.PROCESSED


def test_the_store_page_says_what_became_of_the_days_notifications(
    store: Store,
    tenant: Any,
    tiktok: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, second = awaiting(store, 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(envelope(store, first, "n-ok"), settings) == 200
        assert post(envelope(store, first, "n-bad", data=[1, 2]), settings) == 200
    monkeypatch.setattr(
        order_services,
        "orders_fetch",
        lambda **kwargs: (_ for _ in ()).throw(PlatformError("tiktok", "36009003", "Internal error, retry")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post(envelope(store, second, "n-failing"), settings) == 200

    page = tenant.client.get(f"/stores/{store.pk}/").content.decode()
    assert "3 received · 1 processed" in page
    assert "1 waiting" in page
    assert "1 unreadable" in page
    assert "Internal error, retry" in page  # the newest problem, with when it is tried again
    assert "retried automatically" in page
