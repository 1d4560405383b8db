"""Order import: every order the platform has, once, correct — whatever happens on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.tenancy import organization_scope
from integrations.models import Store
from orders import services
from orders.models import HoldReason, Order, OrderHold, OrderLine, OrderStatus, OrderStatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def home_store(tenant: Any, tiktok: Any) -> Store:
    tiktok.connect(tenant.client)
    return Store.unscoped.select_related("authorization").get(name="Dropline Home US")


def sync(store: Store) -> services.SyncResult:
    with organization_scope(store.organization):
        return services.store_sync(store=store)


def recent(tiktok: Any, store: Store) -> dict[str, tuple[str, int]]:
    """The platform's orders inside the store's backfill window (what a sync must hold)."""
    window_start = tiktok.sandbox.clock.now() - store.backfill_days * 86400 - 300
    return {k: v for k, v in tiktok.platform_orders(store.external_id).items() if v[1] >= window_start}


def ours(store: Store) -> dict[str, tuple[str, int]]:
    return {
        external_id: (status, int(updated.timestamp()))
        for external_id, status, updated in Order.unscoped.filter(store=store).values_list(
            "external_id", "status", "platform_updated_at"
        )
    }


def test_backfill_imports_exactly_the_platforms_orders_of_the_window(home_store: Store, tiktok: Any) -> None:
    result = sync(home_store)
    assert result.acquired
    assert result.finished
    platform = tiktok.platform_orders(home_store.external_id)
    window_start = tiktok.sandbox.clock.now() - home_store.backfill_days * 86400 - 300
    in_window = {k: v for k, v in platform.items() if v[1] >= window_start}
    assert len(in_window) < len(platform)  # the seed has orders last touched long ago: they stay out
    assert ours(home_store) == in_window
    store = Store.unscoped.get(pk=home_store.pk)
    assert store.last_synced_at is not None
    assert store.orders_imported == len(in_window)
    lines = OrderLine.unscoped.filter(order__store=home_store).values_list("quantity", "platform_line_ids")
    world = tiktok.sandbox.world
    unit_ids = sorted(line_id for _, line_ids in lines for line_id in line_ids)
    assert unit_ids == sorted(li.id for order_id in in_window for li in world.orders[order_id].line_items)
    assert all(quantity == len(line_ids) for quantity, line_ids in lines)


def test_a_second_sync_of_unchanged_orders_writes_nothing(home_store: Store) -> None:
    sync(home_store)
    with CaptureQueriesContext(connection) as queries:
        result = sync(home_store)
    assert result.created == 0
    assert result.updated == 0
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))]
    order_updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "orders_')]
    assert writes == []
    assert order_updates == []


def test_a_thousand_orders_page_through_without_gap_or_duplicate(home_store: Store, tiktok: Any) -> None:
    tiktok.control("POST", f"shops/{home_store.external_id}/orders", count=1500, seed=3)
    sync(home_store)
    assert ours(home_store) == recent(tiktok, home_store)


def test_changes_move_forward_and_leave_history(home_store: Store, tiktok: Any) -> None:
    sync(home_store)
    on_hold = next(o for o in Order.unscoped.filter(store=home_store, status=OrderStatus.ON_HOLD))
    assert OrderHold.unscoped.filter(order=on_hold, reason=HoldReason.REMORSE_WINDOW, released_at=None).exists()
    tiktok.control("POST", "clock", advance=2 * 3600)  # the remorse window ends
    sync(home_store)
    on_hold.refresh_from_db()
    assert on_hold.status == OrderStatus.AWAITING_SHIPMENT
    assert on_hold.has_address
    hold = OrderHold.unscoped.get(order=on_hold, reason=HoldReason.REMORSE_WINDOW)
    assert hold.released_at is not None
    history = list(OrderStatusChange.unscoped.filter(order=on_hold).values_list("from_status", "to_status"))
    assert history[-1] == (OrderStatus.ON_HOLD, OrderStatus.AWAITING_SHIPMENT)


def test_an_older_payload_never_overwrites_a_newer_one(home_store: Store, tiktok: Any) -> None:
    sync(home_store)
    order = Order.unscoped.filter(store=home_store, status=OrderStatus.AWAITING_SHIPMENT).first()
    client_orders = services.store_client(home_store).get_orders([order.external_id])
    fresh = client_orders[0]
    stale = type(fresh)(**{**fresh.__dict__, "status": "UNPAID", "updated_at": fresh.updated_at - timedelta(hours=5)})
    with organization_scope(home_store.organization):
        result = services.orders_upsert(store=home_store, orders=[stale])
    assert result.unchanged == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT


def test_holds_for_cancel_requests_and_bad_addresses(home_store: Store) -> None:
    sync(home_store)
    open_holds = set(
        OrderHold.unscoped.filter(order__store=home_store, released_at=None).values_list("reason", flat=True)
    )
    assert HoldReason.CANCEL_REQUESTED in open_holds
    assert HoldReason.ADDRESS_INVALID in open_holds
    held = Order.unscoped.filter(store=home_store, is_held=True)
    assert held.exists()
    for order in held:
        assert order.status in (OrderStatus.ON_HOLD, OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING)


def test_fulfilled_by_tiktok_orders_carry_no_holds(home_store: Store) -> None:
    sync(home_store)
    fbt = Order.unscoped.filter(store=home_store, fulfilled_by="platform")
    assert fbt.exists()
    assert not OrderHold.unscoped.filter(order__in=fbt).exists()


def test_the_access_token_expiring_mid_sync_is_refreshed_and_saved(home_store: Store, tiktok: Any) -> None:
    tiktok.control("POST", f"shops/{home_store.external_id}/orders", count=600, seed=5)
    old_token = home_store.authorization.access_token
    tiktok.control("POST", "tokens/expire", access_token=old_token)
    result = sync(home_store)
    assert result.finished
    assert ours(home_store) == recent(tiktok, home_store)
    home_store.authorization.refresh_from_db()
    assert home_store.authorization.access_token != old_token


@pytest.mark.chaos
def test_a_429_storm_and_503s_still_complete_the_sync(home_store: Store, tiktok: Any, settings: Any) -> None:
    tiktok.control("POST", f"shops/{home_store.external_id}/orders", count=400, seed=9)
    tiktok.control(
        "PUT",
        "faults",
        errors=[
            {"api": "POST /order/{v}/orders/search", "rate": 0.4, "http_status": 429, "code": 36009002},
            {"api": "POST /order/{v}/orders/search", "next": 2, "http_status": 503, "code": 36009003},
        ],
    )
    result = sync(home_store)
    assert result.finished
    assert ours(home_store) == recent(tiktok, home_store)
    stats = tiktok.control("GET", "stats")["apis"]
    search = next(v for k, v in stats.items() if "orders/search" in k)
    assert search["violations"] == 0  # only injected 429s: Dropline itself never went over the limit
    assert search["injected_429"] > 0


def test_two_workers_never_page_the_same_store_at_once(home_store: Store) -> None:
    now = datetime.now(tz=UTC)
    Store.unscoped.filter(pk=home_store.pk).update(sync_lease_until=now + timedelta(minutes=1))
    assert sync(home_store).acquired is False
    Store.unscoped.filter(pk=home_store.pk).update(sync_lease_until=now - timedelta(seconds=1))  # holder died
    assert sync(home_store).acquired is True
