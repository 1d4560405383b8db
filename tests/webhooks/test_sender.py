"""The sender: signed POSTs to a real receiver, retries with full-jitter backoff for at least 24 hours, order per
object, leases that expire, SSRF refusal at send time, auto-disable after days (not an hour) of failure."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from erp.roles import Role
from erp.tenancy import organization_scope
from tests.webhooks.receiver import Receiver
from tests.webhooks.signing_doc import documented_verify
from webhooks import sender, services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.sender import (
    AUTO_DISABLE_AFTER,
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    RETRY_WINDOW,
    deliveries_claim,
    deliveries_send_due,
    retry_delay,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def scoped(tenant: Any) -> Iterator[Any]:
    with organization_scope(tenant.organization):
        yield tenant


def _endpoint(tenant: Any, url: str, events: list[str] | None = None) -> tuple[WebhookEndpoint, str]:
    from erp.actors import Actor

    return services.endpoint_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), url=url, events=events or ["*"]
    )


def _publish(tenant: Any, type_: str, object_id: str, **data: Any) -> None:
    services.event_publish(
        organization=tenant.organization, type=type_, object_type="order", object_id=object_id, data=data
    )


def _past(delivery_filter: dict[str, Any] | None = None, *, by: timedelta) -> None:
    """Time passes for the pending deliveries: their due time and retry window move `by` into the past."""
    for delivery in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, **(delivery_filter or {})):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=delivery.next_attempt_at - by, retry_from=delivery.retry_from - by
        )


# ---------------------------------------------------------------------------------------------- backoff schedule
def test_each_retry_waits_a_full_jitter_delay_under_an_exponential_ceiling_capped_at_six_hours() -> None:
    for attempts in range(1, 20):
        ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
        assert retry_delay(attempts, rand=lambda: 0.0) == timedelta(seconds=1)  # a floor, never a hot loop
        assert retry_delay(attempts, rand=lambda: 1.0) == timedelta(seconds=ceiling)
        for _ in range(50):
            assert timedelta(seconds=1) <= retry_delay(attempts) <= timedelta(seconds=ceiling)
    assert retry_delay(9, rand=lambda: 1.0) == timedelta(minutes=256)
    assert retry_delay(10, rand=lambda: 1.0) == timedelta(hours=6)


def test_retries_last_at_least_a_day_whatever_the_jitter(
    scoped: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receiver that always answers 500: the delivery fails only after retrying for 24 hours, with a bounded
    number of attempts, whatever the random draws (seeded runs, including always-zero and always-max jitter)."""
    receiver.status = 500
    endpoint, _ = _endpoint(scoped, receiver.url)
    for seed, draw in [(1, None), (2, None), (3, lambda: 0.0), (4, lambda: 1.0)]:
        rng = random.Random(seed)
        _publish(scoped, "order.updated", f"order-{seed}")
        delivery = WebhookDelivery.objects.get(object_id=f"order-{seed}")
        elapsed = timedelta(0)
        monkeypatch.setattr(sender, "retry_delay", functools.partial(retry_delay, rand=draw or rng.random))
        while WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING:
            assert deliveries_send_due() == 1
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
            wait = delivery.next_attempt_at - timezone.now()
            elapsed += wait
            _past({"pk": delivery.pk}, by=wait + timedelta(seconds=1))
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert elapsed >= RETRY_WINDOW - timedelta(minutes=1)
        assert 6 <= delivery.attempts <= sender.RETRY_ATTEMPTS_CAP + 1
        assert delivery.attempt_log.count() == delivery.attempts
        assert delivery.last_status_code == 500
        assert len(delivery.last_response_excerpt.encode()) <= 1024
    endpoint.refresh_from_db()
    assert endpoint.enabled  # a day of failure is not three


