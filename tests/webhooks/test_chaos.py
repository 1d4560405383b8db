"""Issue 16, acceptance 2, with a REAL receiver (an HTTP server in a thread) and a REAL Celery worker process:

(a) the receiver answers 500 for an hour, then 200: every event arrives afterwards, in order per object, each
    signature verifying with the documented snippet;
(b) the worker is SIGKILLed while the receiver holds its request: nothing is lost, the event arrives once the lease
    has expired, and a duplicate only ever carries the same event id.

Time: the hour passes by moving every pending delivery's due time, retry window and the endpoint's failing clock
into the past (what the worker sees is exactly what an hour later looks like), not by sleeping an hour.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from erp.tenancy import organization_scope
from tests.webhooks.receiver import Receiver
from tests.webhooks.signing_doc import documented_verify
from tests.workers import Workers, database_env, wait_for
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.sender import deliveries_due, organizations_with_due_deliveries

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def worker_env() -> dict[str, str]:
    return {
        **database_env(),
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",  # the receiver listens on 127.0.0.1
    }


@pytest.fixture
def quiet_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run tasks eagerly: without this the test process itself would send after commit. Here only the real
    worker sends (the sweep would find the rows anyway: the wake-up only makes it sooner)."""
    monkeypatch.setattr(services, "_wake_sender_on_commit", lambda organization: None)


def publish_interleaved(tenant: Any, objects: int, per_object: int) -> dict[str, list[str]]:
    """Events for several orders, interleaved; returns each object's event ids in publish order."""
    published: dict[str, list[str]] = defaultdict(list)
    for step in range(per_object):
        for n in range(objects):
            event = services.event_publish(
                organization=tenant.organization,
                type="order.updated",
                object_type="order",
                object_id=f"order-{n}",
                data={"id": f"order-{n}", "step": step},
            )
            assert event is not None
            published[f"order-{n}"].append(event.public_id)
    return published


def received_in_order(receiver: Receiver, secret: str) -> dict[str, list[str]]:
    """Per object, the event ids in the order they first arrived; every arrival's signature verified."""
    verify = documented_verify()
    seen: dict[str, list[str]] = defaultdict(list)
    for request in receiver.received:
        assert verify(secret, request.headers["Dropline-Signature"], request.body), "a signature did not verify"
        body = json.loads(request.body)
        assert request.headers["Dropline-Event-Id"] == body["id"]
        ids = seen[body["data"]["object"]["id"]]
        if body["id"] not in ids:
            ids.append(body["id"])
    return dict(seen)


def due_now(tenant: Any) -> dict[int, int]:
    """What the worker may send now (what waits behind an earlier event does not count): id → attempts so far."""
    with organization_scope(tenant.organization):
        return dict(deliveries_due(timezone.now()).values_list("pk", "attempts"))


def round_done(tenant: Any, due: dict[int, int]) -> bool:
    """The worker has tried every delivery that was due when the round was queued, and holds none now. Not "nothing
    is due": a failed attempt may be due again a second later (full jitter), after the worker's round has ended."""
    with organization_scope(tenant.organization):
        if WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, lease_until__gt=timezone.now()).exists():
            return False
        now = dict(WebhookDelivery.objects.filter(pk__in=due).values_list("pk", "attempts"))
        return all(attempts > due[pk] for pk, attempts in now.items())


def send_round(workers: Workers, tenant: Any, what: str) -> None:
    """What beat's sweep queues every 15 s, once, and the wait for the worker to finish it."""
    due = due_now(tenant)
    workers.send("webhooks.deliveries_send", organization_id=str(tenant.organization.pk))
    wait_for(lambda: round_done(tenant, due), 120, what)


def advance_to_next_attempt(tenant: Any, endpoint: WebhookEndpoint) -> timedelta:
    """The clock jumps to the next retry of a delivery at the head of its object's queue: every pending row, and the
    endpoint's failing clock, move that far into the past."""
    with organization_scope(tenant.organization):
        pending = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by("id"))
        heads: dict[tuple[str, str], WebhookDelivery] = {}
        for d in pending:
            heads.setdefault((d.object_type, d.object_id), d)
        jump = min(d.next_attempt_at for d in heads.values()) - timezone.now() + timedelta(seconds=1)
        jump = max(jump, timedelta(seconds=1))
        for d in pending:
            WebhookDelivery.objects.filter(pk=d.pk).update(
                next_attempt_at=d.next_attempt_at - jump, retry_from=d.retry_from - jump
            )
        failing_since = WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since
        if failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=failing_since - jump)
    return jump


def start_worker(workers: Workers) -> Any:
    """A worker, once it is ready (on a loaded machine a worker takes a while to boot)."""
    count = workers.logs().count(" ready.")
    process = workers.start()
    wait_for(lambda: workers.logs().count(" ready.") > count, 240, "the worker to be ready")
    return process


