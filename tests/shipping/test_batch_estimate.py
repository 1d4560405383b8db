"""Knowing the cost before paying: Buy labels first shows how many labels, their estimated total from TikTok's
quotes, what is left out and what looks wrong; the batch page shows the running total and the final cost; a batch
that ends up with nothing to buy says where its orders went."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.models import WarehouseKind
from orders.models import HoldReason, Order, OrderStatus
from shipping.estimate import batch_estimate
from shipping.labels.batches import batch_plan, label_batch_create
from shipping.models import LabelBatch, LabelPurchase, PurchaseState
from tests.factories import WarehouseFactory, WarehouseLinkFactory
from tests.tiktok_harness import tiktok_client

pytestmark = pytest.mark.django_db


def ready(store: Store, n: int) -> list[Order]:
    """TikTok-shipping orders that may get a label now (their SKU holds lifted: stock is not what these test)."""
    orders = list(
        Order.unscoped.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
        .exclude(fulfilled_by="platform")
        .exclude(holds__reason__in=[HoldReason.ADDRESS_INVALID, HoldReason.CANCEL_REQUESTED])
        .order_by("external_id")[:n]
    )
    Order.unscoped.filter(pk__in=[o.pk for o in orders]).update(is_held=False)
    return orders


def cheapest_total(store: Store, orders: list[Order]) -> Decimal:
    """What TikTok quotes, asked directly: the cheapest eligible service of each order (no rule: cheapest)."""
    client = tiktok_client(store)
    total = Decimal(0)
    for order in orders:
        services = client.get_eligible_shipping_services(order.external_id).services
        total += min(s.price.amount for s in services if s.price is not None)
    return total


def ledger_size(tiktok: Any) -> int:
    return len(tiktok.sandbox.world.labels)


def test_buy_labels_shows_the_count_and_estimated_total_and_buys_only_when_confirmed(
    tenant: Any, connected_store: Store, tiktok: Any, django_capture_on_commit_callbacks: Any
) -> None:
    orders = ready(connected_store, 3)
    expected = cheapest_total(connected_store, orders)
    selection = {"order": [str(o.pk) for o in orders]}

    confirm = tenant.client.post("/shipping/batches/new/", selection)
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Buy 3 official TikTok labels?" in body
    assert f"${expected:,.2f}" in body
    assert "from TikTok's quotes for every order" in body
    assert ledger_size(tiktok) == 0  # nothing bought by looking
    with organization_scope(tenant.organization):
        assert not LabelBatch.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        bought = tenant.client.post("/shipping/batches/new/", selection | {"confirmed": "1"})
    assert bought.status_code == 302
    with organization_scope(tenant.organization):
        batch = LabelBatch.objects.get()
        purchases = list(batch.purchases.all())
    assert batch.estimate == {"count": 3, "quoted": 3, "totals": {"USD": str(expected)}}
    assert {p.state for p in purchases} == {PurchaseState.PURCHASED}
    assert ledger_size(tiktok) == 3
    spent = sum(p.price for p in purchases)
    page = tenant.client.get(bought["Location"]).content.decode()
    assert "Final cost" in page
    assert f"${spent:,.2f}" in page
    assert f"estimated ${expected:,.2f}" in page


def test_a_large_selection_says_the_estimate_is_partial_with_the_count(connected_store: Store, tenant: Any) -> None:
    orders = ready(connected_store, 4)
    with organization_scope(tenant.organization):
        estimate = batch_estimate(batch_plan(Order.objects.filter(pk__in=[o.pk for o in orders])), limit=1)
    assert (estimate.count, estimate.quoted, estimate.complete) == (4, 1, False)
    assert estimate.not_quoted == {
        "not quoted: too many to quote before buying (the batch page shows the real total)": 3
    }


def test_the_api_returns_the_same_estimate_on_request_and_buys_nothing(
    tenant: Any, connected_store: Store, tiktok: Any
) -> None:
    orders = ready(connected_store, 2)
    expected = cheapest_total(connected_store, orders)
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {tenant.api_key}")
    response = api.post(
        "/api/v1/label-batches/estimate/", {"orders": [str(o.pk) for o in orders]}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json() | {"totals": None, "token": None} == {
        "count": 2,
        "quoted": 2,
        "totals": None,
        "not_quoted": {},
        "skipped": {},
        "warnings": {},
        "token": None,  # to create the batch with (tests/shipping/test_api_batch_estimate.py)
    }
    assert Decimal(response.json()["totals"]["USD"]) == expected
    assert ledger_size(tiktok) == 0


def test_a_batch_whose_orders_another_batch_took_a_moment_ago_says_where_they_went(
    tenant: Any, connected_store: Store, tiktok: Any
) -> None:
    [order] = ready(connected_store, 1)
    with organization_scope(tenant.organization):
        first = label_batch_create(actor=Actor.system("Auto-buy"), orders=[order])
        # The second tab chose the same order before the first batch existed (both plans saw it free).
        second = label_batch_create(actor=Actor.system("Second tab"), orders=[order])
        assert LabelPurchase.objects.filter(order=order).count() == 1
        assert second.left_out == [
            {
                "order": order.external_id,
                "order_id": str(order.pk),
                "reason": f"bought by batch {first.reference} a moment ago",
                "batch_id": str(first.pk),
            }
        ]
        later = batch_plan(Order.objects.filter(pk=order.pk))
    assert later.skipped == {f"already in batch {first.reference}": 1}
    page = tenant.client.get(f"/shipping/batches/{second.pk}/").content.decode()
    assert "Nothing to buy in this batch" in page
    assert f"bought by batch {first.reference} a moment ago" in page
    assert f"/shipping/batches/{first.pk}/" in page


def test_an_order_routed_to_a_warehouse_linked_to_another_tiktok_warehouse_is_flagged_before_buying(
    tenant: Any, connected_store: Store
) -> None:
    [order] = ready(connected_store, 1)
    with organization_scope(tenant.organization):
        reno = WarehouseFactory(organization=tenant.organization, name="Reno DC", kind=WarehouseKind.OWN)
        WarehouseLinkFactory(
            organization=tenant.organization,
            store=connected_store,
            warehouse=reno,
            platform_warehouse_id="OTHER-TT-WAREHOUSE",
            platform_name="Reno (TikTok)",
        )
        Order.objects.filter(pk=order.pk).update(warehouse=reno)
    assert order.platform_warehouse_id  # TikTok assigned the order to one of its warehouses

    confirm = tenant.client.post("/shipping/batches/new/", {"order": [str(order.pk)]}).content.decode()
    assert "Check before buying" in confirm
    assert f"Ships from Reno DC, but TikTok assigned it to its warehouse {order.platform_warehouse_id}" in confirm
    detail = tenant.client.get(f"/orders/{order.pk}/").content.decode()
    assert "the label would print" in detail
    assert "link Reno DC to" in detail