# --------------------------------------------------------------------------------------------------- delivery
def test_a_delivery_is_a_signed_post_with_the_documented_body_and_headers(scoped: Any, receiver: Receiver) -> None:
    _, secret = _endpoint(scoped, receiver.url)
    _publish(scoped, "order.held", "o-1", id="o-1", status="on_hold")
    assert deliveries_send_due() == 1
    (request,) = receiver.received
    body = json.loads(request.body)
    assert body["id"].startswith("evt_")
    assert body["type"] == "order.held"
    assert body["organization"] == str(scoped.organization.pk)
    assert body["data"] == {"object": {"id": "o-1", "status": "on_hold"}}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Dropline-Event-Id"] == body["id"]
    assert request.headers["Dropline-Event-Type"] == "order.held"
    assert documented_verify()(secret, request.headers["Dropline-Signature"], request.body)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert delivery.last_response_excerpt == '{"ok": true}'
    assert delivery.last_duration_ms is not None


def test_after_rotation_both_secrets_sign_until_the_overlap_ends(scoped: Any, receiver: Receiver) -> None:
    from erp.actors import Actor

    endpoint, old = _endpoint(scoped, receiver.url)
    new = services.endpoint_rotate_secret(endpoint=endpoint, actor=Actor.system("test"))
    _publish(scoped, "order.held", "o-1")
    deliveries_send_due()
    header = receiver.received[-1].headers["Dropline-Signature"]
    verify = documented_verify()
    assert header.count("v1=") == 2
    assert verify(new, header, receiver.received[-1].body)
    assert verify(old, header, receiver.received[-1].body)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    _publish(scoped, "order.held", "o-2")
    deliveries_send_due()
    header = receiver.received[-1].headers["Dropline-Signature"]
    assert header.count("v1=") == 1
    assert verify(new, header, receiver.received[-1].body)
    assert not verify(old, header, receiver.received[-1].body)


def test_a_later_event_for_the_same_object_waits_behind_an_earlier_pending_one(scoped: Any, receiver: Receiver) -> None:
    _endpoint(scoped, receiver.url)
    receiver.status = 500
    _publish(scoped, "order.held", "o-1", step=1)
    assert deliveries_send_due() == 1  # fails: now waiting for its retry
    _publish(scoped, "order.released", "o-1", step=2)
    _publish(scoped, "order.held", "o-2", step=1)  # another object is independent
    receiver.status = 200
    assert deliveries_send_due() == 1
    assert [json.loads(r.body)["data"]["object"] for r in receiver.received] == [{"step": 1}]
    assert json.loads(receiver.received[0].body)["type"] == "order.held"
    assert {d.object_id for d in deliveries_claim()} == set()  # o-1's second event still waits
    _past(by=timedelta(hours=7))
    assert deliveries_send_due() == 2
    later = [json.loads(r.body) for r in receiver.received[1:]]
    assert [(b["type"], b["data"]["object"]["step"]) for b in later] == [("order.held", 1), ("order.released", 2)]


def test_a_failed_delivery_no_longer_holds_the_next_one_back(scoped: Any, receiver: Receiver) -> None:
    _endpoint(scoped, receiver.url)
    _publish(scoped, "order.held", "o-1", step=1)
    _publish(scoped, "order.released", "o-1", step=2)
    WebhookDelivery.objects.filter(event__type="order.held").update(status=DeliveryStatus.FAILED)
    assert deliveries_send_due() == 1
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["order.released"]