def test_a_receiver_down_for_an_hour_gets_every_event_afterwards_in_order(
    tenant: Any, tmp_path: Path, quiet_publish: None
) -> None:
    receiver = Receiver().__enter__()
    endpoint, secret = services.endpoint_create(
        organization=tenant.organization, actor=_actor(tenant), url=receiver.url, events=["*"]
    )
    published = publish_interleaved(tenant, objects=3, per_object=4)
    receiver.status = 500
    workers = Workers(tmp_path, env=worker_env())
    try:
        start_worker(workers)
        down_for = timedelta(0)
        rounds = 0
        while down_for < timedelta(hours=1):
            send_round(workers, tenant, "the worker to try every due delivery")
            down_for += advance_to_next_attempt(tenant, endpoint)
            rounds += 1
        with organization_scope(tenant.organization):
            heads = WebhookDelivery.objects.filter(attempts__gt=0)
            assert heads.count() == 3, "only the first event of each order was tried while the receiver was down"
            assert min(heads.values_list("attempts", flat=True)) >= 3
            assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 12
            assert WebhookEndpoint.objects.get(pk=endpoint.pk).enabled, "an hour of 500s must not disable it"
        assert receiver.received == []
        receiver.status = 200
        for _ in range(40):
            send_round(workers, tenant, "the worker to send what is due")
            with organization_scope(tenant.organization):
                if not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
                    break
            advance_to_next_attempt(tenant, endpoint)
    finally:
        workers.stop_all()
        receiver.__exit__(None, None, None)
    with organization_scope(tenant.organization):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None
    assert received_in_order(receiver, secret) == published
    assert len(receiver.received) == 12  # each delivered once: a 500 is not a delivery
    assert rounds >= 3


def test_a_worker_killed_mid_delivery_loses_nothing(tenant: Any, tmp_path: Path, quiet_publish: None) -> None:
    receiver = Receiver().__enter__()
    _, secret = services.endpoint_create(
        organization=tenant.organization, actor=_actor(tenant), url=receiver.url, events=["*"]
    )
    published = publish_interleaved(tenant, objects=1, per_object=3)
    receiver.hold_seconds = 4.0  # the first request hangs: the worker is killed while it waits for the answer
    workers = Workers(tmp_path, env=worker_env())
    send = {"organization_id": str(tenant.organization.pk)}
    try:
        first = start_worker(workers)
        workers.send("webhooks.deliveries_send", **send)
        assert receiver.started.wait(120), "the worker never reached the receiver"
        workers.kill(first)
        receiver.hold_seconds = 0
        with organization_scope(tenant.organization):
            leased = WebhookDelivery.objects.get(lease_until__isnull=False)
            assert leased.status == DeliveryStatus.PENDING
            assert leased.attempts == 0
            assert leased.event.public_id == published["order-0"][0]
        # A new worker while the lease holds: the delivery and the events queued behind it wait; another order's
        # event does not.
        other = services.event_publish(
            organization=tenant.organization,
            type="order.updated",
            object_type="order",
            object_id="order-1",
            data={"id": "order-1", "step": 0},
        )
        assert other is not None
        published["order-1"] = [other.public_id]
        start_worker(workers)
        workers.send("webhooks.deliveries_send", **send)
        wait_for(
            lambda: any(other.public_id in r.headers.get("Dropline-Event-Id", "") for r in receiver.received),
            120,
            "another order's event to arrive",
        )
        # The receiver records the request before the worker records the answer: wait for the worker's commit.
        wait_for(lambda: _succeeded(tenant) == 1, 60, "the other order's delivery to be recorded")
        with organization_scope(tenant.organization):
            assert _succeeded(tenant) == 1  # only it: the leased delivery and the events behind it still wait
            # The lease expires (the clock moves past it, instead of waiting its minute).
            WebhookDelivery.objects.filter(pk=leased.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        assert organizations_with_due_deliveries() == [str(tenant.organization.pk)]  # what beat's sweep finds
        workers.send("webhooks.deliveries_send", **send)
        wait_for(
            lambda: _all_succeeded(tenant),
            120,
            "every delivery to arrive after the lease expired",
        )
    finally:
        workers.stop_all()
        receiver.__exit__(None, None, None)
    assert received_in_order(receiver, secret) == published
    ids = [json.loads(r.body)["id"] for r in receiver.received]
    assert set(ids) == set(published["order-0"]) | set(published["order-1"])
    assert len(ids) in (4, 5)  # the held request may have been taken too: then its event, and only it, twice
    assert all(ids.count(i) == 1 for i in [*published["order-0"][1:], *published["order-1"]])


def _all_succeeded(tenant: Any) -> bool:
    with organization_scope(tenant.organization):
        return not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()


def _actor(tenant: Any) -> Any:
    from erp.actors import Actor

    return Actor.for_user(tenant.owner)


def _succeeded(tenant: Any) -> int:
    with organization_scope(tenant.organization):
        return WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count()
