"""Label batches over the API: a partner buys, watches and retries; a retried create never starts a second batch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.services import stock_receive
from orders.models import HoldReason, Order, OrderStatus
from orders.services import store_sync
from shipping.models import LabelBatch
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def post(tenant: Any, path: str, body: dict | None = None, key: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {tenant.api_key}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(path, json.dumps(body or {}), content_type="application/json", **headers)


def test_a_partner_buys_a_batch_once_and_reads_its_progress(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    with organization_scope(tenant.organization):  # a stocked catalogue: imported orders reserve, none is held
        warehouse = WarehouseFactory(organization=tenant.organization)
        for code in {line.seller_sku for o in tiktok.sandbox.world.orders.values() for line in o.line_items}:
            sku = SkuFactory(organization=tenant.organization, code=code)
            stock_receive(sku=sku, warehouse=warehouse, quantity=500, actor=Actor.system())
        store_sync(store=store)
        ids = [
            str(pk)
            for pk in Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
            .exclude(fulfilled_by="platform")
            .exclude(holds__reason__in=[HoldReason.ADDRESS_INVALID, HoldReason.CANCEL_REQUESTED])
            .values_list("pk", flat=True)[:2]
        ]

    with django_capture_on_commit_callbacks(execute=True):  # the purchases run after the batch commits
        first = post(tenant, "/api/v1/label-batches/", {"orders": ids}, key="batch-1")
        retry = post(tenant, "/api/v1/label-batches/", {"orders": ids}, key="batch-1")
    assert first.status_code == 201, first.json()
    assert retry.json()["id"] == first.json()["id"]
    assert LabelBatch.unscoped.count() == 1
    detail = (
        Client()
        .get(f"/api/v1/label-batches/{first.json()['id']}/", HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")
        .json()
    )
    assert detail["progress"]["bought"] == 2
    assert {p["state"] for p in detail["purchases"]} == {"purchased"}
    assert len(tiktok.control("GET", "labels")["labels"]) == 2


def test_a_batch_of_only_unbuyable_orders_is_refused_clearly(tenant: Any) -> None:
    response = post(tenant, "/api/v1/label-batches/", {"orders": ["01a21100-0000-7000-8000-000000000000"]})
    assert response.status_code == 400
    assert "No label to buy" in json.dumps(response.json())