def test_a_leased_delivery_is_not_claimed_again_until_its_lease_expires(scoped: Any, receiver: Receiver) -> None:
    _endpoint(scoped, receiver.url)
    _publish(scoped, "order.held", "o-1")
    (claimed,) = deliveries_claim()  # a worker took it and died before sending
    assert deliveries_claim() == []
    WebhookDelivery.objects.filter(pk=claimed.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sender.organizations_with_due_deliveries() == [str(scoped.organization.pk)]
    assert deliveries_send_due() == 1
    assert len(receiver.received) == 1
    # The dead worker's late outcome is fenced off by its lease: nothing is overwritten.
    sender.delivery_record(
        claimed, sender.AttemptResult(500, 5, "late", "late"), started_at=timezone.now() - timedelta(minutes=2)
    )
    assert WebhookDelivery.objects.get(pk=claimed.pk).status == DeliveryStatus.SUCCEEDED


def test_a_private_address_is_refused_at_send_time_too(scoped: Any, receiver: Receiver, settings: Any) -> None:
    _endpoint(scoped, receiver.url)  # accepted while the development setting was on
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    _publish(scoped, "order.held", "o-1")
    assert deliveries_send_due() == 1
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert "https://" in delivery.last_error


def test_nothing_is_written_when_no_endpoint_subscribes(scoped: Any, django_assert_num_queries: Any) -> None:
    from webhooks.models import WebhookEvent

    with django_assert_num_queries(1):
        assert (
            services.event_publish(
                organization=scoped.organization, type="order.held", object_type="order", object_id="o", data={}
            )
            is None
        )
    _endpoint(scoped, "https://hooks.example.com/only-labels", events=["label.purchased"])
    with django_assert_num_queries(1):
        _publish(scoped, "order.held", "o-1")
    assert WebhookEvent.objects.count() == 0


def test_a_bulk_publish_inserts_in_bulk(scoped: Any, django_assert_max_num_queries: Any) -> None:
    _endpoint(scoped, "https://hooks.example.com/a")
    _endpoint(scoped, "https://hooks.example.com/b", events=["order.imported"])
    drafts = [services.EventDraft("order.imported", "order", f"o-{n}", {"n": n}) for n in range(500)]
    with django_assert_max_num_queries(6):
        events = services.events_publish(organization=scoped.organization, drafts=drafts)
    assert len(events) == 500
    assert WebhookDelivery.objects.count() == 1000


# ------------------------------------------------------------------------------------------------ auto-disable
def test_an_hour_of_failure_is_retried_and_three_days_disable_the_endpoint_with_an_email(
    scoped: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    admin = scoped.client_as(Role.ADMIN) and scoped.members[Role.ADMIN]
    scoped.client_as(Role.OPERATOR)
    endpoint, _ = _endpoint(scoped, receiver.url)
    receiver.status = 500
    _publish(scoped, "order.held", "o-1")
    deliveries_send_due()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=1))
    _past(by=timedelta(hours=1))
    deliveries_send_due()
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert mail.outbox == []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - AUTO_DISABLE_AFTER)
    _publish(scoped, "order.held", "o-2")
    with django_capture_on_commit_callbacks(execute=True):  # the email is queued after commit
        deliveries_send_due()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "failed for 3 days" in endpoint.disabled_reason
    (message,) = mail.outbox
    assert set(message.to) == {scoped.owner.email, admin.user.email}
    assert endpoint.url in message.subject
    # Disabled: nothing is claimed; enabled again: what waited goes out.
    receiver.status = 200
    assert deliveries_send_due() == 0
    from erp.actors import Actor

    services.endpoint_enable(endpoint=endpoint, actor=Actor.system("test"))
    assert deliveries_send_due() == 2
    assert len(receiver.received) == 2


def test_a_success_clears_the_failing_clock(scoped: Any, receiver: Receiver) -> None:
    endpoint, _ = _endpoint(scoped, receiver.url)
    receiver.status = 500
    _publish(scoped, "order.held", "o-1")
    deliveries_send_due()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    receiver.status = 200
    _past(by=timedelta(hours=1))
    deliveries_send_due()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_each_attempt_is_counted_in_the_metrics_by_its_outcome_class(
    scoped: Any, receiver: Receiver, settings: Any
) -> None:
    from erp import metrics
    from tests.erp.test_metrics import value

    def delta(outcome: str) -> float:
        return value(metrics.exposition(queues=False).decode(), "dropline_webhook_deliveries_total", outcome=outcome)

    before = {outcome: delta(outcome) for outcome in ("delivered", "unsafe_url")}
    _endpoint(scoped, receiver.url)
    _publish(scoped, "order.held", "o-1")
    assert deliveries_send_due() == 1  # delivered
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    _publish(scoped, "order.held", "o-2")
    assert deliveries_send_due() == 1  # refused: the receiver's address is not public
    assert delta("delivered") - before["delivered"] == 1
    assert delta("unsafe_url") - before["unsafe_url"] == 1
    assert WebhookDelivery.objects.get(object_id="o-2").last_error.startswith(sender.UNSAFE_PREFIX)
