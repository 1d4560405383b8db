"""The broker restarted mid-batch: Redis keeps nothing on disk, so every queued and unacknowledged message of a label
batch is gone. The workers reconnect, beat's sweeps resend the lost work from the database, and every order ends
with exactly one label, bought once, with its PDF kept. Counted in the platform's own label ledger."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from erp.actors import Actor
from erp.tenancy import organization_scope
from integrations.models import Store
from inventory.models import WarehouseKind
from orders.models import Order
from orders.services import store_sync
from shipping import selectors
from shipping import tasks as shipping_tasks
from shipping.labels.batches import label_batch_create
from shipping.models import HandoffItem, LabelPurchase, PurchaseState
from tests.factories import WarehouseFactory
from tests.shipping.test_labels import shippable
from tests.workers import RedisServer, Workers, sandbox_env, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BATCH = 20
ROUTED_TO_SUPPLIER = 4
LATENCY_MS = 200  # every platform call: a batch of 20 on two workers takes ~10 s, so the restart lands mid-way


def connect_and_import(tenant: Any, harness: Any) -> Store:
    store = harness.connect_store(tenant.organization)
    # Enough orders ready to ship for a batch of BATCH, on top of the demo shop's own.
    harness.control(
        "POST",
        f"shops/{store.external_id}/orders",
        count=BATCH,
        seed=7,
        status_mix={"AWAITING_SHIPMENT": 1.0},
        shipping_mix={"TIKTOK": 1.0},
    )
    with organization_scope(tenant.organization):
        store_sync(store=store)
    return store


def states(batch_id: object) -> Counter[str]:
    return Counter(LabelPurchase.unscoped.filter(batch_id=batch_id).values_list("state", flat=True))


def test_the_broker_restarted_mid_batch_and_every_order_still_gets_exactly_one_label(
    tenant: Any,
    tiktok_server: Any,
    settings: Any,
    tmp_path: Path,
    private_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base_url, harness = tiktok_server
    store = connect_and_import(tenant, harness)
    orders = shippable(store, BATCH)
    assert len(orders) == BATCH
    supplier = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.SUPPLIER, name="Shenzhen Sun")
    routed = [order.pk for order in orders[:ROUTED_TO_SUPPLIER]]
    Order.unscoped.filter(pk__in=routed).update(warehouse=supplier)
    harness.control("PUT", "faults", latency=[{"api": "*", "ms": LATENCY_MS}])
    sold_before = ledger(harness, store)

    media = tmp_path / "media"
    workers = Workers(
        tmp_path,
        env={
            **sandbox_env(base_url),
            "MEDIA_ROOT": str(media),
        },
        broker_url=private_redis.url,
        queues=("labels", "documents", "default"),  # where the workers' own follow-up tasks are routed
    )

    # This process runs tasks eagerly: here the batch's wake-ups go to the private broker instead, as a web
    # process's do (erp.tasks.wake publishes with apply_async after commit).
    def to_private_broker(*, kwargs: dict[str, str], retry: bool) -> None:
        workers.send("shipping.labels_purchase", **kwargs)

    private = SimpleNamespace(name="shipping.labels_purchase", apply_async=to_private_broker)
    monkeypatch.setattr(shipping_tasks, "labels_purchase", private)
    try:
        for _ in range(2):
            workers.start()
        with organization_scope(tenant.organization):
            batch = label_batch_create(actor=Actor.system(), orders=orders)

        # Mid-batch: some labels bought, most still waiting in the broker.
        wait_for(lambda: states(batch.pk)[PurchaseState.PURCHASED] >= 3, 30, "the batch to be under way")
        private_redis.kill()
        at_kill = states(batch.pk)
        assert at_kill[PurchaseState.PENDING] >= BATCH // 2, f"the batch was not mid-way: {at_kill}"
        time.sleep(1.0)
        private_redis.start()  # same port, empty: every queued and unacknowledged message is gone

        # The workers survive and reconnect; the labels in flight at the restart finish. Nothing else moves: the
        # broker is empty and the waiting purchases have no message left.
        wait_for(
            lambda: all(log.count("Connected to redis://") >= 2 for log in worker_logs(tmp_path)),
            30,
            "both workers to reconnect to the restarted broker",
        )
        wait_for(lambda: states(batch.pk)[PurchaseState.SUBMITTING] == 0, 15, "the purchases in flight to finish")
        stalled = states(batch.pk)
        time.sleep(1.5)
        assert states(batch.pk) == stalled
        assert stalled[PurchaseState.PENDING] > 0
        assert private_redis.client().llen("labels") == 0  # no purchase message survived the restart
        assert all(process.poll() is None for process in workers.processes), "a worker died with the broker"

        # Recovery comes from the database: beat's sweeps (sent here every 2 s, with a 3 s grace period).
        def recovered() -> bool:
            workers.send("shipping.labels_resume_lost", grace_seconds=3)
            time.sleep(2.0)
            rows = LabelPurchase.unscoped.filter(batch=batch)
            return (
                all(p.state == PurchaseState.PURCHASED and p.label_pdf for p in rows)
                and HandoffItem.unscoped.filter(handoff__batch=batch).count() == ROUTED_TO_SUPPLIER
            )

        wait_for(recovered, 40, "the sweeps to finish the batch")
    finally:
        workers.stop_all()

    # The platform's own ledger: every order of the batch has exactly one label; nothing else was bought.
    sold = ledger(harness, store)[len(sold_before) :]
    assert ledger(harness, store)[: len(sold_before)] == sold_before
    per_order = Counter(label["order_id"] for label in sold)
    assert per_order == {order.external_id: 1 for order in orders}, per_order
    package_of = {label["order_id"]: label["package_id"] for label in sold}
    rows = list(LabelPurchase.unscoped.filter(batch=batch).select_related("order"))
    assert len(rows) == BATCH
    for row in rows:
        assert row.state == PurchaseState.PURCHASED
        assert row.package_id == package_of[row.order.external_id]
        assert (media / row.label_pdf.name).read_bytes()[:4] == b"%PDF"
    with organization_scope(tenant.organization):
        progress = selectors.batch_progress(batch)
        listed = selectors.batches_list().get(pk=batch.pk)
    assert (progress.total, progress.bought, progress.failed, progress.pending) == (BATCH, BATCH, 0, 0)
    assert (listed.total, listed.bought, listed.failed) == (BATCH, BATCH, 0)
    handed = HandoffItem.unscoped.filter(handoff__batch=batch)
    assert sorted(handed.values_list("purchase__order_id", flat=True)) == sorted(routed)
    assert set(handed.values_list("handoff__warehouse_id", flat=True)) == {supplier.pk}


def ledger(harness: Any, store: Store) -> list[dict[str, Any]]:
    return harness.control("GET", f"labels?shop_id={store.external_id}")["labels"]


def worker_logs(tmp_path: Path) -> list[str]:
    return [path.read_text() for path in sorted(tmp_path.glob("worker-*.log"))]
