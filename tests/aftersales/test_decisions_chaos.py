"""A real worker SIGKILLed while it is sending the seller's approval, then restarted: the request is decided once on
the platform (its idempotency key), whether the platform took the approval before the kill or never saw it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from aftersales.models import CancellationRequest, Decision, DecisionState
from aftersales.services import decision_request, requests_refresh
from erp.actors import Actor
from erp.tenancy import organization_scope
from orders.models import HoldReason, Order, OrderStatus
from orders.services import store_sync
from tests.workers import Workers, sandbox_env, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
APPROVE = "POST /return_refund/{v}/cancellations/{cancel_id}/approve"


@pytest.mark.parametrize("platform_decides_first", [True, False], ids=["decided-before-kill", "killed-before-sent"])
def test_a_worker_killed_while_approving_leaves_one_decision(
    tenant: Any, tiktok_server: Any, settings: Any, tmp_path: Path, platform_decides_first: bool
) -> None:
    base_url, harness = tiktok_server
    store = harness.connect_store(tenant.organization)
    with organization_scope(tenant.organization):
        store_sync(store=store)
        order = (
            Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT, label_source="platform")
            .exclude(holds__reason__in=[HoldReason.CANCEL_REQUESTED])
            .order_by("external_id")
            .first()
        )
        assert order is not None
        harness.control("POST", f"orders/{order.external_id}/events", type="cancel_request")
        requests_refresh(store=store, order_ids=[order.external_id])
        request = CancellationRequest.objects.get(order=order)
        with transaction.atomic():
            decision, _ = decision_request(request=request, approve=True, actor=Actor.system("test"))
    # The approval hangs at the platform so the kill lands while it is in flight: held then served (the platform
    # decides after our worker died), or slowed on the way in (the worker dies before the platform sees it).
    if platform_decides_first:
        harness.control("PUT", "faults", timeouts=[{"api": APPROVE, "hold_ms": 2500, "next": 1}])
    else:
        harness.control("PUT", "faults", latency=[{"api": APPROVE, "ms": 5000}])
    workers = Workers(
        tmp_path,
        env=sandbox_env(base_url),
    )
    task = {"organization_id": str(tenant.organization.pk), "decision_id": str(decision.pk)}
    try:
        first = workers.start()
        workers.send("aftersales.decision_send", **task)
        wait_for(
            lambda: Decision.unscoped.get(pk=decision.pk).state == DecisionState.SUBMITTING,
            30,
            "the approval to be under way",
        )
        time.sleep(0.5)
        workers.kill(first)
        time.sleep(3.0)  # a held request is served by the platform after our worker is gone
        if not platform_decides_first:
            harness.control("DELETE", "faults")
        workers.start()  # the broker redelivers the task: it finds the decision being sent and leaves it
        workers.send("aftersales.decision_resend", **task)  # what beat does for a stale one
        wait_for(
            lambda: Decision.unscoped.get(pk=decision.pk).state == DecisionState.DONE,
            60,
            "the restarted worker to settle the decision",
        )
        wait_for(  # after the decision, the worker reads the order again: it is cancelled
            lambda: Order.unscoped.get(pk=order.pk).status == OrderStatus.CANCELLED,
            30,
            "the order to be read again",
        )
    finally:
        workers.stop_all()
    decided = harness.control("GET", f"orders/{order.external_id}/aftersale")["cancellations"]
    assert [c["decided_by"] for c in decided] == ["SELLER"]
    assert len(decided) == 1
    decision.refresh_from_db()
    assert decision.attempts >= 2
    assert Order.unscoped.get(pk=order.pk).status == OrderStatus.CANCELLED
