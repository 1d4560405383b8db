"""A large first import cut into windows that several workers import at once (docs/adr/0037): every order the
platform has in the backfill, once, whichever windows run, in whatever order, stopped or crashed where they may."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from erp.tenancy import organization_scope
from integrations.errors import PlatformError
from integrations.models import Store
from orders import services
from orders.models import BackfillWindow, Order
from tests.orders.test_sync import ours, recent, sync

pytestmark = pytest.mark.django_db

SEEDED = 1500


@pytest.fixture
def large_store(tenant: Any, tiktok: Any, settings: Any) -> Store:
    """A store whose first import is "large": windows of at least 300 orders, at most 4 of them."""
    settings.ORDER_BACKFILL_WINDOW_ORDERS = 300
    settings.ORDER_BACKFILL_WINDOWS = 4
    tiktok.connect(tenant.client)
    store = Store.unscoped.select_related("authorization").get(name="Dropline Home US")
    tiktok.control("POST", f"shops/{store.external_id}/orders", count=SEEDED, seed=5)
    return store


def windows_of(store: Store) -> list[BackfillWindow]:
    return list(BackfillWindow.unscoped.filter(store=store).select_related("store__authorization").order_by("since"))


def import_window(window: BackfillWindow, time_budget: float | None = None) -> services.SyncResult:
    with organization_scope(window.store.organization):
        return services.backfill_window_import(window=window, time_budget=time_budget)


def platform_updated_in(tiktok: Any, store: Store, window: BackfillWindow) -> int:
    since, until = int(window.since.timestamp()), int(window.until.timestamp())
    return sum(1 for _, updated in recent(tiktok, store).values() if since <= updated < until)


def backfilled(tiktok: Any, store: Store, windows: list[BackfillWindow]) -> dict[str, tuple[str, int]]:
    """What the windows must import: the platform's orders updated before the backfill's end. The ones updated
    since are the store's own sync's, which continues from there."""
    until = int(windows[-1].until.timestamp())
    return {k: v for k, v in recent(tiktok, store).items() if v[1] < until}


def test_a_large_first_import_is_cut_into_windows_of_about_equal_counts(large_store: Store, tiktok: Any) -> None:
    before = datetime.now(tz=UTC)
    result = sync(large_store)

    windows = windows_of(large_store)
    assert [str(w.pk) for w in windows] == sorted(result.windows, key=[str(w.pk) for w in windows].index)
    assert len(windows) == 4
    assert Order.unscoped.filter(store=large_store).count() == 0  # planned, not imported: the workers import
    # Back to back, from the backfill's start to the moment the sync began: no order can fall between two windows.
    assert all(w.since.microsecond == 0 for w in windows)
    assert all(a.until == b.since for a, b in itertools.pairwise(windows))
    assert windows[-1].until >= before - timedelta(seconds=1)
    expected_start = before - timedelta(days=large_store.backfill_days, seconds=300)
    assert abs((windows[0].since - expected_start).total_seconds()) < 5
    total = len(backfilled(tiktok, large_store, windows))
    shares = [platform_updated_in(tiktok, large_store, w) for w in windows]
    assert sum(shares) == total
    assert all(abs(share - total / 4) <= total / 4 * 0.1 for share in shares), shares
    store = Store.unscoped.get(pk=large_store.pk)
    assert store.sync_cursor is None
    assert store.sync_lease_until is None  # the store's sync is free again: the windows are the workers' now


def test_windows_imported_in_any_order_hold_exactly_the_platforms_orders_then_the_store_takes_over(
    large_store: Store, tiktok: Any
) -> None:
    sync(large_store)
    windows = windows_of(large_store)
    results = [import_window(window) for window in reversed(windows)]

    assert [r.backfilled for r in results] == [False, False, False, True]
    expected = backfilled(tiktok, large_store, windows)
    assert sum(r.created for r in results) == len(expected)
    assert ours(large_store) == expected
    assert BackfillWindow.unscoped.filter(store=large_store).count() == 0
    store = Store.unscoped.select_related("authorization").get(pk=large_store.pk)
    assert store.sync_cursor == windows[-1].until
    assert store.orders_imported == len(expected)
    assert store.last_synced_at is not None

    # The store's own sync continues from the end of the backfill: what changed since comes in, nothing twice.
    to_ship = Order.unscoped.filter(store=large_store, status="AWAITING_SHIPMENT").first()
    assert to_ship is not None
    tiktok.order_event(to_ship.external_id, "cancel")
    again = sync(store)
    assert again.windows == ()
    assert again.created == len(recent(tiktok, large_store)) - len(expected)
    assert again.updated >= 1
    to_ship.refresh_from_db()
    assert to_ship.status == "CANCELLED"
    assert ours(large_store) == recent(tiktok, large_store)


def test_a_window_stopped_at_its_time_budget_continues_from_its_own_cursor(large_store: Store, tiktok: Any) -> None:
    sync(large_store)
    first = windows_of(large_store)[0]

    stopped = import_window(first, time_budget=0)  # one page, then the budget is spent
    assert stopped.finished is False
    assert stopped.pages == 1
    first.refresh_from_db()
    assert first.cursor is not None
    assert first.lease_until is None
    assert first.finished_at is None

    resumed = import_window(first)
    assert resumed.finished is True
    assert stopped.created + resumed.created == platform_updated_in(tiktok, large_store, first)


def test_a_worker_that_dies_in_a_window_leaves_it_to_the_next_once_its_lease_ends(
    large_store: Store, tiktok: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(large_store)
    windows = windows_of(large_store)
    commit = services._commit_page
    pages = iter(range(3))

    def commit_then_die(*args: Any, **kwargs: Any) -> Any:
        if next(pages, None) is None:
            raise SystemExit("the worker was killed")
        return commit(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(services, "_commit_page", commit_then_die)
        with pytest.raises(SystemExit):
            import_window(windows[1])
    assert Order.unscoped.filter(store=large_store).count() == 300  # three pages committed

    # The store's next sync (beat) hands out every window but the one whose worker may still be alive...
    assert set(sync(large_store).windows) == {str(w.pk) for w in windows} - {str(windows[1].pk)}
    # ...and that one too once its lease has ended.
    BackfillWindow.unscoped.filter(pk=windows[1].pk).update(lease_until=datetime.now(tz=UTC) - timedelta(seconds=1))
    assert str(windows[1].pk) in sync(large_store).windows

    for window in windows_of(large_store):
        import_window(window)
    expected = backfilled(tiktok, large_store, windows)
    assert ours(large_store) == expected
    assert Order.unscoped.filter(store=large_store).values("external_id").distinct().count() == len(expected)


@pytest.mark.chaos
def test_a_window_the_platform_refuses_says_why_on_the_store_until_it_succeeds(large_store: Store, tiktok: Any) -> None:
    sync(large_store)
    window = windows_of(large_store)[0]
    refused = {"api": "POST /order/{v}/orders/search", "rate": 1.0, "http_status": 400, "code": 36009004}
    tiktok.control("PUT", "faults", errors=[refused])
    with pytest.raises(PlatformError):
        import_window(window)
    store = Store.unscoped.get(pk=large_store.pk)
    assert "36009004" in store.last_sync_error
    window.refresh_from_db()
    assert window.lease_until is None  # released: the next hand-out retries it at once

    assert str(window.pk) in sync(large_store).windows  # the store's sync hands it out again...
    assert "36009004" in Store.unscoped.get(pk=large_store.pk).last_sync_error  # ...and the seller still sees why
    tiktok.control("PUT", "faults")
    for each in windows_of(large_store):
        import_window(each)
    assert Store.unscoped.get(pk=large_store.pk).last_sync_error == ""


def test_two_workers_never_import_the_same_window_at_once(large_store: Store) -> None:
    sync(large_store)
    window = windows_of(large_store)[0]
    BackfillWindow.unscoped.filter(pk=window.pk).update(lease_until=datetime.now(tz=UTC) + timedelta(minutes=1))
    assert import_window(window).acquired is False
    assert Order.unscoped.filter(store=large_store).count() == 0


def test_a_finished_window_is_not_imported_again(large_store: Store, tiktok: Any) -> None:
    sync(large_store)
    window = windows_of(large_store)[0]
    assert import_window(window).finished
    assert import_window(window).acquired is False


def test_a_first_import_below_two_windows_worth_is_imported_in_one_piece(
    large_store: Store, tiktok: Any, settings: Any
) -> None:
    settings.ORDER_BACKFILL_WINDOW_ORDERS = 10_000
    result = sync(large_store)
    assert result.windows == ()
    assert BackfillWindow.unscoped.count() == 0
    assert ours(large_store) == recent(tiktok, large_store)
