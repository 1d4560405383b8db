"""A real worker SIGKILLed while its label purchase is in flight, then restarted: no order is charged twice and none
is left stuck. Counted in the platform's own label ledger."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from erp.tenancy import organization_scope
from orders.models import HoldReason, Order, OrderStatus
from orders.services import store_sync
from shipping.labels.purchase import label_purchase_request
from shipping.models import LabelPurchase, PurchaseState
from tests.workers import Workers, sandbox_env, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("platform_commits_first", [True, False], ids=["bought-before-kill", "killed-before-bought"])
def test_a_worker_killed_mid_purchase_leaves_exactly_one_label(
    tenant: Any, tiktok_server: Any, settings: Any, tmp_path: Path, platform_commits_first: bool
) -> None:
    base_url, harness = tiktok_server
    store = harness.connect_store(tenant.organization)
    with organization_scope(tenant.organization):
        store_sync(store=store)
        order = (
            Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
            .exclude(fulfilled_by="platform")
            .exclude(holds__reason__in=[HoldReason.ADDRESS_INVALID, HoldReason.CANCEL_REQUESTED])
            .first()
        )
        purchase = label_purchase_request(order=order)
    # The purchase call hangs at the platform: the kill lands while it is in flight. With `hold`, the platform
    # holds the request and then serves it (the label is bought after our worker died); with latency only on the
    # quote, the worker dies before it ever asks to buy.
    if platform_commits_first:
        harness.control(
            "PUT", "faults", timeouts=[{"api": "POST /fulfillment/{v}/packages", "hold_ms": 2500, "next": 1}]
        )
    else:
        harness.control(
            "PUT",
            "faults",
            latency=[{"api": "POST /fulfillment/{v}/orders/{order_id}/shipping_services/query", "ms": 5000}],
        )
    workers = Workers(
        tmp_path,
        env=sandbox_env(base_url),
    )
    task = {"organization_id": str(tenant.organization.pk), "purchase_id": str(purchase.pk)}
    try:
        first = workers.start()
        workers.send("shipping.labels_purchase", **task)
        wait_for(
            lambda: LabelPurchase.unscoped.get(pk=purchase.pk).state == PurchaseState.SUBMITTING,
            30,
            "the purchase to be under way",
        )
        time.sleep(0.5)
        workers.kill(first)
        time.sleep(3.0)  # a held request is served by the platform after our worker is gone
        workers.start()  # the broker redelivers the task: it must not buy blindly
        workers.send("shipping.labels_reconcile", **task)  # what beat does for a stale purchase

        def settled() -> bool:
            return LabelPurchase.unscoped.get(pk=purchase.pk).state == PurchaseState.PURCHASED

        wait_for(settled, 60, "the restarted worker to settle the purchase")
    finally:
        workers.stop_all()
    sold = harness.control("GET", f"labels?order_id={order.external_id}")["labels"]
    assert len(sold) == 1, sold
    purchase.refresh_from_db()
    assert purchase.package_id == sold[0]["package_id"]
    assert purchase.adopted is platform_commits_first
