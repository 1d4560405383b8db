"""The after-sales API for partner systems: list what waits, read the platform's reject reasons, decide once (a
retried POST answers the first decision), with clear 4xx for what cannot be decided."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from aftersales.models import CancellationRequest, Decision, DecisionState
from erp import services as erp_services
from erp.actors import Actor
from erp.roles import APIKeyScope
from erp.tenancy import organization_scope
from tests.aftersales.test_cancellations import ask_to_cancel, on_platform, world  # noqa: F401  (a fixture)
from tests.shipping.test_cancelled_after_label import deliver

pytestmark = pytest.mark.django_db


def call(key: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    if method == "get":
        return client.get(path)
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_a_partner_lists_waiting_requests_and_approves_one_once(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = world["a"], world["b"]
    for order in (a, b):
        ask_to_cancel(tiktok, order)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)

    waiting = call(tenant.api_key, "get", "/api/v1/cancellation-requests/?waiting=true")
    assert waiting.status_code == 200
    rows = waiting.json()["results"]
    assert {r["order_external_id"] for r in rows} == {a.external_id, b.external_id}
    assert all(r["needs_decision"] and r["respond_by"] for r in rows)
    request_a = next(r for r in rows if r["order_external_id"] == a.external_id)

    path = f"/api/v1/cancellation-requests/{request_a['id']}/decision/"
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        first = call(tenant.api_key, "post", path, {"approve": True})
    assert first.status_code == 202
    assert first.json()["state"] == DecisionState.PENDING  # recorded; a worker sends it
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        again = call(tenant.api_key, "post", path, {"approve": True})  # a retried request
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Decision.unscoped.count() == 1
    assert [c["decided_by"] for c in on_platform(tiktok, a)] == ["SELLER"]
    detail = call(tenant.api_key, "get", f"/api/v1/cancellation-requests/{request_a['id']}/").json()
    assert detail["status"] == "approved"
    assert [d["state"] for d in detail["decisions"]] == ["done"]


def test_a_rejection_needs_one_of_the_platforms_reasons(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    b = world["b"]
    ask_to_cancel(tiktok, b)
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    request = CancellationRequest.unscoped.get(order=b)
    base = f"/api/v1/cancellation-requests/{request.pk}/"
    reasons = call(tenant.api_key, "get", base + "reject-reasons/").json()
    codes = [r["code"] for r in reasons]
    assert "seller_reject_apply_product_has_been_packed" in codes

    for body in ({}, {"approve": "maybe"}, {"approve": False}, {"approve": False, "reason": "made_up"}):
        refused = call(tenant.api_key, "post", base + "decision/", body)
        assert refused.status_code == 400, body
    assert not Decision.unscoped.exists()
    with organization_scope(tenant.organization), django_capture_on_commit_callbacks(execute=True):
        done = call(tenant.api_key, "post", base + "decision/", {"approve": False, "reason": codes[0]})
    assert done.status_code == 202
    assert done.json()["approve"] is False
    assert done.json()["reason_code"] == codes[0]
    # rejected: approving now is refused, nothing is sent
    assert call(tenant.api_key, "post", base + "decision/", {"approve": True}).status_code == 400
    assert Decision.unscoped.count() == 1


def test_a_read_key_reads_but_cannot_decide(
    world: dict[str, Any],  # noqa: F811
    tenant: Any,
    tiktok: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ask_to_cancel(tiktok, world["a"])
    deliver(tiktok, django_capture_on_commit_callbacks, tenant.organization)
    _, read_key = erp_services.api_key_create(
        organization=tenant.organization, actor=Actor.for_user(tenant.owner), name="BI", scope=APIKeyScope.READ
    )
    request = CancellationRequest.unscoped.get()
    assert call(read_key, "get", "/api/v1/cancellation-requests/").status_code == 200
    denied = call(read_key, "post", f"/api/v1/cancellation-requests/{request.pk}/decision/", {"approve": True})
    assert denied.status_code == 403
    assert call(tenant.api_key, "post", "/api/v1/return-requests/x/decision/", {"decision": "nope"}).status_code == 404
    assert not Decision.unscoped.exists()
