"""The partner semantics every endpoint shares through the base view (docs/adr/0021-partner-api-semantics.md):
Idempotency-Key on every POST (Stripe's rules, racing requests on real PostgreSQL connections), rate-limit headers,
weak ETags with If-None-Match and If-Match, and `?fields=`."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.settings import api_settings

from erp.api import idempotency
from erp.models import IdempotencyKey
from inventory.models import StockLevel, StockMovement
from tests.factories import OrderFactory, SkuFactory, WarehouseFactory


def _post(tenant: Any, path: str, body: dict, key: str | None = None, **headers: Any) -> Any:
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}",
        **headers,
    )


def _get(tenant: Any, path: str, **headers: Any) -> Any:
    return Client().get(path, HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}", **headers)


def _receipt(tenant: Any, quantity: int = 3) -> dict[str, Any]:
    WarehouseFactory(organization=tenant.organization, name="Reno")
    SkuFactory(organization=tenant.organization, code="MUG")
    return {"kind": "receipt", "sku": "MUG", "warehouse": "Reno", "quantity": quantity}


# ----------------------------------------------------------------------------------------------- Idempotency-Key
@pytest.mark.django_db
def test_any_post_with_a_key_is_replayed_not_repeated(tenant: Any) -> None:
    sku = {"code": "CAP-1", "name": "Cap"}  # the SKU endpoint has no idempotency code of its own
    first = _post(tenant, "/api/v1/skus/", sku, key="sku-1")
    again = _post(tenant, "/api/v1/skus/", {"name": "Cap", "code": "CAP-1"}, key="sku-1")  # same JSON, reordered
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    # Without a key, the same body is a second request: a duplicate SKU code, refused.
    assert _post(tenant, "/api/v1/skus/", sku).status_code == 400


@pytest.mark.django_db
def test_a_refused_request_leaves_no_key_so_the_corrected_retry_runs(tenant: Any) -> None:
    body = _receipt(tenant)
    refused = _post(tenant, "/api/v1/stock-movements/", {**body, "sku": "NOPE"}, key="asn-1")
    assert refused.status_code == 400
    assert not IdempotencyKey.unscoped.exists()
    # The same key, another (corrected) body: runs, since the refusal was not kept.
    assert _post(tenant, "/api/v1/stock-movements/", body, key="asn-1").status_code == 201
    reused = _post(tenant, "/api/v1/stock-movements/", {**body, "quantity": 4}, key="asn-1")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert StockLevel.unscoped.get().on_hand == 3


@pytest.mark.django_db
def test_keys_belong_to_their_owner_and_expire_after_a_day(tenant: Any, make_tenant: Any) -> None:
    body = _receipt(tenant)
    assert _post(tenant, "/api/v1/stock-movements/", body, key="k").status_code == 201
    # The dashboard's owner is another owner: the same key is theirs to use, and runs.
    as_member = tenant.client.post(
        "/api/v1/stock-movements/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert as_member.status_code == 201
    assert "Idempotent-Replayed" not in as_member
    assert StockMovement.unscoped.count() == 2
    IdempotencyKey.unscoped.update(created_at=timezone.now() - idempotency.TTL - timedelta(minutes=1))
    assert _post(tenant, "/api/v1/stock-movements/", body, key="k").status_code == 201  # expired: runs again
    assert StockMovement.unscoped.count() == 3


@pytest.mark.django_db
def test_an_over_long_key_is_a_400(tenant: Any) -> None:
    response = _post(tenant, "/api/v1/skus/", {"code": "A", "name": "A"}, key="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def _race(tenant: Any, monkeypatch: Any, *, hold_seconds: float) -> tuple[Any, Any]:
    """Two real requests with one key on two threads (two PostgreSQL connections): the first is held inside the
    view, after claiming the key, for `hold_seconds`; the second arrives meanwhile."""
    from inventory import services

    body = _receipt(tenant)
    entered, results = threading.Event(), {}
    receive = services.stock_receive

    def slow_receive(**kwargs: Any) -> Any:
        entered.set()
        time.sleep(hold_seconds)
        return receive(**kwargs)

    monkeypatch.setattr(services, "stock_receive", slow_receive)

    def call(name: str) -> None:
        try:
            results[name] = _post(tenant, "/api/v1/stock-movements/", body, key="race")
        finally:
            connection.close()

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert entered.wait(30)
    second = threading.Thread(target=call, args=("second",))
    second.start()
    first.join(60)
    second.join(60)
    return results["first"], results["second"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_racing_request_waits_for_the_first_and_replays_its_answer(tenant: Any, monkeypatch: Any) -> None:
    first, second = _race(tenant, monkeypatch, hold_seconds=1.0)  # shorter than the wait
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert StockMovement.unscoped.count() == 1
    assert StockLevel.unscoped.get().on_hand == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_racing_request_gets_409_while_the_first_runs_on_then_replays(tenant: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    first, second = _race(tenant, monkeypatch, hold_seconds=2.0)
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_key_in_flight"
    retry = _post(tenant, "/api/v1/stock-movements/", _receipt_body(), key="race")
    assert (retry.status_code, retry["Idempotent-Replayed"]) == (201, "true")
    assert StockMovement.unscoped.count() == 1


def _receipt_body() -> dict[str, Any]:
    return {"kind": "receipt", "sku": "MUG", "warehouse": "Reno", "quantity": 3}


# ------------------------------------------------------------------------------------------------ rate limits
@pytest.mark.django_db
def test_every_answer_carries_the_rate_limit_and_a_429_says_when_to_retry(tenant: Any, monkeypatch: Any) -> None:
    from erp.api.throttling import ClientRateThrottle

    cache.clear()
    monkeypatch.setattr(
        ClientRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "client": "3/min"}
    )
    first = _get(tenant, "/api/v1/organization/")
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"], first["RateLimit-Policy"]) == ("3", "2", "3;w=60")
    assert 0 < int(first["RateLimit-Reset"]) <= 60
    refused = _get(tenant, "/api/v1/audit-log/")  # a 403 is counted and answered with the headers too
    assert (refused.status_code, refused["RateLimit-Remaining"]) == (403, "1")
    assert _get(tenant, "/api/v1/organization/")["RateLimit-Remaining"] == "0"
    throttled = _get(tenant, "/api/v1/organization/")
    assert throttled.status_code == 429
    assert throttled["RateLimit-Remaining"] == "0"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["error"]["code"] == "throttled"


# ----------------------------------------------------------------------------------------- ETags and fields
@pytest.mark.django_db
def test_an_unchanged_object_or_list_answers_304_and_a_changed_one_200(tenant: Any) -> None:
    sku = SkuFactory(organization=tenant.organization, name="Mug")
    for path in (f"/api/v1/skus/{sku.pk}/", "/api/v1/skus/"):
        first = _get(tenant, path)
        tag = first["ETag"]
        assert tag.startswith('W/"')
        unchanged = _get(tenant, path, HTTP_IF_NONE_MATCH=tag)
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged["ETag"] == tag
    type(sku).unscoped.filter(pk=sku.pk).update(name="Big mug")
    changed = _get(tenant, f"/api/v1/skus/{sku.pk}/", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200
    assert changed["ETag"] != tag


@pytest.mark.django_db
def test_a_patch_with_a_stale_if_match_is_refused_with_412(tenant: Any) -> None:
    sku = SkuFactory(organization=tenant.organization, name="Mug")
    path, auth = f"/api/v1/skus/{sku.pk}/", {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    tag = _get(tenant, path)["ETag"]
    patch = Client().patch(path, {"name": "Cup"}, content_type="application/json", HTTP_IF_MATCH=tag, **auth)
    assert patch.status_code == 200
    stale = Client().patch(path, {"name": "Bowl"}, content_type="application/json", HTTP_IF_MATCH=tag, **auth)
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert type(sku).unscoped.get(pk=sku.pk).name == "Cup"


@pytest.mark.django_db
def test_fields_selects_what_each_object_carries(tenant: Any) -> None:
    OrderFactory(organization=tenant.organization)
    page = _get(tenant, "/api/v1/orders/?fields=id,status").json()
    assert [set(order) for order in page["results"]] == [{"id", "status"}]
    unknown = _get(tenant, "/api/v1/orders/?fields=id,colour")
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["error"]["fields"]["fields"][0]


# ------------------------------------------------------------------------------------ updated_since and expand
@pytest.mark.django_db
def test_updated_since_lists_only_what_changed(tenant: Any) -> None:
    old = OrderFactory(organization=tenant.organization)
    new = OrderFactory(organization=tenant.organization)
    type(old).unscoped.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    since = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    page = _get(tenant, f"/api/v1/orders/?updated_since={since}").json()
    assert [order["id"] for order in page["results"]] == [str(new.pk)]
    bad = _get(tenant, "/api/v1/orders/?updated_since=yesterday")
    assert bad.status_code == 400
    assert "updated_since" in bad.json()["error"]["fields"]


@pytest.mark.django_db
def test_expand_inlines_lines_holds_and_history_in_a_bounded_number_of_queries(
    tenant: Any, django_assert_max_num_queries: Any
) -> None:
    from tests.factories import OrderHoldFactory, OrderLineFactory, OrderStatusChangeFactory

    for _ in range(15):
        order = OrderFactory(organization=tenant.organization)
        OrderLineFactory.create_batch(2, organization=tenant.organization, order=order)
        OrderHoldFactory(organization=tenant.organization, order=order)
        OrderStatusChangeFactory(organization=tenant.organization, order=order)
    with django_assert_max_num_queries(14):
        response = _get(tenant, "/api/v1/orders/?expand=lines,holds,status_history")
    results = response.json()["results"]
    assert len(results) == 15
    assert all(len(order["lines"]) == 2 and len(order["holds"]) == 1 for order in results)
    assert all(len(order["status_history"]) == 1 for order in results)
    plain = _get(tenant, "/api/v1/orders/").json()["results"][0]
    assert "lines" not in plain
    unknown = _get(tenant, "/api/v1/orders/?expand=lines,parcels")
    assert unknown.status_code == 400
    assert "parcels" in unknown.json()["error"]["fields"]["expand"][0]


@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_a_broker_lost_after_the_commit_is_a_503_whose_retry_replays_the_saved_answer(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change and its key committed; only the work handed to Redis on commit failed (docs/adr/0011): the
    retry with the same key must say what was saved, not do it again."""
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from inventory import services

    receive = services.stock_receive

    def receive_then_lose_the_broker(**kwargs: Any) -> Any:
        def broker_gone() -> None:
            raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

        transaction.on_commit(broker_gone)
        return receive(**kwargs)

    monkeypatch.setattr(services, "stock_receive", receive_then_lose_the_broker)
    body = _receipt(tenant)
    lost = _post(tenant, "/api/v1/stock-movements/", body, key="asn-9")
    assert lost.status_code == 503
    assert lost.json()["error"]["code"] == "service_unavailable"
    monkeypatch.setattr(services, "stock_receive", receive)
    retry = _post(tenant, "/api/v1/stock-movements/", body, key="asn-9")
    assert (retry.status_code, retry["Idempotent-Replayed"]) == (201, "true")
    assert StockMovement.unscoped.count() == 1


@pytest.mark.django_db
def test_every_refusal_has_a_machine_readable_code(tenant: Any) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    answers = {
        "not_found": Client().get("/api/v1/orders/00000000-0000-0000-0000-000000000000/", **auth),
        "no_route": Client().get("/api/v1/parcels/", **auth),
        "method_not_allowed": Client().delete("/api/v1/orders/", **auth),
        "unsupported_media_type": Client().post("/api/v1/skus/", "code=A", content_type="text/plain", **auth),
        "not_acceptable": Client().get("/api/v1/orders/", HTTP_ACCEPT="image/png", **auth),
        "not_authenticated": Client().get("/api/v1/orders/"),
    }
    codes = {name: (response.status_code, response.json()["error"]["code"]) for name, response in answers.items()}
    assert codes == {
        "not_found": (404, "not_found"),
        "no_route": (404, "not_found"),
        "method_not_allowed": (405, "method_not_allowed"),
        "unsupported_media_type": (415, "unsupported_media_type"),
        "not_acceptable": (406, "not_acceptable"),
        "not_authenticated": (401, "not_authenticated"),
    }
