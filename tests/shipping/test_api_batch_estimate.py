"""A partner's batch keeps the cost estimate it was shown, as the dashboard's confirmation does: `estimate/` hands a
signed token, creating the batch with it stores that estimate beside the final cost; a tampered or foreign token is
a 400 and buys nothing."""

from __future__ import annotations

from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.services import stock_receive
from orders.models import HoldReason, Order, OrderStatus
from orders.services import store_sync
from shipping.models import LabelBatch
from tests.apiclient import API
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def buyable_orders(tenant: Any, tiktok: Any, count: int) -> list[str]:
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    with organization_scope(tenant.organization):  # a stocked catalogue: imported orders reserve, none is held
        warehouse = WarehouseFactory(organization=tenant.organization)
        for code in {line.seller_sku for o in tiktok.sandbox.world.orders.values() for line in o.line_items}:
            sku = SkuFactory(organization=tenant.organization, code=code)
            stock_receive(sku=sku, warehouse=warehouse, quantity=500, actor=Actor.system())
        store_sync(store=store)
        return [
            str(pk)
            for pk in Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
            .exclude(fulfilled_by="platform")
            .exclude(holds__reason__in=[HoldReason.ADDRESS_INVALID, HoldReason.CANCEL_REQUESTED])
            .values_list("pk", flat=True)[:count]
        ]


def test_the_batch_keeps_the_estimate_it_was_created_with(
    tenant: Any, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ids = buyable_orders(tenant, tiktok, 3)
    api = API(tenant.api_key)
    estimate = api.post("label-batches/estimate/", {"orders": ids[:2]})
    assert estimate.status_code == 200, estimate.json()
    shown = estimate.json()
    assert shown["count"] == 2
    assert shown["token"]

    for token, orders in (("forged", ids[:2]), (shown["token"] + "x", ids[:2]), (shown["token"], ids)):
        refused = api.post("label-batches/", {"orders": orders, "estimate": token})
        assert refused.status_code == 400, token
        assert "estimate" in refused.json()["error"]["fields"]
    assert LabelBatch.unscoped.count() == 0  # nothing bought

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("label-batches/", {"orders": ids[:2], "estimate": shown["token"]})
    assert created.status_code == 201, created.json()
    kept = {"count": shown["count"], "quoted": shown["quoted"], "totals": shown["totals"]}
    assert created.json()["estimate"] == kept
    with organization_scope(tenant.organization):
        assert LabelBatch.objects.get(pk=created.json()["id"]).estimate == kept
