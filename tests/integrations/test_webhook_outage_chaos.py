"""Redis made unreachable mid-flow, with a real worker on a real (private) Redis and the TikTok sandbox on a real
socket: every notification TikTok delivers during the outage is answered 200 and processed once Redis is back
(the wake-ups were lost with the broker; beat's sweep finds the rows). Meanwhile the API serves reads, refuses
writes with a 503 in JSON before touching anything, and readiness says what is down."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from erp.tenancy import organization_scope
from integrations import tasks as integration_tasks
from integrations.models import DeliveryState, WebhookDelivery
from integrations.services import store_webhooks_register
from orders.models import Order, OrderStatus
from orders.services import store_sync
from shipping.models import LabelBatch
from tests.tiktok_harness import into_dropline
from tests.workers import RedisServer, Workers, sandbox_env, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DURING_OUTAGE = 5


def states() -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in WebhookDelivery.unscoped.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def test_webhooks_answered_while_redis_is_down_are_all_processed_once_it_is_back(
    tenant: Any,
    tiktok_server: Any,
    settings: Any,
    tmp_path: Path,
    private_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base_url, harness = tiktok_server
    harness.sandbox.webhook_transport = into_dropline()  # TikTok's deliveries land in this process's views
    store = harness.connect_store(tenant.organization)
    with organization_scope(tenant.organization):
        store_webhooks_register(store=store)
        store_sync(store=store)
    orders = list(
        Order.unscoped.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).order_by("external_id")[
            : DURING_OUTAGE + 1
        ]
    )
    assert len(orders) == DURING_OUTAGE + 1

    # This process is the web process: its cache (the API's rate limit) and its wake-ups use the private Redis.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        },
        "memo": {"BACKEND": "erp.cache.MemoRedisCache", "LOCATION": private_redis.url},
    }
    workers = Workers(
        tmp_path,
        env=sandbox_env(base_url),
        broker_url=private_redis.url,
    )

    def to_private_broker(*, kwargs: dict[str, str], retry: bool) -> None:
        workers.send("integrations.webhook_process", **kwargs)

    monkeypatch.setattr(
        integration_tasks,
        "webhook_process",
        SimpleNamespace(name="integrations.webhook_process", apply_async=to_private_broker),
    )
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")

    def cancel(order: Order) -> None:
        harness.control("POST", f"orders/{order.external_id}/events", type="cancel", initiator="BUYER", reason="Late")

    try:
        workers.start()
        # Before the outage: the worker the webhook wakes processes it.
        cancel(orders[0])
        harness.control("POST", "webhooks/flush")
        before = len(harness.control("GET", "webhooks")["deliveries"])
        wait_for(lambda: states() == {DeliveryState.PROCESSED: before}, 30, "the first notifications to be processed")

        private_redis.kill()
        for order in orders[1:]:
            cancel(order)
        harness.control("POST", "webhooks/flush")
        log = harness.control("GET", "webhooks")["deliveries"]
        during = len(log) - before
        assert during >= DURING_OUTAGE
        answered = {attempt["status_code"] for delivery in log[before:] for attempt in delivery["attempts"]}
        assert answered == {200}, "TikTok was not answered 200 during the outage"
        assert states() == {DeliveryState.PROCESSED: before, DeliveryState.PENDING: during}

        # The API during the outage: reads from PostgreSQL, writes refused cleanly before they start.
        assert api.get("/api/v1/orders/").status_code == 200
        refused = api.post("/api/v1/label-batches/", {"orders": [str(orders[0].pk)]}, content_type="application/json")
        assert refused.status_code == 503
        assert refused["Content-Type"] == "application/json"
        assert refused["Retry-After"] == "30"
        assert json.loads(refused.content)["error"]["type"] == "service_unavailable"
        assert LabelBatch.unscoped.count() == 0
        ready = Client().get("/readyz")
        assert ready.status_code == 503
        assert json.loads(ready.content)["checks"]["cache"]["ok"] is False
        assert Client().get("/healthz").status_code == 200  # the process itself is alive

        # Redis is back, empty: no message survived. Beat's sweep (sent here) processes every owed notification.
        private_redis.start()
        wait_for(lambda: workers.logs().count("Connected to redis://") >= 2, 30, "the worker to reconnect")

        def swept() -> bool:  # beat sends the sweep every 30 s; here every 2 s
            workers.send("integrations.webhooks_process_due", grace_seconds=0)
            time.sleep(2.0)
            return states() == {DeliveryState.PROCESSED: len(log)}

        wait_for(swept, 40, "the sweep to process them all")
    finally:
        workers.stop_all()

    assert set(WebhookDelivery.unscoped.values_list("attempts", flat=True)) == {1}  # each processed once
    assert set(WebhookDelivery.unscoped.values_list("notification_id", flat=True)) == {
        d["notification_id"] for d in log
    }
    cancelled = Order.unscoped.filter(pk__in=[o.pk for o in orders], status=OrderStatus.CANCELLED).count()
    assert cancelled == DURING_OUTAGE + 1
    assert Client().get("/readyz").json()["checks"]["cache"]["ok"] is True
