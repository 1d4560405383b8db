"""What each way in does while Redis (the broker, the shared counters) is unreachable (docs/adr/0011): the API
serves reads and refuses writes with a 503 in JSON before they start, a page says what happened with a 503
instead of a 500, liveness stays up and readiness names the dependency that is down."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from django.test import Client
from kombu.exceptions import OperationalError

from erp.tenancy import organization_scope
from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once

MANUAL_ORDER = {
    "reference": "PO-2",
    "recipient": {"name": "A", "line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701"},
    "lines": [{"seller_sku": "X", "quantity": 1}],
}


@pytest.fixture
def redis_unreachable(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
        "memo": {"BACKEND": "erp.cache.MemoRedisCache", "LOCATION": DEAD_REDIS, "OPTIONS": {"socket_timeout": 1}},
    }


def api(tenant: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")


def assert_json_503(response: Any) -> dict[str, Any]:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    body = json.loads(response.content)
    assert body["error"]["type"] == "service_unavailable"
    return body


@pytest.mark.chaos
def test_with_redis_unreachable_api_reads_are_served_and_writes_refused_before_they_start(
    tenant: Any, redis_unreachable: None
) -> None:
    with organization_scope(tenant.organization):
        OrderFactory()
    assert api(tenant).get("/api/v1/orders/").status_code == 200
    created = api(tenant).post("/api/v1/orders/", MANUAL_ORDER, content_type="application/json")
    body = assert_json_503(created)
    assert "nothing was changed" in body["error"]["message"]
    assert Order.unscoped.filter(external_id=MANUAL_ORDER["reference"]).count() == 0


@pytest.mark.chaos
def test_a_broker_error_during_an_api_write_is_a_json_503(tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broker_gone(**kwargs: Any) -> None:  # Redis went away after the throttle's check
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr("orders.services.order_create_manual", broker_gone)
    response = api(tenant).post("/api/v1/orders/", MANUAL_ORDER, content_type="application/json")
    body = assert_json_503(response)
    assert "Idempotency-Key" in body["error"]["message"]


@pytest.mark.chaos
def test_a_page_that_needed_redis_says_so_with_a_503(tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def redis_gone(*args: Any, **kwargs: Any) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr("erp.views.dashboard.cards_for", redis_gone)
    response = tenant.client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "background service is unreachable" in page
    assert "Orders, labels and stock already in Dropline are safe" in page


def test_healthz_is_liveness_and_readyz_checks_every_dependency(tenant: Any) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
    ready = Client().get("/readyz")
    assert ready.status_code == 200, ready.content
    checks = ready.json()["checks"]
    assert {"database", "cache", "broker", "storage", "background"} <= set(checks)
    assert all(checks[name]["ok"] for name in ("database", "cache", "broker", "storage"))
    assert checks["background"]["required"] is False


@pytest.mark.chaos
def test_readyz_names_the_dependency_that_is_down_and_healthz_stays_up(redis_unreachable: None) -> None:
    ready = Client().get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in body["checks"]["cache"]["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert Client().get("/healthz").status_code == 200


@pytest.mark.chaos
def test_copies_of_platform_answers_miss_instead_of_failing_the_page(redis_unreachable: None) -> None:
    from django.core.cache import cache

    from erp.cache import memo

    memo.set("carriers", ["UPS"], 60)  # not kept, not raised
    assert memo.get("carriers") is None
    assert memo.get("carriers", "asked the platform") == "asked the platform"
    with pytest.raises(redis.exceptions.ConnectionError):  # shared counters do raise: their callers decide
        cache.get("api-throttle")


@pytest.mark.chaos
def test_the_dashboard_tells_a_queue_outage_from_workers_not_started(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from erp.services import heartbeat_record

    page = tenant.client.get("/").content.decode()  # no heartbeat yet, the broker answers: nobody started them
    assert "Background workers are not running" in page

    def unreachable() -> str:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("erp.health._broker", unreachable)
    page = tenant.client.get("/").content.decode()
    assert "cannot reach its task queue (Redis)" in page
    assert "Nothing is lost" in page

    heartbeat_record(name="background")  # workers ran recently: no banner, and no probe of the broker
    monkeypatch.setattr("erp.health._broker", lambda: pytest.fail("probed the broker with a fresh heartbeat"))
    page = tenant.client.get("/").content.decode()
    assert "task queue" not in page
    assert "not running" not in page
