"""A worker SIGKILLed in the middle of an import: after a restart Dropline holds exactly the platform's orders."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.models import Store
from orders.models import BackfillWindow, Order
from tests.tiktok_harness import TikTokHarness
from tests.workers import Workers, sandbox_env, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_an_import_killed_midway_completes_after_restart_with_no_gap_or_duplicate(
    tenant: Any, tiktok_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base_url, harness = tiktok_server
    store = harness.connect_store(tenant.organization)
    harness.control("POST", f"shops/{store.external_id}/orders", count=4000, seed=11)
    harness.control("PUT", "faults", latency=[{"api": "POST /order/{v}/orders/search", "ms": 60}])
    workers = Workers(
        tmp_path,
        env={
            **sandbox_env(base_url),
            "ORDER_SYNC_LEASE_SECONDS": "3",
        },
    )
    task = {"organization_id": str(tenant.organization.pk), "store_id": str(store.pk)}
    try:
        first = workers.start()
        workers.send("orders.sync_store", **task)
        wait_for(lambda: Order.unscoped.filter(store=store).count() >= 800, 60, "the import to be well under way")
        workers.kill(first)
        killed_at = Order.unscoped.filter(store=store).count()
        platform_orders = harness_in_window(harness, store)
        assert killed_at < len(platform_orders), "the import finished before the kill: nothing was tested"

        workers.start()

        def caught_up() -> bool:  # what beat does every 15 s: ask for a sync until the store is current
            workers.send("orders.sync_store", **task)
            time.sleep(1.0)
            return ours(store) == harness_in_window(harness, store)

        wait_for(caught_up, 90, "the restarted worker to finish the import")
    finally:
        workers.stop_all()
    assert Order.unscoped.filter(store=store).count() == len(harness_in_window(harness, store))
    store.refresh_from_db()
    assert store.sync_cursor is not None
    with organization_scope(store.organization):
        assert Order.objects.values("external_id").distinct().count() == Order.objects.count()


def test_a_first_import_cut_into_windows_survives_a_killed_worker_with_no_gap_or_duplicate(
    tenant: Any, tiktok_server: Any, tmp_path: Path, private_redis: Any
) -> None:
    """Two workers import a first import's windows (docs/adr/0037); one is SIGKILLed mid-window. Its window's
    message comes back from the broker and the store's next sync hands the window out again once its lease ends."""
    base_url, harness = tiktok_server
    store = harness.connect_store(tenant.organization)
    harness.control("POST", f"shops/{store.external_id}/orders", count=4000, seed=11)
    harness.control("PUT", "faults", latency=[{"api": "POST /order/{v}/orders/search", "ms": 60}])
    workers = Workers(
        tmp_path,
        env={**sandbox_env(base_url), "ORDER_SYNC_LEASE_SECONDS": "3", "ORDER_BACKFILL_WINDOW_ORDERS": "500"},
        broker_url=private_redis.url,
        queues=("sync",),  # where the store's sync sends the windows, and the last window the store's sync
    )
    task = {"organization_id": str(tenant.organization.pk), "store_id": str(store.pk)}
    try:
        first = workers.start()
        workers.start()
        workers.send("orders.sync_store", **task)
        wait_for(lambda: BackfillWindow.unscoped.filter(store=store).count() == 4, 60, "the import to be cut")
        wait_for(lambda: Order.unscoped.filter(store=store).count() >= 1000, 60, "the windows to be under way")
        workers.kill(first)
        killed_at = Order.unscoped.filter(store=store).count()
        assert killed_at < len(harness_in_window(harness, store)), "the import finished before the kill"
        workers.start()

        def caught_up() -> bool:  # what beat does every 15 s: ask for a sync until the backfill is done
            workers.send("orders.sync_store", **task)
            time.sleep(1.0)
            # Every order may be in while the killed worker's window is not yet marked done: the backfill ends
            # when its windows are gone (and the store's cursor is set), once that window is handed out again.
            done = not BackfillWindow.unscoped.filter(store=store).exists()
            return done and ours(store) == harness_in_window(harness, store)

        wait_for(caught_up, 120, "the workers to finish the import")
    finally:
        workers.stop_all()
    assert BackfillWindow.unscoped.filter(store=store).count() == 0
    store.refresh_from_db()
    assert store.sync_cursor is not None
    with organization_scope(store.organization):
        assert Order.objects.values("external_id").distinct().count() == Order.objects.count()


def ours(store: Store) -> dict[str, tuple[str, int]]:
    return {
        external_id: (status, int(updated.timestamp()))
        for external_id, status, updated in Order.unscoped.filter(store=store).values_list(
            "external_id", "status", "platform_updated_at"
        )
    }


def harness_in_window(harness: TikTokHarness, store: Store) -> dict[str, tuple[str, int]]:
    window_start = harness.sandbox.clock.now() - store.backfill_days * 86400 - 300
    return {k: v for k, v in harness.platform_orders(store.external_id).items() if v[1] >= window_start}
